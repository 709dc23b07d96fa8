/*
 * Expected sequence (Bootstrap on Registration Failure written false, Retry Count R,
 * Retry Timer T written at bootstrap; the server rejects every Register with 4.03):
 *   device -> DM   Register #1                    right after Finish
 *   device -> DM   Register #k+1                  T × 2^(k−1) after Register #k failed
 *   ... R attempts in the sequence; no Bootstrap-Request (resource 16 is false)
 */
import { defineCase } from '../../harness/runner/case.js';
import { fixedBudget } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { reject } from '../../harness/servers/policy.js';
import { bootstrapped, describeRequest, expectRegister, serverAccount } from '../steps.js';

export default defineCase(
  {
    id: 'TC-RETRY-01',
    title: 'Registration retry: attempts spaced Retry Timer × 2^(k−1) within a sequence',
    area: 'retry',
    requirements: [
      { id: 'LWM2M-CORE-RETRY-01', section: 'LwM2M Core 1.2 §6.2.1.1; OMA 1.xml res 17, 18', quote: 'after failed attempt k the client waits Communication Retry Timer × 2^(k−1) before the next, up to Communication Retry Count attempts' },
      { id: 'LWM2M-CORE-RETRY-03', section: 'OMA 1.xml res 16', quote: 'Bootstrap on Registration Failure false: keep following the retry settings' },
    ],
    ics: 'server.communication-retry',
    budget: fixedBudget(120_000),
    tags: ['retry', 'timing'],
  },
  async (t: CaseContext) => {
    const retryCount = t.ixit.retryCount;
    const retryTimerMs = t.ixit.retryTimerS * 1000;
    const account = serverAccount(t, {
      bootstrapOnRegistrationFailure: false,
      retryCount,
      retryTimerS: t.ixit.retryTimerS,
      sequenceDelayTimerS: t.ixit.sequenceDelayTimerS,
      sequenceRetryCount: 1,
    });
    // Every Register is answered 4.03 at once: each attempt fails immediately, so the gaps are the device's own timers.
    t.lwm2mServer.registerPolicy = reject('4.03');

    await bootstrapped(t, account, 'device bootstrapped with the retry settings');
    const attempts = [await expectRegister(t, t.ixit.startupBoundS * 1000, 'Bootstrap-Finish')];
    const toleranceMs = 100;
    for (let k = 1; k < retryCount; k++) {
      const expectedGap = retryTimerMs * 2 ** (k - 1);
      // Lower bound strict (the spec fixes the wait); upper bound generous (+50 % + 1 s) for slow devices.
      const upper = expectedGap * 1.5 + 1000;
      const next = await t.lwm2mServer.expectRegister(upper + toleranceMs, t.signal);
      const prev = attempts[attempts.length - 1]!;
      if (!next) {
        t.fail(`after Register #${k} ${describeRequest(prev)} was rejected 4.03, no Register #${k + 1} arrived within ${fmtMs(upper)} (expected after ${fmtMs(expectedGap)} = Retry Timer ${t.ixit.retryTimerS} s × 2^${k - 1})`);
      }
      attempts.push(next);
      t.checkTiming({
        name: `gap between Register #${k} and #${k + 1}`,
        observedMs: CaseContext.elapsedMs(prev.monoNs, next.monoNs),
        minMs: expectedGap,
        maxMs: upper,
        toleranceMs,
        window: `Retry Timer ${t.ixit.retryTimerS} s × 2^${k - 1} (/1/x/18), upper bound +50 % +1 s`,
      });
    }
    const bs = t.bootstrapServer.bootstrapRequests.all.find((r) => r.monoNs > attempts[0]!.monoNs);
    t.check('no Bootstrap-Request while Bootstrap on Registration Failure is false', bs === undefined, {
      expected: 'registration retries only',
      observed: bs ? `Bootstrap-Request ${describeRequest(bs)}` : 'none',
    });
    const gaps = attempts.slice(1).map((a, i) => fmtMs(CaseContext.elapsedMs(attempts[i]!.monoNs, a.monoNs)));
    t.pass(`${attempts.length} Register attempts, each rejected 4.03, spaced ${gaps.join(', ')} for Retry Timer ${t.ixit.retryTimerS} s doubling (tolerance −${toleranceMs} ms, +50 % +1 s)`);
  },
);
