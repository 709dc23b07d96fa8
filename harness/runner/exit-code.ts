/**
 * Exit codes, highest wins: 3 a case ended in error or the harness failed; 2 usage or
 * profile error (decided by the CLI before any case runs); 1 a SHALL/MUST case failed or
 * a claimed MAY failed (with --strict also an advisory or an inconclusive); 0 otherwise.
 *
 * A case in the expected-failures file does not raise the code for what would have made
 * it 1; an error is never forgiven (it says the harness or an action failed, not the
 * device). A listed case that passes is stale: exit 1 with --strict, so the list shrinks.
 */
import type { RunEndEvent, Strength, Verdict } from '../events/events.js';

export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, ERROR: 3 } as const;

export interface CaseResult {
  id?: string;
  strength: Strength;
  verdict: Verdict;
  advisory?: string;
}

/** Whether this result alone makes the run exit 1 (before any expected-failures file). */
export function failsRun(r: CaseResult, strict: boolean): boolean {
  // A not-applicable MAY never gets here as fail; a MAY that ran was claimed by the ICS.
  if (r.verdict === 'fail') return true;
  return strict && (r.verdict === 'inconclusive' || r.advisory !== undefined);
}

/** How an expected-failures entry applies to a result: forgiven, stale, or not at all. */
export function expectationOf(r: CaseResult, strict: boolean, listedReason: string | undefined): { reason: string; stale: boolean } | undefined {
  if (listedReason === undefined) return undefined;
  if (r.verdict !== 'error' && (failsRun(r, strict) || r.advisory !== undefined)) return { reason: listedReason, stale: false };
  if (r.verdict === 'pass') return { reason: listedReason, stale: true };
  return undefined;
}

export function exitCodeFor(results: CaseResult[], strict: boolean, interrupted = false, expected?: ReadonlyMap<string, string>): number {
  let code: number = EXIT.OK;
  for (const r of results) {
    const listed = r.id !== undefined ? expected?.get(r.id) : undefined;
    const e = expectationOf(r, strict, listed);
    if (r.verdict === 'error') code = Math.max(code, EXIT.ERROR);
    else if (e) {
      if (e.stale && strict) code = Math.max(code, EXIT.FAILED);
    } else if (failsRun(r, strict)) code = Math.max(code, EXIT.FAILED);
  }
  if (interrupted) code = Math.max(code, EXIT.ERROR);
  return code;
}

/** The reason of a case that started but never reached a verdict: an error in every count. */
export const INTERRUPTED_REASON = 'case did not finish: run interrupted';

export type VerdictCounts = RunEndEvent['counts'];

/**
 * The run's counts, the one rule behind run-end and every report: each case once, by its
 * verdict (an unfinished case is an error), advisories besides; with an expected-failures
 * file also how many it forgave and how many are stale.
 */
export function countResults(results: readonly CaseResult[], strict = false, expected?: ReadonlyMap<string, string>): VerdictCounts {
  const counts: VerdictCounts = { error: 0, fail: 0, inconclusive: 0, pass: 0, 'not-applicable': 0, advisory: 0 };
  for (const r of results) {
    counts[r.verdict] += 1;
    if (r.advisory !== undefined) counts.advisory += 1;
    const x = expectationOf(r, strict, r.id !== undefined ? expected?.get(r.id) : undefined);
    if (x?.stale) counts.stale = (counts.stale ?? 0) + 1;
    else if (x) counts.expectedFailure = (counts.expectedFailure ?? 0) + 1;
  }
  return counts;
}
