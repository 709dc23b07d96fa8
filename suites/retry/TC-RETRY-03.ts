/*
 * Expected sequence (written at bootstrap: Bootstrap on Registration Failure false, Retry
 * Count R = 2, Retry Timer T, Sequence Delay Timer D, Sequence Retry Count 2; the server
 * rejects every Register with 4.03):
 *   device -> DM   Register #1 (sequence 1, attempt 1)   right after Finish
 *   device -> DM   Register #2 (sequence 1, attempt 2)   T after #1 failed
 *   device -> DM   Register #3 (sequence 2, attempt 1)   D after #2 failed (the last failure of sequence 1)
 *   device -> DM   Register #4 (sequence 2, attempt 2)   T after #3 failed
 *   ... then no third sequence: two were allowed.
 * No Bootstrap-Request while attempts or sequences remain (resource 16 false, a SHOULD);
 * once the last attempt of sequence 2 has failed no server is left, and what the client
 * does then is not specified: a Bootstrap-Request then is noted, never judged.
 * 1.xml res 19 defines a sequence as "the exhaustion of the Communication Retry Count and
 * Communication Retry Timer values": a device may also let the last back-off (T × 2^(R−1))
 * run out before the Sequence Delay starts, so the upper bound of the gap includes it.
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, type DeviceTimers, bootstrapAndRegisterFloorMs, retryBackoffsMs } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import type { RegistrationMessage } from '../../harness/servers/lwm2m-server.js';
import { reject } from '../../harness/servers/policy.js';
import { describeRequest, expectRegister, registered, serverAccount } from '../steps.js';
import { judgeBootstrapWhileFalse, missingRegister, nextAttemptWaitMs, RETRY_TOLERANCE_MS, sequenceGapMaxMs, slowDeviceBoundMs, writtenSettings } from './windows.js';

const RETRY_COUNT = 2;
const SEQUENCES = 2;
const ROW = 'LWM2M-CORE-RETRY-02';

/** Attempt 2 of sequence 1, the start of sequence 2, its attempt 2, then the wait for a third sequence. */
const waitsMs = (k: DeviceTimers) => 2 * nextAttemptWaitMs(k.retryTimerMs, 1) + 2 * (sequenceGapMaxMs(k.sequenceDelayMs, k.retryTimerMs, RETRY_COUNT) + RETRY_TOLERANCE_MS);

export default defineCase(
  {
    id: 'TC-RETRY-03',
    title: 'Registration retry: a second communication sequence starts the Sequence Delay Timer after the first failed, and no third',
    area: 'retry',
    requirements: [
      {
        id: ROW,
        section: 'LwM2M Core 1.2 §6.2.1.1; OMA 1.xml res 19, 20',
        quote:
          'Communication Sequence Delay Timer: the delay, in seconds, between successive communication sequences; Communication Sequence Retry Count: the number of successive communication sequences before which a registration attempt is considered as failed',
      },
      { id: 'LWM2M-CORE-RETRY-03', section: 'OMA 1.xml res 16', quote: 'If set to false, the LwM2M Client will continue with the registration attempts as dictated by the other resource settings' },
    ],
    ics: 'server.communication-retry',
    budget: (k) => bootstrapAndRegisterMs(k) + waitsMs(k),
    floor: (k) => bootstrapAndRegisterFloorMs(k) + 2 * retryBackoffsMs(k.retryTimerMs, RETRY_COUNT) + k.sequenceDelayMs + sequenceGapMaxMs(k.sequenceDelayMs, k.retryTimerMs, RETRY_COUNT) + RETRY_TOLERANCE_MS,
    tags: ['retry', 'timing'],
  },
  async (t: CaseContext) => {
    const k = t.timers;
    const retryTimerMs = k.retryTimerMs;
    const delayMs = k.sequenceDelayMs;
    const settings = { retryCount: RETRY_COUNT, retryTimerMs, sequenceDelayMs: delayMs, sequenceRetryCount: SEQUENCES };
    const account = serverAccount(t, { bootstrapOnRegistrationFailure: false, ...writtenSettings(settings) });
    t.lwm2mServer.registerPolicy = reject('4.03');
    // Same slack as TC-RETRY-01: the lower bound is the spec's, the upper +50 % +1 s for slow devices.
    const attemptGap = { minMs: retryTimerMs, maxMs: slowDeviceBoundMs(retryTimerMs) };
    const sequenceGap = { minMs: delayMs, maxMs: sequenceGapMaxMs(delayMs, retryTimerMs, RETRY_COUNT) };

    await registered(t, account, {
      until: 'finish',
      what: `device bootstrapped with Retry Count ${RETRY_COUNT}, Sequence Retry Count ${SEQUENCES}, Sequence Delay Timer ${delayMs / 1000} s`,
      tool: { feature: 'the bootstrap session', judgedBy: 'TC-BS-*' },
    });
    const first = await t.precondition('the device registers after Bootstrap-Finish (TC-REG-01 judges it)', () => expectRegister(t, k.startupMs, 'Bootstrap-Finish'));
    const lastOfFirst = await t.precondition(`sequence 1: Register #2 ${fmtMs(retryTimerMs)} after #1 was rejected (TC-RETRY-01 judges its timing)`, () =>
      expectRegister(t, nextAttemptWaitMs(retryTimerMs, 1), `Register #1 ${describeRequest(first)} was rejected 4.03`),
    );

    const gap = (a: RegistrationMessage, b: RegistrationMessage) => CaseContext.elapsedMs(a.monoNs, b.monoNs);
    const secondStart = await t.lwm2mServer.expectRegister(sequenceGap.maxMs + RETRY_TOLERANCE_MS, t.signal);
    if (!secondStart) {
      missingRegister(
        t,
        first,
        ROW,
        `after Register #2 ${describeRequest(lastOfFirst)} (the last attempt of sequence 1) was rejected 4.03, no Register started a second sequence within ${fmtMs(sequenceGap.maxMs)} (Sequence Retry Count ${SEQUENCES} allows two; expected ${fmtMs(delayMs)} = Sequence Delay Timer later)`,
      );
    }
    const sequenceOk = t.checkTiming({
      req: ROW,
      name: 'gap between the last Register of sequence 1 and the first of sequence 2',
      observedMs: gap(lastOfFirst, secondStart),
      span: { fromNs: lastOfFirst.monoNs, toNs: secondStart.monoNs },
      minMs: sequenceGap.minMs,
      maxMs: sequenceGap.maxMs,
      toleranceMs: RETRY_TOLERANCE_MS,
      window: `Sequence Delay Timer ${delayMs / 1000} s (/1/x/19); upper bound includes the last back-off T × 2^${RETRY_COUNT - 1}, +50 % +1 s`,
    });
    if (!sequenceOk && gap(lastOfFirst, secondStart) < sequenceGap.minMs - RETRY_TOLERANCE_MS) {
      t.fail(
        ROW,
        `sequence 2 started ${fmtMs(gap(lastOfFirst, secondStart))} after the last Register of sequence 1 (${describeRequest(lastOfFirst)}) was rejected: ${describeRequest(secondStart)}; the Sequence Delay Timer (/1/x/19) is ${delayMs / 1000} s`,
      );
    }

    const secondNext = await t.lwm2mServer.expectRegister(nextAttemptWaitMs(retryTimerMs, 1), t.signal);
    if (!secondNext) {
      missingRegister(
        t,
        first,
        ROW,
        `sequence 2 stopped after one attempt: after ${describeRequest(secondStart)} was rejected, no Register #2 of sequence 2 within ${fmtMs(attemptGap.maxMs)} (Retry Count ${RETRY_COUNT} per sequence, Retry Timer ${retryTimerMs / 1000} s)`,
      );
    }
    t.checkTiming({
      req: ROW,
      name: 'gap between Register #1 and #2 of sequence 2',
      observedMs: gap(secondStart, secondNext),
      span: { fromNs: secondStart.monoNs, toNs: secondNext.monoNs },
      minMs: attemptGap.minMs,
      maxMs: attemptGap.maxMs,
      toleranceMs: RETRY_TOLERANCE_MS,
      window: `Retry Timer ${retryTimerMs / 1000} s × 2^0: attempts count afresh in a new sequence, upper bound +50 % +1 s`,
    });

    // Two sequences were allowed: a third would start D after the last failure.
    const third = await t.lwm2mServer.expectRegister(sequenceGap.maxMs + RETRY_TOLERANCE_MS, t.signal);
    t.check(ROW, 'no third communication sequence', third === undefined, {
      expected: `no Register within ${fmtMs(sequenceGap.maxMs)} of the last attempt of sequence 2 (Sequence Retry Count ${SEQUENCES})`,
      observed: third ? `${describeRequest(third)} ${fmtMs(gap(secondNext, third))} after it` : 'none',
    });
    judgeBootstrapWhileFalse(t, first, secondNext, `attempts or sequences (${RETRY_COUNT} attempts × ${SEQUENCES} sequences)`);
    t.pass(
      `two sequences of ${RETRY_COUNT} rejected Registers: sequence 2 started ${fmtMs(gap(lastOfFirst, secondStart))} after the last failure of sequence 1 (Sequence Delay Timer ${delayMs / 1000} s, tolerance −${RETRY_TOLERANCE_MS} ms), its attempts ${fmtMs(gap(secondStart, secondNext))} apart; no third sequence within ${fmtMs(sequenceGap.maxMs)}`,
    );
  },
);
