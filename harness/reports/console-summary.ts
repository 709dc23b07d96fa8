/**
 * The table an operator reads at the end of a run: one row per case, totals, and where
 * the full reports are. Fits about 120 columns; details live in the other reports.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import type { Verdict } from '../events/events.js';
import type { Results } from './results.js';
import { escapeControls, truncate } from './trace-format.js';

export const SUMMARY_WIDTH = 120;

export interface SummaryOptions {
  color: boolean;
  /** Label → path, listed after the totals in the given order. */
  reportPaths?: Record<string, string>;
  /** Total line width the reason column is cut to; defaults to SUMMARY_WIDTH. */
  width?: number;
}

const VERDICT_ORDER: Verdict[] = ['pass', 'fail', 'error', 'inconclusive', 'not-applicable'];
const ADVISORY_MARK = ' +advisory';
const GAP = '  ';

function paint(chalk: ChalkInstance, v: Verdict, s: string): string {
  switch (v) {
    case 'pass':
      return chalk.green(s);
    case 'fail':
      return chalk.red(s);
    case 'error':
      return chalk.magenta(s);
    case 'inconclusive':
      return chalk.yellow(s);
    case 'not-applicable':
      return chalk.gray(s);
  }
}

/** Rendered from results.json's model only, so it cannot disagree with the other reports. */
export function renderSummary(results: Results, opts: SummaryOptions): string {
  // An explicit level, not chalk's own detection, so output depends only on opts.
  const chalk = new Chalk({ level: opts.color ? 1 : 0 });
  const width = opts.width ?? SUMMARY_WIDTH;

  const rows = results.cases.map((c) => {
    const advisory = c.advisory !== null;
    // A passing case's advisory is the news; otherwise the reason explains the verdict.
    const plain = c.verdict === 'pass' && advisory ? `ADVISORY: ${c.advisory}` : c.reason;
    const x = c.expectedFailure;
    const reason = !x ? plain : x.stale ? `STALE expected failure (passes now): ${x.reason}` : `expected failure: ${x.reason} | ${plain}`;
    return {
      id: escapeControls(c.id),
      verdict: c.verdict,
      advisory,
      verdictText: c.verdict + (advisory ? ADVISORY_MARK : ''),
      strength: c.strength,
      duration: formatDuration(c.durationMs),
      reason: escapeControls(reason),
    };
  });

  const head = { id: 'CASE', verdictText: 'VERDICT', strength: 'STRENGTH', duration: 'TIME', reason: 'REASON' };
  const w = {
    id: Math.max(head.id.length, ...rows.map((r) => r.id.length)),
    verdict: Math.max(head.verdictText.length, ...rows.map((r) => r.verdictText.length)),
    strength: Math.max(head.strength.length, ...rows.map((r) => r.strength.length)),
    duration: Math.max(head.duration.length, ...rows.map((r) => r.duration.length)),
  };
  const fixed = w.id + w.verdict + w.strength + w.duration + GAP.length * 4;
  // Never squeeze the reason to nothing: a little overflow beats a reason-less row.
  const reasonWidth = Math.max(20, width - fixed);

  const lines: string[] = [];
  lines.push(
    chalk.bold(
      [head.id.padEnd(w.id), head.verdictText.padEnd(w.verdict), head.strength.padEnd(w.strength), head.duration.padStart(w.duration), head.reason].join(GAP),
    ),
  );
  for (const r of rows) {
    // Pad before painting: escape codes have no width but count in String.length.
    const pad = ' '.repeat(w.verdict - r.verdictText.length);
    const mark = r.advisory ? chalk.yellow(ADVISORY_MARK) : '';
    const verdictCell = paint(chalk, r.verdict, r.verdict) + mark + pad;
    lines.push(
      [r.id.padEnd(w.id), verdictCell, r.strength.padEnd(w.strength), r.duration.padStart(w.duration), truncate(r.reason, reasonWidth)]
        .join(GAP)
        .trimEnd(),
    );
  }
  if (rows.length === 0) lines.push('(no cases ran)');

  lines.push('');
  lines.push(totalsLine(results, chalk));
  const expectedIds = results.cases.filter((c) => c.expectedFailure && !c.expectedFailure.stale).map((c) => c.id);
  const staleIds = results.cases.filter((c) => c.expectedFailure?.stale).map((c) => c.id);
  if (expectedIds.length) lines.push(chalk.yellow(`expected failure (listed, not failing the run): ${expectedIds.join(', ')}`));
  if (staleIds.length) lines.push(chalk.yellow(`stale expected failure (listed but passes now; exit 1 with --strict): ${staleIds.join(', ')}`));
  if (results.run.slowNotRun.length) lines.push(`slow, not run: ${results.run.slowNotRun.join(', ')}: use --slow`);
  if (results.run.strayEvents.length) lines.push(chalk.magenta(`${results.run.strayEvents.length} event(s) name cases that never started; the log is inconsistent`));

  const paths = Object.entries(opts.reportPaths ?? {});
  if (paths.length) {
    lines.push('');
    const labelWidth = Math.max(...paths.map(([k]) => k.length));
    for (const [label, path] of paths) lines.push(`${(label + ':').padEnd(labelWidth + 1)} ${path}`);
  }
  return lines.join('\n') + '\n';
}

function totalsLine(results: Results, chalk: ChalkInstance): string {
  const t = results.counts;
  const parts = VERDICT_ORDER.map((v) => {
    const s = `${t[v]} ${v}`;
    return t[v] > 0 ? paint(chalk, v, s) : s;
  });
  let line = `${t.total} case${t.total === 1 ? '' : 's'}: ${parts.join(', ')}`;
  if (t.advisory > 0) line += `; ${t.advisory} with advisory`;
  if (results.run.interrupted) line += '  ' + chalk.bold.magenta('RUN INTERRUPTED');
  return line;
}

function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Colour only for a terminal, and never when NO_COLOR is present (https://no-color.org);
 * any value counts, including empty, so that exporting it blank still turns colour off.
 */
export function colorWanted(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env['NO_COLOR'] !== undefined) return false;
  return stream.isTTY === true;
}
