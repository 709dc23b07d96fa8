/*
 * Expected sequence (Bootstrap on Registration Failure written false, Retry Count R,
 * Retry Timer T written at bootstrap, Sequence Retry Count 1; the server rejects every
 * Register with 4.03):
 *   device -> DM   Register #1                    right after Finish
 *   device -> DM   Register #k+1                  T × 2^(k−1) after Register #k failed
 *   ... R attempts in the sequence; no Bootstrap-Request while attempts remain (resource 16
 *   is false: a SHOULD). What follows the last failed attempt of the last sequence is not
 *   specified: a Bootstrap-Request then is noted, never judged.
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, bootstrapAndRegisterFloorMs, retryBackoffsMs } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { reject } from '../../harness/servers/policy.js';
import { describeRequest, expectRegister, registered, serverAccount } from '../steps.js';
import { backoffMs, judgeBootstrapWhileFalse, missingRegister, nextAttemptWaitMs, RETRY_TOLERANCE_MS, sequenceWaitsMs, slowDeviceBoundMs, writtenSettings } from './windows.js';

const RETRY_ROW = 'LWM2M-CORE-RETRY-01';

export default defineCase(
  {
    id: 'TC-RETRY-01',
    title: 'Registration retry: attempts spaced Retry Timer × 2^(k−1) within a sequence',
    area: 'retry',
    requirements: [
      { id: RETRY_ROW, section: 'LwM2M Core 1.2 §6.2.1.1; OMA 1.xml res 17, 18', quote: 'after failed attempt k the client waits Communication Retry Timer × 2^(k−1) before the next, up to Communication Retry Count attempts' },
      { id: 'LWM2M-CORE-RETRY-03', section: 'OMA 1.xml res 16', quote: 'If set to false, the LwM2M Client will continue with the registration attempts as dictated by the other resource settings' },
    ],
    ics: 'server.communication-retry',
    budget: (k) => bootstrapAndRegisterMs(k) + sequenceWaitsMs(k.retryTimerMs, k.retryCount),
    floor: (k) => bootstrapAndRegisterFloorMs(k) + retryBackoffsMs(k.retryTimerMs, k.retryCount),
    tags: ['retry', 'timing'],
  },
  async (t: CaseContext) => {
    const k = t.timers;
    const retryCount = k.retryCount;
    const settings = { retryCount, retryTimerMs: k.retryTimerMs, sequenceDelayMs: k.sequenceDelayMs, sequenceRetryCount: 1 };
    const account = serverAccount(t, { bootstrapOnRegistrationFailure: false, ...writtenSettings(settings) });
    // Every Register is answered 4.03 at once: each attempt fails immediately, so the gaps are the device's own timers.
    t.lwm2mServer.registerPolicy = reject('4.03');

    await registered(t, account, { until: 'finish', what: 'device bootstrapped with the retry settings', tool: { feature: 'the bootstrap session', judgedBy: 'TC-BS-*' } });
    const first = await t.precondition('the device registers after Bootstrap-Finish (TC-REG-01 judges it)', () => expectRegister(t, k.startupMs, 'Bootstrap-Finish'));
    const attempts = [first];
    for (let n = 1; n < retryCount; n++) {
      const expectedGap = backoffMs(k.retryTimerMs, n);
      // Lower bound strict (the spec fixes the wait); upper bound generous (+50 % +1 s) for slow devices.
      const upper = slowDeviceBoundMs(expectedGap);
      const next = await t.lwm2mServer.expectRegister(nextAttemptWaitMs(k.retryTimerMs, n), t.signal);
      const prev = attempts[attempts.length - 1]!;
      if (!next) {
        missingRegister(
          t,
          first,
          RETRY_ROW,
          `after Register #${n} ${describeRequest(prev)} was rejected 4.03, no Register #${n + 1} arrived within ${fmtMs(upper)} (expected after ${fmtMs(expectedGap)} = Retry Timer ${k.retryTimerMs / 1000} s × 2^${n - 1}; Retry Count ${retryCount})`,
        );
      }
      attempts.push(next);
      t.checkTiming({
        req: RETRY_ROW,
        name: `gap between Register #${n} and #${n + 1}`,
        observedMs: CaseContext.elapsedMs(prev.monoNs, next.monoNs),
        span: { fromNs: prev.monoNs, toNs: next.monoNs },
        minMs: expectedGap,
        maxMs: upper,
        toleranceMs: RETRY_TOLERANCE_MS,
        window: `Retry Timer ${k.retryTimerMs / 1000} s × 2^${n - 1} (/1/x/18), upper bound +50 % +1 s`,
      });
    }
    // Sequence Retry Count 1: the last attempt ends the last sequence.
    judgeBootstrapWhileFalse(t, first, attempts[retryCount - 1], `${retryCount} attempts`);
    const gaps = attempts.slice(1).map((a, i) => fmtMs(CaseContext.elapsedMs(attempts[i]!.monoNs, a.monoNs)));
    t.pass(`${attempts.length} Register attempts, each rejected 4.03, spaced ${gaps.join(', ')} for Retry Timer ${k.retryTimerMs / 1000} s doubling (tolerance −${RETRY_TOLERANCE_MS} ms, +50 % +1 s)`);
  },
);
