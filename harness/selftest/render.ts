/**
 * The matrix as an operator reads it: one row per defect (the reference device first), one
 * narrow column per case with its id written downwards, a mark per cell, then every cell
 * that is not what it should be with its full reason.
 */
import type { MatrixCell, MatrixResult } from './matrix.js';
import { explainCell } from './matrix.js';

export const LEGEND = 'K killed   S SURVIVED (declared break not killed)   C COLLATERAL (left-alone case did not pass)   . pass   n not applicable   ! reference did not pass   ? other verdict (--full)   (blank) not in the matrix';

function mark(c: MatrixCell): string {
  switch (c.outcome) {
    case 'killed':
      return 'K';
    case 'survived':
      return 'S';
    case 'collateral':
      return 'C';
    case 'pass':
      return '.';
    case 'not-applicable':
      return 'n';
    case 'other':
      return c.role === 'reference' ? '!' : '?';
  }
}

export function renderMatrix(result: MatrixResult, caseOrder: readonly string[]): string {
  const cells = result.cells;
  const caseIds = caseOrder.filter((id) => cells.some((c) => c.caseId === id));
  const rows: (string | null)[] = [];
  if (cells.some((c) => c.defect === null)) rows.push(null);
  for (const c of cells) if (c.defect !== null && !rows.includes(c.defect)) rows.push(c.defect);
  const label = (r: string | null) => r ?? '(reference device)';
  const labelWidth = Math.max(6, ...rows.map((r) => label(r).length));
  const short = caseIds.map((id) => id.replace(/^TC-/, ''));
  const height = Math.max(0, ...short.map((s) => s.length));

  const lines: string[] = [];
  for (let i = 0; i < height; i++) {
    lines.push(
      ' '.repeat(labelWidth) +
        '  ' +
        short
          .map((s) => s[i] ?? ' ')
          .join(' ')
          .trimEnd(),
    );
  }
  const byKey = new Map(cells.map((c) => [`${c.defect ?? ''}\u0000${c.caseId}`, c]));
  for (const r of rows) {
    const marks = caseIds.map((id) => {
      const c = byKey.get(`${r ?? ''}\u0000${id}`);
      return c ? mark(c) : ' ';
    });
    const rowCells = cells.filter((c) => c.defect === r);
    const verdict = rowCells.every((c) => c.ok) ? 'ok' : 'NOT OK';
    lines.push(`${label(r).padEnd(labelWidth)}  ${marks.join(' ')}  ${verdict}`);
  }
  lines.push('');
  lines.push(LEGEND);

  const bad = cells.filter((c) => !c.ok);
  const stalled = cells.filter((c) => c.stalledAttempt);
  const undeclaredKills = cells.filter((c) => c.role === 'undeclared' && c.outcome === 'killed');
  if (bad.length) {
    lines.push('', `${bad.length} cell(s) not as declared:`);
    for (const c of bad) lines.push(`  ${explainCell(c)}`);
  }
  if (stalled.length) {
    lines.push('', `${stalled.length} cell(s) were inconclusive because the harness's event loop stalled under load and were run again alone:`);
    for (const c of stalled) lines.push(`  ${explainCell(c)}`);
  }
  if (undeclaredKills.length) {
    lines.push('', `${undeclaredKills.length} undeclared cell(s) also killed (candidates for a defect's breaks list):`);
    for (const c of undeclaredKills) lines.push(`  ${c.defect} × ${c.caseId}: ${c.verdict}: ${c.reason}`);
  }
  const judged = cells.filter((c) => c.role !== 'undeclared');
  const count = (o: string) => judged.filter((c) => c.outcome === o).length;
  lines.push(
    '',
    `${cells.length} cells (${result.scope}, ${result.concurrency} in parallel) in ${(result.wallMs / 1000).toFixed(1)} s: ` +
      `${count('killed')} killed, ${count('survived')} survived, ${count('collateral')} collateral, ` +
      `${judged.filter((c) => c.role === 'reference' && c.ok).length}/${judged.filter((c) => c.role === 'reference').length} reference ok` +
      (result.interrupted ? '  INTERRUPTED' : ''),
  );
  lines.push(result.ok ? 'SELFTEST OK: every declared break killed, no collateral, the reference device passes' : 'SELFTEST FAILED');
  return lines.join('\n') + '\n';
}
