/*
 * Expected sequence (written at bootstrap: Bootstrap on Registration Failure false, Retry
 * Count R = 2, Retry Timer T, Sequence Delay Timer D, Sequence Retry Count 1; the server
 * rejects every Register with 4.03):
 *   device -> DM   Register #1, then #2 T later    (the one allowed sequence)
 *   ... then no Register for (D + T × 2^(R−1)) × 1.5 + 1 s after #2, the latest a second
 *   sequence could start; and no Bootstrap-Request (resource 16 is false)
 */
import { defineCase } from '../../harness/runner/case.js';
import { fixedBudget } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { reject } from '../../harness/servers/policy.js';
import { bootstrapped, describeRequest, expectRegister, serverAccount } from '../steps.js';

const RETRY_COUNT = 2;

export default defineCase(
  {
    id: 'TC-RETRY-04',
    title: 'Registration retry: with Sequence Retry Count 1 no second communication sequence follows the first',
    area: 'retry',
    requirements: [
      {
        id: 'LWM2M-CORE-RETRY-02',
        section: 'LwM2M Core 1.2 §6.2.1.1; OMA 1.xml res 20',
        quote: 'Communication Sequence Retry Count: the number of successive communication sequences before which a registration attempt is considered as failed',
      },
    ],
    ics: 'server.communication-retry',
    budget: fixedBudget(120_000),
    tags: ['retry', 'timing', 'negative'],
  },
  async (t: CaseContext) => {
    const retryTimerMs = t.ixit.retryTimerS * 1000;
    const delayMs = t.ixit.sequenceDelayTimerS * 1000;
    const account = serverAccount(t, {
      bootstrapOnRegistrationFailure: false,
      retryCount: RETRY_COUNT,
      retryTimerS: t.ixit.retryTimerS,
      sequenceDelayTimerS: t.ixit.sequenceDelayTimerS,
      sequenceRetryCount: 1,
    });
    t.lwm2mServer.registerPolicy = reject('4.03');
    await bootstrapped(t, account, `device bootstrapped with Retry Count ${RETRY_COUNT}, Sequence Retry Count 1, Sequence Delay Timer ${t.ixit.sequenceDelayTimerS} s`);
    const first = await expectRegister(t, t.ixit.startupBoundS * 1000, 'Bootstrap-Finish');
    const last = await t.precondition(`the one sequence: Register #2 after #1 was rejected (TC-RETRY-01 judges its timing)`, () =>
      expectRegister(t, retryTimerMs * 1.5 + 1000, `Register #1 ${describeRequest(first)} was rejected 4.03`),
    );

    // The latest a second sequence could start, by the same bounds TC-RETRY-03 accepts one in.
    const windowMs = (delayMs + retryTimerMs * 2 ** (RETRY_COUNT - 1)) * 1.5 + 1000;
    const extra = await t.lwm2mServer.expectRegister(windowMs, t.signal);
    t.check('no second communication sequence', extra === undefined, {
      expected: `no Register within ${fmtMs(windowMs)} of the last attempt of the only sequence (Sequence Retry Count 1; a second would start ${t.ixit.sequenceDelayTimerS} s = Sequence Delay Timer later)`,
      observed: extra ? `${describeRequest(extra)} ${fmtMs(CaseContext.elapsedMs(last.monoNs, extra.monoNs))} after Register #2` : 'none',
    });
    const bs = t.bootstrapServer.bootstrapRequests.all.find((r) => r.monoNs > first.monoNs);
    t.check('no Bootstrap-Request while Bootstrap on Registration Failure is false', bs === undefined, {
      expected: 'the device stays silent once the sequence failed',
      observed: bs ? `Bootstrap-Request ${describeRequest(bs)}` : 'none',
    });
    t.pass(`one sequence of ${RETRY_COUNT} rejected Registers, then no further Register and no Bootstrap-Request within ${fmtMs(windowMs)} of the last (Sequence Retry Count 1)`);
  },
);
