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
import { bootstrapAndRegisterMs, bootstrapAndRegisterFloorMs, retryBackoffsMs } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { reject } from '../../harness/servers/policy.js';
import { describeRequest, expectRegister, registered, serverAccount } from '../steps.js';
import { backoffMs, judgeBootstrapWhileFalse, missingRegister, nextAttemptWaitMs, RETRY_TOLERANCE_MS, sequenceWaitsMs, slowDeviceBoundMs } from './windows.js';

/** Table 6.2.1.1-1: the spec's own number, not the profile's, is what this case judges. */
const DEFAULT_RETRY_TIMER_MS = 60_000;
const DEFAULT_RETRY_COUNT = 5;
const GAPS_JUDGED = 2;
const DEFAULTS_ROW = 'LWM2M-CORE-RETRY-04';
const DOUBLING_ROW = 'LWM2M-CORE-RETRY-01';

export default defineCase(
  {
    id: 'TC-RETRY-07',
    title: 'Registration retry with the default Communication Retry values (/1/x/17-20 absent): 60 s, then 120 s',
    area: 'retry',
    requirements: [
      {
        id: DEFAULTS_ROW,
        section: 'LwM2M Core 1.2 §6.2.1.1, Table 6.2.1.1-1 (Registration Procedures Default Values)',
        quote: 'when /1/x/17-20 are absent: Communication Retry Count 5, Communication Retry Timer 60 s, Sequence Delay Timer 86400 s, Sequence Retry Count 1',
      },
      { id: DOUBLING_ROW, section: 'OMA 1.xml res 18', quote: 'the Retry Timer is multiplied by two to the power of the communication retry attempt minus one' },
      { id: 'LWM2M-CORE-RETRY-03', section: 'OMA 1.xml res 16', quote: 'If set to false, the LwM2M Client will continue with the registration attempts as dictated by the other resource settings' },
    ],
    ics: 'server.communication-retry',
    budget: (k) => bootstrapAndRegisterMs(k) + sequenceWaitsMs(DEFAULT_RETRY_TIMER_MS, GAPS_JUDGED + 1),
    floor: (k) => bootstrapAndRegisterFloorMs(k) + retryBackoffsMs(DEFAULT_RETRY_TIMER_MS, GAPS_JUDGED + 1),
    tags: ['retry', 'timing', 'slow'],
  },
  async (t: CaseContext) => {
    const account = serverAccount(t, { bootstrapOnRegistrationFailure: false });
    t.lwm2mServer.registerPolicy = reject('4.03');
    await registered(t, account, { until: 'finish', what: 'device bootstrapped without /1/x/17-20 (defaults apply)', tool: { feature: 'the bootstrap session', judgedBy: 'TC-BS-*' } });
    const first = await t.precondition('the device registers after Bootstrap-Finish (TC-REG-01 judges it)', () => expectRegister(t, t.timers.startupMs, 'Bootstrap-Finish'));
    const attempts = [first];
    const gaps: string[] = [];
    for (let n = 1; n <= GAPS_JUDGED; n++) {
      const expectedGap = backoffMs(DEFAULT_RETRY_TIMER_MS, n);
      const upper = slowDeviceBoundMs(expectedGap);
      const prev = attempts[attempts.length - 1]!;
      const next = await t.lwm2mServer.expectRegister(nextAttemptWaitMs(DEFAULT_RETRY_TIMER_MS, n), t.signal);
      if (!next) {
        missingRegister(
          t,
          first,
          DEFAULTS_ROW,
          `after Register #${n} ${describeRequest(prev)} was rejected 4.03, no Register #${n + 1} within ${fmtMs(upper)} (expected after ${fmtMs(expectedGap)} = default Retry Timer ${DEFAULT_RETRY_TIMER_MS / 1000} s × 2^${n - 1}; default Retry Count ${DEFAULT_RETRY_COUNT})`,
        );
      }
      attempts.push(next);
      const observed = CaseContext.elapsedMs(prev.monoNs, next.monoNs);
      gaps.push(fmtMs(observed));
      // The first gap is the default Retry Timer itself; the next ones are its doubling (res 18).
      const row = n === 1 ? DEFAULTS_ROW : DOUBLING_ROW;
      const ok = t.checkTiming({
        req: row,
        name: `gap between Register #${n} and #${n + 1}`,
        observedMs: observed,
        span: { fromNs: prev.monoNs, toNs: next.monoNs },
        minMs: expectedGap,
        maxMs: upper,
        toleranceMs: RETRY_TOLERANCE_MS,
        window: `default Retry Timer ${DEFAULT_RETRY_TIMER_MS / 1000} s × 2^${n - 1} (Table 6.2.1.1-1, /1/x/18 absent), upper bound +50 % +1 s`,
      });
      // An early attempt already shows which default the device uses: no need to wait minutes more.
      if (!ok && observed < expectedGap - RETRY_TOLERANCE_MS) {
        t.fail(row, `Register #${n + 1} ${describeRequest(next)} came ${fmtMs(observed)} after #${n} was rejected; with /1/x/18 absent the default Retry Timer is ${DEFAULT_RETRY_TIMER_MS / 1000} s, so the wait is ${fmtMs(expectedGap)}`);
      }
    }
    // Only the first attempts of the default five are seen: every Bootstrap-Request so far came while retries remained.
    judgeBootstrapWhileFalse(t, first, undefined, `the default ${DEFAULT_RETRY_COUNT} attempts`);
    t.pass(
      `with /1/x/17-20 absent, ${attempts.length} rejected Register attempts spaced ${gaps.join(', ')}: the default Retry Timer of ${DEFAULT_RETRY_TIMER_MS / 1000} s, doubling (tolerance −${RETRY_TOLERANCE_MS} ms, +50 % +1 s); the later gaps and the Sequence Delay are not waited for`,
    );
  },
);
