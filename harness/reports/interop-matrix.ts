/**
 * The interop matrix of a run against several devices (`geisa-adm run --dut a --dut b`):
 * device × case, each cell the verdict from that device's own results.json and a link to
 * the case in that device's report.html. It is made from the devices' results only, so a
 * cell can never say anything its device's report does not; matrix.json also records the
 * SHA-256 of each results.json it was made from.
 *
 * Like report.html, matrix.html is one self-contained page: no script, nothing fetched,
 * every string escaped (profile names and device identities are not ours).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Verdict } from '../events/events.js';
import type { Results } from './results.js';
import { RESULTS_NAME } from './results.js';
import { HTML_REPORT_NAME, caseFragment, text } from './html.js';
import { writeFileAtomic } from './atomic-write.js';

export const MATRIX_JSON_NAME = 'matrix.json';
export const MATRIX_HTML_NAME = 'matrix.html';
export const MATRIX_FORMAT = 'geisa-adm-interop-matrix';
export const MATRIX_SCHEMA_VERSION = 1;

/** One device of the run, once its suite ended and its reports were written. */
export interface MatrixDeviceInput {
  /** Its folder under --out, also its name in the matrix. */
  folder: string;
  /** Absolute path of that folder, to read its results.json back. */
  dir: string;
  exitCode: number;
  /** How many cases it ran at once. */
  jobs: number;
  /** null when its results.json could not be written: the row then says so. */
  results: Results | null;
}

export interface MatrixCell {
  verdict: Verdict;
  advisory: boolean;
  /** Listed in the expected-failures file (failed as listed, or stale). */
  expectedFailure: boolean;
  /** Relative to the matrix: the case's section in that device's report.html. */
  link: string;
}

export interface InteropMatrix {
  format: typeof MATRIX_FORMAT;
  schemaVersion: number;
  generatedAt: string;
  /** Every case any device ran, in the suite's order. */
  cases: { id: string; title: string; strength: string }[];
  devices: {
    folder: string;
    name: string | null;
    endpoint: string | null;
    profileSource: string | null;
    identity: { manufacturer: string | null; model: string | null; firmware: string | null } | null;
    exitCode: number;
    interrupted: boolean;
    jobs: number;
    /** Paths relative to the matrix; results null when it could not be written. */
    results: string | null;
    report: string;
    /** SHA-256 of the results.json the row was made from. */
    resultsSha256: string | null;
    counts: Record<Verdict, number> & { advisory: number; total: number };
    /** Case id → its cell; a case the device did not run (not selected, interrupted) has none. */
    cells: Record<string, MatrixCell>;
  }[];
  /** The run's exit code: the worst of the devices'. */
  exitCode: number;
}

const EMPTY_COUNTS = { pass: 0, fail: 0, error: 0, inconclusive: 0, 'not-applicable': 0, advisory: 0, total: 0 };

export function buildInteropMatrix(devices: readonly MatrixDeviceInput[], caseOrder: readonly string[], exitCode: number): InteropMatrix {
  const titles = new Map<string, { title: string; strength: string }>();
  for (const d of devices) for (const c of d.results?.cases ?? []) if (!titles.has(c.id)) titles.set(c.id, { title: c.title, strength: c.strength });
  const rank = new Map(caseOrder.map((id, i) => [id, i]));
  const ids = [...titles.keys()].sort((a, b) => (rank.get(a) ?? Infinity) - (rank.get(b) ?? Infinity) || a.localeCompare(b));
  return {
    format: MATRIX_FORMAT,
    schemaVersion: MATRIX_SCHEMA_VERSION,
    generatedAt: new Date().toISOString(),
    cases: ids.map((id) => ({ id, ...titles.get(id)! })),
    devices: devices.map((d) => {
      const r = d.results;
      const cells: Record<string, MatrixCell> = {};
      for (const c of r?.cases ?? []) {
        cells[c.id] = {
          verdict: c.verdict,
          advisory: c.advisory !== null,
          expectedFailure: c.expectedFailure !== null,
          link: `${d.folder}/${HTML_REPORT_NAME}#${caseFragment(c.id)}`,
        };
      }
      const id = r?.run.dut.identity ?? null;
      return {
        folder: d.folder,
        name: r?.run.dut.name ?? null,
        endpoint: r?.run.dut.endpoint ?? null,
        profileSource: r?.run.profileSource ?? null,
        identity: id ? { manufacturer: id.manufacturer, model: id.model, firmware: id.firmware } : null,
        exitCode: d.exitCode,
        interrupted: r?.run.interrupted ?? true,
        jobs: d.jobs,
        results: r ? `${d.folder}/${RESULTS_NAME}` : null,
        report: `${d.folder}/${HTML_REPORT_NAME}`,
        resultsSha256: r ? sha256OrNull(join(d.dir, RESULTS_NAME)) : null,
        counts: r ? { ...r.counts } : { ...EMPTY_COUNTS },
        cells,
      };
    }),
    exitCode,
  };
}

function sha256OrNull(file: string): string | null {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return null;
  }
}

const LABEL: Record<Verdict, string> = { pass: 'PASS', fail: 'FAIL', error: 'ERROR', inconclusive: 'INCONCLUSIVE', 'not-applicable': 'N/A' };

const CSS = `
:root { --pass:#1a7f37; --fail:#cf222e; --error:#8250df; --inc:#9a6700; --na:#6e7781; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; padding: 16px 24px; color: #1f2328; }
h1 { font-size: 22px; margin: 8px 0 4px; }
table { border-collapse: collapse; margin: 6px 0 12px; }
th, td { border: 1px solid #d0d7de; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
td.cell { text-align: center; white-space: nowrap; }
td.cell a { display: block; color: #fff; font-weight: 600; font-size: 12px; text-decoration: none; padding: 0 4px; border-radius: 3px; }
td.v-pass a { background: var(--pass); } td.v-fail a { background: var(--fail); } td.v-error a { background: var(--error); }
td.v-inconclusive a { background: var(--inc); } td.v-not-applicable a { background: var(--na); }
td.none { color: #57606a; text-align: center; }
th.mono { white-space: nowrap; }
.muted { color: #57606a; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
`;

export function renderInteropMatrixHtml(m: InteropMatrix): string {
  const head = m.devices
    .map(
      (d) =>
        `<th scope="col" data-device="${text(d.folder)}"><a href="${text(d.report)}">${text(d.folder)}</a><br><span class="muted">${text(d.name ?? '?')}</span><br>` +
        `<span class="mono muted">${text(d.endpoint ?? '?')}</span><br>exit ${d.exitCode}${d.interrupted ? ', <strong>interrupted</strong>' : ''}</th>`,
    )
    .join('');
  const rows = m.cases.map((c) => {
    const cells = m.devices
      .map((d) => {
        const cell = d.cells[c.id];
        if (!cell) return `<td class="none" data-device="${text(d.folder)}" data-case-id="${text(c.id)}">not run</td>`;
        const label = `${LABEL[cell.verdict]}${cell.advisory ? ' +adv' : ''}${cell.expectedFailure ? ' (xfail)' : ''}`;
        return `<td class="cell v-${cell.verdict}" data-device="${text(d.folder)}" data-case-id="${text(c.id)}" data-verdict="${cell.verdict}"><a href="${text(cell.link)}">${text(label)}</a></td>`;
      })
      .join('');
    return `<tr><th scope="row" class="mono">${text(c.id)}</th><td>${text(c.strength)}</td><td>${text(c.title)}</td>${cells}</tr>`;
  });
  const totals = m.devices
    .map((d) => `<td>${d.counts.total} cases: ${d.counts.pass} pass, ${d.counts.fail} fail, ${d.counts.error} error, ${d.counts.inconclusive} inconclusive, ${d.counts['not-applicable']} n/a${d.counts.advisory ? `, ${d.counts.advisory} advisory` : ''}</td>`)
    .join('');
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    `<title>GEISA ADM interop matrix</title><style>${CSS}</style></head><body>`,
    `<h1>GEISA ADM interop matrix: ${m.devices.length} devices × ${m.cases.length} cases</h1>`,
    `<p class="muted">Generated ${text(m.generatedAt)}; run exit code ${m.exitCode} (the worst of the devices'). Each cell is the verdict in that device's results.json and links to the case in its report.</p>`,
    `<table id="interop-matrix"><thead><tr><th>Case</th><th>Strength</th><th>Title</th>${head}</tr></thead><tbody>`,
    ...rows,
    `<tr><th scope="row" colspan="3">Totals</th>${totals}</tr>`,
    '</tbody></table></body></html>',
  ].join('\n') + '\n';
}

/** Writes matrix.json and matrix.html into outDir (each atomically); returns their paths. */
export function writeInteropMatrix(m: InteropMatrix, outDir: string): { json: string; html: string } {
  const json = join(outDir, MATRIX_JSON_NAME);
  const html = join(outDir, MATRIX_HTML_NAME);
  writeFileAtomic(json, JSON.stringify(m, null, 2) + '\n');
  writeFileAtomic(html, renderInteropMatrixHtml(m));
  return { json, html };
}
