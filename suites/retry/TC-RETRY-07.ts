/*
 * Expected sequence (slow: the LwM2M default timers. The Bootstrap-Server writes no
 * /1/x/17-20, so the defaults of Core Table 6.2.1.1-1 apply: Retry Count 5, Retry Timer
 * 60 s, Sequence Delay Timer 86400 s, Sequence Retry Count 1; it writes Bootstrap on
 * Registration Failure false so that a rejection leads to retries, not to bootstrap):
 *   device -> DM   Register #1 (4.03)       right after Finish
 *   device -> DM   Register #2 (4.03)       60 s after #1 failed   (60 s × 2^0)
 *   device -> DM   Register #3 (4.03)       120 s after #2 failed  (60 s × 2^1)
 * The later gaps (240 s, 480 s) and the 86400 s Sequence Delay would take hours; the case
 * judges the first two gaps, which show the default Retry Timer and its doubling.
 */
import { defineCase } from '../../harness/runner/case.js';
import { fixedBudget } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { reject } from '../../harness/servers/policy.js';
import { bootstrapped, describeRequest, expectRegister, serverAccount } from '../steps.js';

const DEFAULT_RETRY_TIMER_S = 60;
const GAPS_JUDGED = 2;

export default defineCase(
  {
    id: 'TC-RETRY-07',
    title: 'Registration retry with the default Communication Retry values (/1/x/17-20 absent): 60 s, then 120 s',
    area: 'retry',
    requirements: [
      {
        id: 'LWM2M-CORE-RETRY-04',
        section: 'LwM2M Core 1.2 §6.2.1.1, Table 6.2.1.1-1 (Registration Procedures Default Values)',
        quote: 'when /1/x/17-20 are absent: Communication Retry Count 5, Communication Retry Timer 60 s, Sequence Delay Timer 86400 s, Sequence Retry Count 1',
      },
      { id: 'LWM2M-CORE-RETRY-01', section: 'OMA 1.xml res 18', quote: 'the Retry Timer is multiplied by two to the power of the communication retry attempt minus one' },
    ],
    ics: 'server.communication-retry',
    budget: fixedBudget(420_000),
    tags: ['retry', 'timing', 'slow'],
  },
  async (t: CaseContext) => {
    const account = serverAccount(t, { bootstrapOnRegistrationFailure: false });
    t.lwm2mServer.registerPolicy = reject('4.03');
    await bootstrapped(t, account, 'device bootstrapped without /1/x/17-20 (defaults apply)');
    const attempts = [await expectRegister(t, t.ixit.startupBoundS * 1000, 'Bootstrap-Finish')];
    const toleranceMs = 100;
    const gaps: string[] = [];
    for (let k = 1; k <= GAPS_JUDGED; k++) {
      const expectedGap = DEFAULT_RETRY_TIMER_S * 1000 * 2 ** (k - 1);
      const upper = expectedGap * 1.5 + 1000;
      const prev = attempts[attempts.length - 1]!;
      const next = await t.lwm2mServer.expectRegister(upper + toleranceMs, t.signal);
      if (!next) {
        t.fail(`after Register #${k} ${describeRequest(prev)} was rejected 4.03, no Register #${k + 1} within ${fmtMs(upper)} (expected after ${fmtMs(expectedGap)} = default Retry Timer ${DEFAULT_RETRY_TIMER_S} s × 2^${k - 1})`);
      }
      attempts.push(next);
      const observed = CaseContext.elapsedMs(prev.monoNs, next.monoNs);
      gaps.push(fmtMs(observed));
      const ok = t.checkTiming({
        name: `gap between Register #${k} and #${k + 1}`,
        observedMs: observed,
        minMs: expectedGap,
        maxMs: upper,
        toleranceMs,
        window: `default Retry Timer ${DEFAULT_RETRY_TIMER_S} s × 2^${k - 1} (Table 6.2.1.1-1, /1/x/18 absent), upper bound +50 % +1 s`,
      });
      // An early attempt already shows which default the device uses: no need to wait minutes more.
      if (!ok && observed < expectedGap - toleranceMs) {
        t.fail(`Register #${k + 1} ${describeRequest(next)} came ${fmtMs(observed)} after #${k} was rejected; with /1/x/18 absent the default Retry Timer is ${DEFAULT_RETRY_TIMER_S} s, so the wait is ${fmtMs(expectedGap)}`);
      }
    }
    const bs = t.bootstrapServer.bootstrapRequests.all.find((r) => r.monoNs > attempts[0]!.monoNs);
    t.check('no Bootstrap-Request while Bootstrap on Registration Failure is false', bs === undefined, {
      expected: 'registration retries only',
      observed: bs ? `Bootstrap-Request ${describeRequest(bs)}` : 'none',
    });
    t.pass(`with /1/x/17-20 absent, ${attempts.length} rejected Register attempts spaced ${gaps.join(', ')}: the default Retry Timer of ${DEFAULT_RETRY_TIMER_S} s, doubling (tolerance −${toleranceMs} ms, +50 % +1 s); the later gaps and the Sequence Delay are not waited for`);
  },
);
