/*
 * Expected sequence (written at bootstrap: Bootstrap on Registration Failure false, Retry
 * Count R = 2, Retry Timer T, Sequence Delay Timer D, Sequence Retry Count 2; the server
 * rejects every Register with 4.03):
 *   device -> DM   Register #1 (sequence 1, attempt 1)   right after Finish
 *   device -> DM   Register #2 (sequence 1, attempt 2)   T after #1 failed
 *   device -> DM   Register #3 (sequence 2, attempt 1)   D after #2 failed (the last failure of sequence 1)
 *   device -> DM   Register #4 (sequence 2, attempt 2)   T after #3 failed
 *   ... then nothing: two sequences were allowed, and resource 16 is false (no Bootstrap-Request)
 * 1.xml res 19 defines a sequence as "the exhaustion of the Communication Retry Count and
 * Communication Retry Timer values": a device may also let the last back-off (T × 2^(R−1))
 * run out before the Sequence Delay starts, so the upper bound of the gap includes it.
 */
import { defineCase } from '../../harness/runner/case.js';
import { fixedBudget } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import type { RegistrationMessage } from '../../harness/servers/lwm2m-server.js';
import { reject } from '../../harness/servers/policy.js';
import { bootstrapped, describeRequest, expectRegister, serverAccount } from '../steps.js';

const RETRY_COUNT = 2;
const SEQUENCES = 2;

export default defineCase(
  {
    id: 'TC-RETRY-03',
    title: 'Registration retry: a second communication sequence starts the Sequence Delay Timer after the first failed, and no third',
    area: 'retry',
    requirements: [
      {
        id: 'LWM2M-CORE-RETRY-02',
        section: 'LwM2M Core 1.2 §6.2.1.1; OMA 1.xml res 19, 20',
        quote: 'Communication Sequence Delay Timer: the delay, in seconds, between successive communication sequences; Communication Sequence Retry Count: the number of successive communication sequences before which a registration attempt is considered as failed',
      },
    ],
    ics: 'server.communication-retry',
    budget: fixedBudget(120_000),
    tags: ['retry', 'timing'],
  },
  async (t: CaseContext) => {
    const retryTimerMs = t.ixit.retryTimerS * 1000;
    const delayMs = t.ixit.sequenceDelayTimerS * 1000;
    const account = serverAccount(t, {
      bootstrapOnRegistrationFailure: false,
      retryCount: RETRY_COUNT,
      retryTimerS: t.ixit.retryTimerS,
      sequenceDelayTimerS: t.ixit.sequenceDelayTimerS,
      sequenceRetryCount: SEQUENCES,
    });
    t.lwm2mServer.registerPolicy = reject('4.03');
    const toleranceMs = 100;
    // Same slack as TC-RETRY-01: the lower bound is the spec's, the upper +50 % +1 s for slow devices.
    const attemptGap = { minMs: retryTimerMs, maxMs: retryTimerMs * 1.5 + 1000 };
    const sequenceGap = { minMs: delayMs, maxMs: (delayMs + retryTimerMs * 2 ** (RETRY_COUNT - 1)) * 1.5 + 1000 };

    await bootstrapped(t, account, `device bootstrapped with Retry Count ${RETRY_COUNT}, Sequence Retry Count ${SEQUENCES}, Sequence Delay Timer ${t.ixit.sequenceDelayTimerS} s`);
    const first = await expectRegister(t, t.ixit.startupBoundS * 1000, 'Bootstrap-Finish');
    const lastOfFirst = await t.precondition(`sequence 1: Register #2 ${fmtMs(retryTimerMs)} after #1 was rejected (TC-RETRY-01 judges its timing)`, () =>
      expectRegister(t, attemptGap.maxMs + toleranceMs, `Register #1 ${describeRequest(first)} was rejected 4.03`),
    );

    const gap = (a: RegistrationMessage, b: RegistrationMessage) => CaseContext.elapsedMs(a.monoNs, b.monoNs);
    const secondStart = await t.lwm2mServer.expectRegister(sequenceGap.maxMs + toleranceMs, t.signal);
    if (!secondStart) {
      t.fail(
        `after Register #2 ${describeRequest(lastOfFirst)} (the last attempt of sequence 1) was rejected 4.03, no Register started a second sequence within ${fmtMs(sequenceGap.maxMs)} (Sequence Retry Count ${SEQUENCES} allows two; expected ${fmtMs(delayMs)} = Sequence Delay Timer later)`,
      );
    }
    const sequenceOk = t.checkTiming({
      name: 'gap between the last Register of sequence 1 and the first of sequence 2',
      observedMs: gap(lastOfFirst, secondStart),
      minMs: sequenceGap.minMs,
      maxMs: sequenceGap.maxMs,
      toleranceMs,
      window: `Sequence Delay Timer ${t.ixit.sequenceDelayTimerS} s (/1/x/19); upper bound includes the last back-off T × 2^${RETRY_COUNT - 1}, +50 % +1 s`,
    });
    if (!sequenceOk && gap(lastOfFirst, secondStart) < sequenceGap.minMs - toleranceMs) {
      t.fail(
        `sequence 2 started ${fmtMs(gap(lastOfFirst, secondStart))} after the last Register of sequence 1 (${describeRequest(lastOfFirst)}) was rejected: ${describeRequest(secondStart)}; the Sequence Delay Timer (/1/x/19) is ${t.ixit.sequenceDelayTimerS} s`,
      );
    }

    const secondNext = await t.lwm2mServer.expectRegister(attemptGap.maxMs + toleranceMs, t.signal);
    if (!secondNext) {
      t.fail(`sequence 2 stopped after one attempt: after ${describeRequest(secondStart)} was rejected, no Register #2 of sequence 2 within ${fmtMs(attemptGap.maxMs)} (Retry Count ${RETRY_COUNT} per sequence, Retry Timer ${t.ixit.retryTimerS} s)`);
    }
    t.checkTiming({
      name: 'gap between Register #1 and #2 of sequence 2',
      observedMs: gap(secondStart, secondNext),
      minMs: attemptGap.minMs,
      maxMs: attemptGap.maxMs,
      toleranceMs,
      window: `Retry Timer ${t.ixit.retryTimerS} s × 2^0: attempts count afresh in a new sequence, upper bound +50 % +1 s`,
    });

    // Two sequences were allowed: a third would start D after the last failure.
    const third = await t.lwm2mServer.expectRegister(sequenceGap.maxMs + toleranceMs, t.signal);
    t.check('no third communication sequence', third === undefined, {
      expected: `no Register within ${fmtMs(sequenceGap.maxMs)} of the last attempt of sequence 2 (Sequence Retry Count ${SEQUENCES})`,
      observed: third ? `${describeRequest(third)} ${fmtMs(gap(secondNext, third))} after it` : 'none',
    });
    const bs = t.bootstrapServer.bootstrapRequests.all.find((r) => r.monoNs > first.monoNs);
    t.check('no Bootstrap-Request while Bootstrap on Registration Failure is false', bs === undefined, {
      expected: 'registration sequences only',
      observed: bs ? `Bootstrap-Request ${describeRequest(bs)}` : 'none',
    });
    t.pass(
      `two sequences of ${RETRY_COUNT} rejected Registers: sequence 2 started ${fmtMs(gap(lastOfFirst, secondStart))} after the last failure of sequence 1 (Sequence Delay Timer ${t.ixit.sequenceDelayTimerS} s, tolerance −${toleranceMs} ms), its attempts ${fmtMs(gap(secondStart, secondNext))} apart; no third sequence within ${fmtMs(sequenceGap.maxMs)}`,
    );
  },
);
