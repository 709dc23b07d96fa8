/**
 * `geisa-adm list`: what the suite checks, for a lab's test plan or a CI matrix. With a
 * profile it also says which cases apply to that device's ICS, and how long each may run
 * with that device's timers (its budget, harness/runner/budget.ts) and all of them together.
 */
import { ALL_CASES } from '../../suites/index.js';
import type { ConformanceCase } from '../runner/case.js';
import type { Profile } from '../profile/load.js';
import { applicability } from '../runner/run-case.js';
import { caseBudgetMs } from '../runner/budget.js';

function fmtDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s` : `${s} s`;
}

export function listCases(cases: readonly ConformanceCase[] = ALL_CASES, opts: { json?: boolean; profile?: Profile } = {}): string {
  const profile = opts.profile;
  const applies = (c: ConformanceCase) => {
    if (!profile) return undefined;
    const gate = applicability(c.meta, profile);
    return gate ? `${gate.verdict}: ${gate.reason}` : 'runs';
  };
  const budgetOf = (c: ConformanceCase) => (profile ? caseBudgetMs(c.budget, profile.ixit) : undefined);
  const runs = (c: ConformanceCase) => applies(c) === 'runs';
  const totalMs = profile ? cases.filter(runs).reduce((n, c) => n + budgetOf(c)!, 0) : 0;
  if (opts.json) {
    return JSON.stringify(
      cases.map((c) => ({ ...c.meta, ...(profile ? { applicability: applies(c), budgetMs: budgetOf(c) } : {}) })),
      null,
      2,
    );
  }
  const rows = cases.map((c) => [c.meta.id, c.meta.strength, c.meta.ics ?? '-', c.meta.requirements.map((r) => r.id).join(','), c.meta.tags.join(','), ...(profile ? [applies(c)!, fmtDuration(budgetOf(c)!)] : []), c.meta.title]);
  const head = ['CASE', 'STRENGTH', 'ICS', 'REQUIREMENTS', 'TAGS', ...(profile ? ['FOR THIS DUT', 'BUDGET'] : []), 'TITLE'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ');
  const lines = [fmt(head), ...rows.map(fmt)];
  if (profile) {
    lines.push('', `budget of the ${cases.filter(runs).length} cases that run for this DUT: ${fmtDuration(totalMs)} at most (each case's budget comes from the profile's IXIT timers plus a margin; manual actions are not counted)`);
  }
  return lines.join('\n');
}
