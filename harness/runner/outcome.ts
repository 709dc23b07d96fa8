/**
 * Ends a case early; thrown by CaseContext.fail/inconclusive/notApplicable. 'stopped': the
 * case cannot go on because a SHOULD was not met: a pass with the advisory.
 */
import type { Verdict } from '../events/events.js';

export class CaseStop extends Error {
  constructor(
    readonly verdict: Exclude<Verdict, 'pass'> | 'stopped',
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'CaseStop';
  }
}
