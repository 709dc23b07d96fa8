/**
 * `geisa-adm list`: what the suite checks, for a lab's test plan or a CI matrix. With a
 * profile it also says which cases apply to that device's ICS.
 */
import { ALL_CASES } from '../../suites/index.js';
import type { ConformanceCase } from '../runner/case.js';
import type { Profile } from '../profile/load.js';
import { applicability } from '../runner/run-case.js';

export function listCases(cases: readonly ConformanceCase[] = ALL_CASES, opts: { json?: boolean; profile?: Profile } = {}): string {
  const applies = (c: ConformanceCase) => {
    if (!opts.profile) return undefined;
    const gate = applicability(c.meta, opts.profile);
    return gate ? `${gate.verdict}: ${gate.reason}` : 'runs';
  };
  if (opts.json) {
    return JSON.stringify(cases.map((c) => ({ ...c.meta, ...(opts.profile ? { applicability: applies(c) } : {}) })), null, 2);
  }
  const rows = cases.map((c) => [
    c.meta.id,
    c.meta.strength,
    c.meta.ics ?? '-',
    c.meta.requirements.map((r) => r.id).join(','),
    c.meta.tags.join(','),
    ...(opts.profile ? [applies(c)!] : []),
    c.meta.title,
  ]);
  const head = ['CASE', 'STRENGTH', 'ICS', 'REQUIREMENTS', 'TAGS', ...(opts.profile ? ['FOR THIS DUT'] : []), 'TITLE'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ');
  return [fmt(head), ...rows.map(fmt)].join('\n');
}
