/*
 * Expected sequence (written at bootstrap: Bootstrap on Registration Failure false, Retry
 * Count R = 2, Retry Timer T, Sequence Delay Timer D, Sequence Retry Count 1; the server
 * rejects every Register with 4.03):
 *   device -> DM   Register #1, then #2 T later    (the one allowed sequence)
 *   ... then no Register for (D + T × 2^(R−1)) × 1.5 + 1 s after #2, the latest a second
 *   sequence could start.
 * No Bootstrap-Request while the sequence lasts (resource 16 false, a SHOULD); once its
 * last attempt has failed no server is left, and what the client does then is not
 * specified: a Bootstrap-Request then is noted, never judged.
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, bootstrapAndRegisterFloorMs, retryBackoffsMs } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { reject } from '../../harness/servers/policy.js';
import { describeRequest, expectRegister, registered, serverAccount } from '../steps.js';
import { judgeBootstrapWhileFalse, nextAttemptWaitMs, sequenceGapMaxMs, writtenSettings } from './windows.js';

const RETRY_COUNT = 2;
const ROW = 'LWM2M-CORE-RETRY-02';

export default defineCase(
  {
    id: 'TC-RETRY-04',
    title: 'Registration retry: with Sequence Retry Count 1 no second communication sequence follows the first',
    area: 'retry',
    requirements: [
      {
        id: ROW,
        section: 'LwM2M Core 1.2 §6.2.1.1; OMA 1.xml res 20',
        quote: 'Communication Sequence Retry Count: the number of successive communication sequences before which a registration attempt is considered as failed',
      },
      { id: 'LWM2M-CORE-RETRY-03', section: 'OMA 1.xml res 16', quote: 'If set to false, the LwM2M Client will continue with the registration attempts as dictated by the other resource settings' },
    ],
    ics: 'server.communication-retry',
    budget: (k) => bootstrapAndRegisterMs(k) + nextAttemptWaitMs(k.retryTimerMs, 1) + sequenceGapMaxMs(k.sequenceDelayMs, k.retryTimerMs, RETRY_COUNT),
    floor: (k) => bootstrapAndRegisterFloorMs(k) + retryBackoffsMs(k.retryTimerMs, RETRY_COUNT) + sequenceGapMaxMs(k.sequenceDelayMs, k.retryTimerMs, RETRY_COUNT),
    tags: ['retry', 'timing', 'negative'],
  },
  async (t: CaseContext) => {
    const k = t.timers;
    const settings = { retryCount: RETRY_COUNT, retryTimerMs: k.retryTimerMs, sequenceDelayMs: k.sequenceDelayMs, sequenceRetryCount: 1 };
    const account = serverAccount(t, { bootstrapOnRegistrationFailure: false, ...writtenSettings(settings) });
    t.lwm2mServer.registerPolicy = reject('4.03');
    await registered(t, account, {
      until: 'finish',
      what: `device bootstrapped with Retry Count ${RETRY_COUNT}, Sequence Retry Count 1, Sequence Delay Timer ${k.sequenceDelayMs / 1000} s`,
      tool: { feature: 'the bootstrap session', judgedBy: 'TC-BS-*' },
    });
    const first = await t.precondition('the device registers after Bootstrap-Finish (TC-REG-01 judges it)', () => expectRegister(t, k.startupMs, 'Bootstrap-Finish'));
    const last = await t.precondition(`the one sequence: Register #2 after #1 was rejected (TC-RETRY-01 judges its timing)`, () =>
      expectRegister(t, nextAttemptWaitMs(k.retryTimerMs, 1), `Register #1 ${describeRequest(first)} was rejected 4.03`),
    );

    // The latest a second sequence could start, by the same bounds TC-RETRY-03 accepts one in.
    const windowMs = sequenceGapMaxMs(k.sequenceDelayMs, k.retryTimerMs, RETRY_COUNT);
    const extra = await t.lwm2mServer.expectRegister(windowMs, t.signal);
    t.check(ROW, 'no second communication sequence', extra === undefined, {
      expected: `no Register within ${fmtMs(windowMs)} of the last attempt of the only sequence (Sequence Retry Count 1; a second would start ${k.sequenceDelayMs / 1000} s = Sequence Delay Timer later)`,
      observed: extra ? `${describeRequest(extra)} ${fmtMs(CaseContext.elapsedMs(last.monoNs, extra.monoNs))} after Register #2` : 'none',
    });
    judgeBootstrapWhileFalse(t, first, last, `the ${RETRY_COUNT} attempts of the sequence`);
    t.pass(`one sequence of ${RETRY_COUNT} rejected Registers, then no further Register within ${fmtMs(windowMs)} of the last (Sequence Retry Count 1), and no Bootstrap-Request while the sequence lasted`);
  },
);
