/**
 * Exit codes, highest wins: 3 a case ended in error or the harness failed; 2 usage or
 * profile error (decided by the CLI before any case runs); 1 a SHALL/MUST case failed or
 * a claimed MAY failed (with --strict also an advisory or an inconclusive); 0 otherwise.
 */
import type { Strength, Verdict } from '../results/events.js';

export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, ERROR: 3 } as const;

export interface CaseResult {
  strength: Strength;
  verdict: Verdict;
  advisory?: string;
}

export function exitCodeFor(results: CaseResult[], strict: boolean, interrupted = false): number {
  let code: number = EXIT.OK;
  for (const r of results) {
    if (r.verdict === 'error') code = Math.max(code, EXIT.ERROR);
    // A not-applicable MAY never gets here as fail; a MAY that ran was claimed by the ICS.
    else if (r.verdict === 'fail') code = Math.max(code, EXIT.FAILED);
    else if (strict && (r.verdict === 'inconclusive' || r.advisory)) code = Math.max(code, EXIT.FAILED);
  }
  if (interrupted) code = Math.max(code, EXIT.ERROR);
  return code;
}
