/**
 * report.html: one self-contained page for auditors, rendered from results.json only —
 * inline CSS, no script, nothing fetched, so it reads the same offline, in an archive and
 * printed to PDF. Summary (tool, spec versions, DUT identity, ICS, IXIT, counts), the
 * compliance matrix (every catalog requirement; ABSENT where no case judged it), and per
 * case the message sequence chart, expected vs observed, the decoded and the raw trace.
 *
 * The device chooses payloads, paths, queries and its identity strings: every string that
 * reaches the page goes through text() or attrValue(), which escape markup and show control
 * characters visibly (escapeControls), so a DUT cannot inject markup, script or fake rows.
 */
import type { Verdict } from '../events/events.js';
import type { CaseResult, MatrixRow, Results, TraceEntry } from './results.js';
import { checkMark, escapeControls, formatAddress, truncate } from './trace-format.js';
import { writeFileAtomic } from './atomic-write.js';

export const HTML_REPORT_NAME = 'report.html';

export interface HtmlOptions {
  /** Open every collapsible section (raw bytes, profile): for printing to PDF. */
  expandAll?: boolean;
}

/** Escapes text for element content and for double-quoted attribute values alike. */
export function text(s: string): string {
  return escapeControls(s).replace(/[&<>"']/g, (ch) => (ch === '&' ? '&amp;' : ch === '<' ? '&lt;' : ch === '>' ? '&gt;' : ch === '"' ? '&quot;' : '&#39;'));
}

const attrValue = text;

/** A fragment id from a case id: only characters that need no escaping anywhere. */
function anchor(prefix: string, id: string): string {
  return fragmentId(prefix, id);
}

/** The fragment of a case's section in report.html, for links from other pages (the interop matrix). */
export function caseFragment(caseId: string): string {
  return fragmentId('case', caseId);
}

function fragmentId(prefix: string, id: string): string {
  return `${prefix}-${id.replace(/[^A-Za-z0-9_-]/g, (ch) => `_${ch.codePointAt(0)!.toString(16)}`)}`;
}

const VERDICT_LABEL: Record<Verdict | 'ABSENT', string> = {
  pass: 'PASS',
  fail: 'FAIL',
  error: 'ERROR',
  inconclusive: 'INCONCLUSIVE',
  'not-applicable': 'NOT APPLICABLE',
  ABSENT: 'ABSENT',
};

function badge(v: Verdict | 'ABSENT'): string {
  return `<span class="v v-${v}">${VERDICT_LABEL[v]}</span>`;
}

function ms(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '?';
  return `${v.toFixed(3)} ms`;
}

function seconds(v: number): string {
  return Number.isFinite(v) ? `${(v / 1000).toFixed(3)} s` : '?';
}

const CSS = `
:root { --pass:#1a7f37; --fail:#cf222e; --error:#8250df; --inc:#9a6700; --na:#6e7781; --absent:#57606a; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto; max-width: 1200px; padding: 16px 24px; color: #1f2328; overflow-wrap: break-word; }
h1 { font-size: 22px; margin: 8px 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
h3 { font-size: 16px; margin: 20px 0 6px; } h4 { font-size: 14px; margin: 14px 0 4px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { border: 1px solid #d0d7de; padding: 3px 6px; text-align: left; vertical-align: top; }
/* A device's payloads, URIs and hex have no space to break at, and one such cell made the whole
   page scroll sideways: cells may break anywhere (which also lets the table shrink them); short
   cells of our own (numbers, ids, levels, directions) stay whole. */
td { overflow-wrap: anywhere; }
td.nw { white-space: nowrap; }
th { background: #f6f8fa; font-weight: 600; }
td.num, td.id { text-align: right; white-space: nowrap; }
td.id { text-align: left; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
pre { white-space: pre-wrap; word-break: break-all; background: #f6f8fa; padding: 6px; margin: 4px 0; }
.v { display: inline-block; padding: 0 6px; border-radius: 3px; color: #fff; font-weight: 600; font-size: 12px; white-space: nowrap; }
.v-pass { background: var(--pass); } .v-fail { background: var(--fail); } .v-error { background: var(--error); }
.v-inconclusive { background: var(--inc); } .v-not-applicable { background: var(--na); } .v-ABSENT { background: #fff; color: var(--absent); border: 1px dashed var(--absent); }
.banner { padding: 10px 14px; margin: 12px 0; border-radius: 4px; font-weight: 600; }
.banner-interrupted { background: #fff1e5; border: 2px solid #bc4c00; color: #953800; }
.banner-note { background: #ddf4ff; border: 1px solid #54aeff; font-weight: normal; }
.advisory { color: #9a6700; }
tr.check-failed td { background: #ffebe9; }
.case { border-top: 3px solid #d0d7de; margin-top: 28px; padding-top: 4px; page-break-inside: auto; }
.msc { overflow-x: auto; }
.msc svg text { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 11px; }
.muted { color: #57606a; }
details > summary { cursor: pointer; color: #0969da; }
@media print { body { max-width: none; padding: 0; } .case { page-break-before: always; } a { color: inherit; text-decoration: none; } }
`;

export function renderHtml(r: Results, opts: HtmlOptions = {}): string {
  const run = r.run;
  const title = `GEISA ADM conformance report — ${run.dut.name ?? run.dut.endpoint ?? 'unknown device'}`;
  const parts: string[] = [];
  parts.push('<!DOCTYPE html>');
  parts.push('<html lang="en"><head><meta charset="utf-8">');
  // No script and no fetch of any kind: the policy makes that a property of the page itself.
  parts.push(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
  parts.push('<meta name="viewport" content="width=device-width, initial-scale=1">');
  parts.push(`<title>${text(title)}</title><style>${CSS}</style></head><body>`);
  parts.push(`<h1>${text(title)}</h1>`);
  parts.push(`<p class="muted">results.json format ${text(r.format)} version ${r.schemaVersion}; generated by geisa-adm ${text(run.toolVersion ?? 'unknown')}</p>`);
  if (run.interrupted) {
    parts.push(
      `<div class="banner banner-interrupted" id="interrupted">RUN INTERRUPTED: the run stopped before it finished. Only the cases listed ran; a case without a verdict is shown as ERROR.</div>`,
    );
  }
  parts.push(summarySection(r));
  parts.push(casesTable(r));
  parts.push(matrixSection(r));
  parts.push(icsIxitSection(r, opts));
  parts.push('<h2 id="cases">Cases in detail</h2>');
  for (const c of r.cases) parts.push(caseSection(c, opts));
  if (r.cases.length === 0) parts.push('<p>No case ran.</p>');
  parts.push('</body></html>');
  return parts.join('\n') + '\n';
}

function row(label: string, valueHtml: string): string {
  return `<tr><th scope="row">${text(label)}</th><td>${valueHtml}</td></tr>`;
}

function summarySection(r: Results): string {
  const run = r.run;
  const id = run.dut.identity;
  const t = r.counts;
  const rows = [
    row('Tool version', `<span class="mono">${text(run.toolVersion ?? 'unknown')}</span>`),
    row('Git commit', `<span class="mono">${text(run.gitCommit ?? 'unknown')}</span>`),
    row(
      'Specifications',
      text(`OMA LwM2M Core ${run.specVersions.lwm2mCore}, Transport ${run.specVersions.lwm2mTransport}; GEISA specification commit ${run.specVersions.geisaCommit ?? 'unknown (catalog not available)'}`),
    ),
    row('Started', text(run.startedAt ?? 'unknown')),
    row('Ended', text(run.endedAt ?? (run.interrupted ? 'did not end normally' : 'unknown'))),
    row('Host', text(run.host ?? 'unknown')),
    row('DUT', text(`${run.dut.name ?? 'unknown'} (endpoint ${run.dut.endpoint ?? 'unknown'})`)),
    row(
      'DUT identity (/3/0)',
      id
        ? text(
            `manufacturer ${id.manufacturer ?? '?'}, model ${id.model ?? '?'}, serial ${id.serial ?? '?'}, firmware ${id.firmware ?? '?'}` +
              (id.hardwareVersion !== undefined ? `, hardware ${id.hardwareVersion}` : '') +
              (id.softwareVersion !== undefined ? `, software ${id.softwareVersion}` : '') +
              ` — read by ${id.readBy}`,
          )
        : '<span class="muted">not read in this run (no case read /3/0 from a registered device)</span>',
    ),
    row('DUT profile', text(run.profileSource ?? 'unknown')),
    row('Seeded defect', text(run.defect ?? 'none')),
    ...(run.slowNotRun.length ? [row('Selected, not run (slow)', text(run.slowNotRun.join(', ')))] : []),
    row(
      'Capture',
      run.capture
        ? `<span class="mono">${text(run.capture.file)}</span> (${run.capture.packets} packets)${run.capture.decodeHint ? `; decode with <code>${text(run.capture.decodeHint)}</code>` : ''}`
        : '<span class="muted">none</span>',
    ),
    row('Interrupted', run.interrupted ? '<strong>yes</strong>' : 'no'),
    row('Exit code', text(run.exitCode === null ? 'none (run did not end)' : String(run.exitCode))),
    row(
      'Verdicts',
      `${t.total} case${t.total === 1 ? '' : 's'}: ` +
        (['pass', 'fail', 'error', 'inconclusive', 'not-applicable'] as Verdict[]).map((v) => `<span id="count-${v}">${t[v]}</span> ${VERDICT_LABEL[v].toLowerCase()}`).join(', ') +
        (t.advisory ? `; ${t.advisory} with advisory` : ''),
    ),
  ];
  let notes = '';
  if (run.notes.length) {
    notes = `<h4>Run notes</h4><ul>${run.notes.map((n) => `<li><span class="mono">${text(ms(n.atMs))}</span> ${text(n.source)}: ${text(n.text)}</li>`).join('')}</ul>`;
  }
  if (run.strayEvents.length) {
    notes += `<div class="banner banner-interrupted">${run.strayEvents.length} event(s) name cases that never started: the event log is inconsistent.</div>`;
  }
  return `<h2 id="summary">Summary</h2><table class="kv">${rows.join('')}</table>${notes}`;
}

function casesTable(r: Results): string {
  const rows = r.cases.map(
    (c) =>
      `<tr class="case-row" data-case-id="${attrValue(c.id)}" data-verdict="${c.verdict}">` +
      `<td class="id"><a href="#${anchor('case', c.id)}">${text(c.id)}</a></td><td>${text(c.title)}</td><td class="nw">${c.strength}</td>` +
      `<td>${badge(c.verdict)}${c.advisory !== null ? ' <span class="advisory">+advisory</span>' : ''}${expectedFailureMark(c)}</td>` +
      `<td class="num">${seconds(c.durationMs)}</td><td>${text(c.verdict === 'pass' && c.advisory !== null ? `ADVISORY: ${c.advisory}` : c.reason)}</td></tr>`,
  );
  return (
    `<h2 id="results">Cases</h2><table id="case-table"><thead><tr><th>Case</th><th>Title</th><th>Strength</th><th>Verdict</th><th>Time</th><th>Reason</th></tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table>`
  );
}

/** A case in the run's expected-failures file: known (does not fail the run) or stale (passes now). */
function expectedFailureMark(c: CaseResult): string {
  const x = c.expectedFailure;
  if (!x) return '';
  return x.stale
    ? ` <span class="advisory">stale expected failure (listed: ${text(x.reason)}; it passes now)</span>`
    : ` <span class="advisory">expected failure: ${text(x.reason)}</span>`;
}

function matrixSection(r: Results): string {
  const m = r.matrix;
  const note = m.catalog.available
    ? `<p class="muted">Every requirement of the catalog ${text(m.catalog.source ?? '')} (sha256 <span class="mono">${text((m.catalog.sha256 ?? '').slice(0, 16))}</span>…), sections A–F. ABSENT: no case of this run judged it — never a pass.</p>`
    : `<div class="banner banner-note" id="catalog-missing">${text(m.catalog.note ?? 'requirement catalog not available')}</div>`;
  let section: string | null | undefined;
  const rows: string[] = [];
  for (const row of m.rows) {
    if (row.section !== section) {
      section = row.section;
      rows.push(`<tr><th colspan="5">${text(section ?? 'Requirements cited by cases but not in the catalog')}</th></tr>`);
    }
    rows.push(matrixRow(row));
  }
  return (
    `<h2 id="matrix">Compliance matrix</h2>${note}` +
    `<table id="matrix-table"><thead><tr><th>Requirement</th><th>Strength</th><th>Status</th><th>Cases (verdict)</th><th>Requirement text / why absent</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
  );
}

function matrixRow(row: MatrixRow): string {
  const cases = row.cases.length
    ? row.cases.map((c) => `<a href="#${anchor('case', c.id)}">${text(c.id)}</a> ${badge(c.verdict)}`).join('<br>')
    : '<span class="muted">none ran</span>';
  const detail: string[] = [];
  if (row.text) detail.push(text(row.text));
  if (!row.inCatalog) detail.push('<em>not in the requirement catalog</em>');
  if (row.status === 'ABSENT') {
    if (row.notRunCases.length) detail.push(`<strong>Covered by cases not selected for this run:</strong> ${text(row.notRunCases.join(', '))}`);
    if (row.gap) detail.push(`<strong>No case yet (${text(row.gap.reason)}):</strong> ${text(row.gap.note)}`);
    else if (!row.notRunCases.length) detail.push('<strong>No case checks this requirement.</strong>');
  }
  const conf = row.conf ? ` <span class="muted">(conf. ${text(row.conf)})</span>` : '';
  return (
    `<tr class="matrix-row" data-requirement="${attrValue(row.requirementId)}" data-status="${row.status}">` +
    `<td class="mono">${text(row.requirementId)}${conf}</td><td class="nw">${text(row.strength ?? '')}</td><td class="nw">${badge(row.status)}</td><td>${cases}</td><td>${detail.join('<br>')}</td></tr>`
  );
}

function flatten(prefix: string, v: unknown, out: [string, string][]): void {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flatten(prefix ? `${prefix}.${k}` : k, x, out);
  } else out.push([prefix, typeof v === 'string' ? v : JSON.stringify(v)]);
}

function icsIxitSection(r: Results, opts: HtmlOptions): string {
  const ics = Object.entries(r.run.ics);
  const icsRows = ics.length ? ics.map(([k, v]) => `<tr><td class="mono">${text(k)}</td><td>${v ? 'yes' : 'no'}</td></tr>`).join('') : '<tr><td colspan="2" class="muted">nothing declared (defaults apply)</td></tr>';
  const ixit: [string, string][] = [];
  flatten('', r.run.ixit, ixit);
  const ixitRows = ixit.map(([k, v]) => `<tr><td class="mono nw">${text(k)}</td><td class="mono">${text(v)}</td></tr>`).join('');
  const profile = JSON.stringify(r.run.profile, null, 2) ?? 'null';
  return (
    `<h2 id="ics-ixit">Declared features (ICS) and settings (IXIT)</h2>` +
    `<h4>ICS</h4><table id="ics-table"><thead><tr><th>Feature</th><th>Claimed</th></tr></thead><tbody>${icsRows}</tbody></table>` +
    `<h4>IXIT</h4><table id="ixit-table"><thead><tr><th>Setting</th><th>Value</th></tr></thead><tbody>${ixitRows}</tbody></table>` +
    `<details${opts.expandAll ? ' open' : ''}><summary>Whole DUT profile (every secret replaced by its length and SHA-256 fingerprint)</summary><pre>${profile.split('\n').map(text).join('\n')}</pre></details>`
  );
}

function caseSection(c: CaseResult, opts: HtmlOptions): string {
  const out: string[] = [];
  out.push(`<section class="case" id="${anchor('case', c.id)}" data-case-id="${attrValue(c.id)}" data-verdict="${c.verdict}">`);
  out.push(`<h3>${text(c.id)} — ${text(c.title)} ${badge(c.verdict)}</h3>`);
  const reqs = c.requirements.length
    ? `<ul>${c.requirements.map((q) => `<li><span class="mono">${text(q.id)}</span> (${text(q.section)}): ${text(q.quote)}</li>`).join('')}</ul>`
    : '<span class="muted">none listed</span>';
  out.push(
    `<table class="kv">` +
      row('Verdict', `${badge(c.verdict)}${c.finished ? '' : ' <strong>case did not finish</strong>'}`) +
      row('Reason', text(c.reason)) +
      (c.expectedFailure ? row('Expected failure', expectedFailureMark(c)) : '') +
      (c.advisory !== null ? row('Advisory', `<span class="advisory">${text(c.advisory)}</span>`) : '') +
      row('Strength', c.strength) +
      row('Requirements', reqs) +
      row('ICS', text(c.ics ?? '(mandatory feature)')) +
      row('Security', text(c.security)) +
      row('Started', text(`${c.startedAt}${c.startOffsetMs !== null ? ` (run +${(c.startOffsetMs / 1000).toFixed(3)} s)` : ''}`)) +
      row('Duration', `${seconds(c.durationMs)}${c.finished ? '' : ' (until the run stopped)'}`) +
      (c.identity
        ? row('Device identity', text(`${c.identity.path}: manufacturer ${c.identity.manufacturer ?? '?'}, model ${c.identity.model ?? '?'}, serial ${c.identity.serial ?? '?'}, firmware ${c.identity.firmware ?? '?'}`))
        : '') +
      `</table>`,
  );

  const failed = c.checks.filter((k) => !k.ok);
  if (failed.length) {
    out.push('<h4>Expected vs observed (failed checks)</h4>');
    out.push(checkTable(failed, 'failed-checks'));
  }
  out.push('<h4>Checks</h4>');
  out.push(c.checks.length ? checkTable(c.checks, 'checks') : '<p class="muted">No check recorded.</p>');

  out.push('<h4>Message sequence</h4>');
  out.push(c.trace.length ? `<div class="msc">${sequenceChart(c)}</div>` : '<p class="muted">No datagram was exchanged.</p>');

  if (c.notes.length) {
    out.push('<h4>Notes</h4><table class="notes"><thead><tr><th>Time</th><th>Source</th><th>Text</th></tr></thead><tbody>');
    out.push(c.notes.map((n) => `<tr><td class="num mono">+${text(ms(n.atMs))}</td><td class="nw">${text(n.source)}</td><td>${text(n.text)}</td></tr>`).join(''));
    out.push('</tbody></table>');
  }

  if (c.trace.length) {
    out.push('<h4>Decoded trace</h4>');
    out.push('<table class="trace"><thead><tr><th>#</th><th>Time</th><th>Dir</th><th>Endpoint</th><th>Harness</th><th>Device</th><th>Message</th></tr></thead><tbody>');
    c.trace.forEach((d, i) => {
      out.push(
        `<tr><td class="num">${i + 1}</td><td class="num mono">+${text(ms(d.atMs))}</td><td class="nw">${d.direction === 'in' ? 'device → harness' : 'harness → device'}</td>` +
          `<td class="nw">${text(d.endpoint)}</td><td class="mono">${text(formatAddress(d.local))}</td><td class="mono">${text(formatAddress(d.remote))}</td><td class="mono">${text(`${d.summary}`)}</td></tr>`,
      );
    });
    out.push('</tbody></table>');
    out.push(`<details${opts.expandAll ? ' open' : ''}><summary>Raw bytes of the ${c.trace.length} datagram(s) (hex, secrets overwritten)</summary>`);
    out.push(`<pre class="raw">${c.trace.map((d, i) => `#${i + 1} +${ms(d.atMs)} ${d.direction} ${text(d.endpoint)} ${d.bytes.length / 2} B${d.redacted ? ` (${d.redacted} secret value(s) overwritten with zeros)` : ''}\n${hexLines(d.bytes).map(text).join('\n')}`).join('\n')}</pre></details>`);
  }
  out.push('</section>');
  return out.join('\n');
}

function checkTable(checks: CaseResult['checks'], cls: string): string {
  const rows = checks.map(
    (k) =>
      `<tr class="${k.ok ? 'check-ok' : 'check-failed'}"><td class="nw">${k.ok ? 'ok' : `<strong>${text(checkMark(k).trim())}</strong>`}</td><td class="mono nw">${text(k.requirement ?? '')}</td><td class="nw">${text(k.level ?? '')}</td><td>${text(k.name)}</td><td>${text(k.expected)}</td><td>${text(k.observed)}</td><td>${text(k.tolerance ?? '')}</td><td class="num mono">+${text(ms(k.atMs))}</td></tr>`,
  );
  return `<table class="${cls}"><thead><tr><th></th><th>Requirement</th><th>Level</th><th>Check</th><th>Expected</th><th>Observed</th><th>Tolerance</th><th>Time</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** 32 bytes a line, grouped by 4: readable, and line-wrapping cannot split a byte. */
function hexLines(hex: string): string[] {
  const lines: string[] = [];
  for (let i = 0; i < hex.length; i += 64) {
    const chunk = hex.slice(i, i + 64);
    lines.push(`  ${(i / 2).toString(16).padStart(4, '0')}  ${chunk.match(/.{1,8}/g)?.join(' ') ?? ''}`);
  }
  return lines;
}

// --- message sequence chart ------------------------------------------------------------

const MSC_MAX_ROWS = 300;
const MSC_LABEL_MAX = 90;

/** Lanes: the device, then every harness endpoint; the two fake servers always have theirs. */
function lanesOf(trace: TraceEntry[]): { key: string; label: string }[] {
  const endpoints = new Set<string>(['bootstrap-server', 'lwm2m-server']);
  for (const d of trace) endpoints.add(d.endpoint);
  const order = (e: string) => (e.startsWith('bootstrap-server') ? 0 : e.startsWith('lwm2m-server') ? 1 : 2);
  const sorted = [...endpoints].sort((a, b) => order(a) - order(b) || a.localeCompare(b));
  return [{ key: '', label: 'Device (DUT)' }, ...sorted.map((e) => ({ key: e, label: e === 'bootstrap-server' ? 'Bootstrap-Server' : e === 'lwm2m-server' ? 'LwM2M Server' : e }))];
}

function sequenceChart(c: CaseResult): string {
  const lanes = lanesOf(c.trace);
  const shown = c.trace.slice(0, MSC_MAX_ROWS);
  // time | one column per lane, arrows between them | the message, on the arrow's row
  const timeCol = 100;
  const laneGap = 170;
  const head = 34;
  const rowH = 20;
  const x = (i: number) => timeCol + 60 + i * laneGap;
  const labelX = x(lanes.length - 1) + 70;
  const width = labelX + 600;
  const height = head + rowH * shown.length + 12;
  const laneIndex = new Map(lanes.map((l, i) => [l.key, i]));
  const svg: string[] = [];
  svg.push(
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" width="${width}" height="${height}" style="max-width:100%;height:auto" viewBox="0 0 ${width} ${height}" data-case-id="${attrValue(c.id)}">`,
  );
  svg.push(`<title>${text(`Message sequence of ${c.id}`)}</title>`);
  svg.push(`<text x="4" y="16" font-weight="bold">time</text>`);
  svg.push(`<text x="${labelX}" y="16" font-weight="bold">message</text>`);
  lanes.forEach((l, i) => {
    svg.push(`<text x="${x(i)}" y="16" text-anchor="middle" font-weight="bold">${text(l.label)}</text>`);
    svg.push(`<line x1="${x(i)}" y1="24" x2="${x(i)}" y2="${height - 4}" stroke="#8c959f" stroke-dasharray="4 3"/>`);
  });
  shown.forEach((d, i) => {
    const y = head + rowH * i + 8;
    const server = laneIndex.get(d.endpoint) ?? 1;
    const [from, to] = d.direction === 'in' ? [0, server] : [server, 0];
    const x1 = x(from);
    const x2 = x(to);
    const color = d.layer === 'dtls' ? '#6e7781' : d.direction === 'in' ? '#0969da' : '#1a7f37';
    const dash = d.layer === 'dtls' ? ' stroke-dasharray="5 3"' : '';
    const dir = x2 > x1 ? 1 : -1;
    if (i % 2 === 1) svg.push(`<rect x="0" y="${y - rowH / 2 - 1}" width="${width}" height="${rowH}" fill="#f6f8fa" fill-opacity="0.6"/>`);
    svg.push(`<text x="4" y="${y + 4}">${text(ms(d.atMs))}</text>`);
    svg.push(`<line x1="${x1}" y1="${y}" x2="${x2 - dir * 7}" y2="${y}" stroke="${color}" stroke-width="1.5"${dash}/>`);
    svg.push(`<polygon points="${x2},${y} ${x2 - dir * 8},${y - 4} ${x2 - dir * 8},${y + 4}" fill="${color}"/>`);
    const label = truncate(`${d.summary}`, MSC_LABEL_MAX);
    svg.push(`<text x="${labelX}" y="${y + 4}" fill="${color}">${text(label)}</text>`);
  });
  svg.push('</svg>');
  const more = c.trace.length > shown.length ? `<p class="muted">Chart shows the first ${shown.length} of ${c.trace.length} datagrams; the trace table lists all.</p>` : '';
  return svg.join('') + more;
}

export function writeHtml(results: Results, file: string, opts: HtmlOptions = {}): void {
  writeFileAtomic(file, renderHtml(results, opts));
}
