/** Ends a case early with a verdict; thrown by CaseContext.fail/inconclusive/notApplicable. */
import type { Verdict } from '../results/events.js';

export class CaseStop extends Error {
  constructor(
    readonly verdict: Exclude<Verdict, 'pass'>,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'CaseStop';
  }
}
