/*
 * Expected sequence (the Bootstrap-Server writes an account whose /0/x/0 points at a UDP
 * port where the harness swallows every datagram, with Bootstrap on Registration Failure
 * true, Retry Count R = 1, Retry Timer T, Sequence Retry Count 1):
 *   device -> black hole   Register, retransmitted, never answered
 *   device -> BS           CON POST /bs?ep=<endpoint>   once the retries are used up: within
 *                          R × MAX_TRANSMIT_WAIT + T × (2^R − 1) (IXIT CoAP parameters), +50 % +1 s
 *   BS -> device           Delete /, Write an account for the reachable LwM2M Server, Finish
 *   device -> DM           Register
 * Resource 16 says "should re-bootstrap": a missing fallback is an advisory, not a fail.
 */
import { createSocket } from 'node:dgram';
import { defineCase } from '../../harness/runner/case.js';
import { fixedBudget } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { formatHostForUri } from '../../harness/servers/bootstrap-server.js';
import { describeResult } from '../../harness/servers/operations.js';
import {
  bootstrapped,
  describeRequest,
  expectBootstrapRequest,
  expectRegister,
  maxTransmitWaitMsOf,
  registrationRetryBudgetMs,
  runBootstrapPlan,
  serverAccount,
} from '../steps.js';

const RETRY_COUNT = 1;

export default defineCase(
  {
    id: 'TC-RETRY-06',
    title: 'Fallback to bootstrap when the LwM2M Server is unreachable, within the retry budget, then registration to the new server',
    area: 'retry',
    requirements: [
      { id: 'LWM2M-CORE-RETRY-07', section: 'LwM2M ETS int-7 "Fallback to bootstrap"', quote: 'the LwM2M Server URI is unreachable: the client eventually performs client-initiated bootstrap and registers to the new server' },
      {
        id: 'LWM2M-CORE-RETRY-03',
        section: 'OMA 1.xml res 16 (Bootstrap on Registration Failure)',
        quote: 'the client should re-bootstrap when registration is considered as failing as dictated by the other resource settings',
      },
    ],
    budget: fixedBudget(360_000),
    tags: ['retry', 'bootstrap', 'timing'],
  },
  async (t: CaseContext) => {
    // A black hole the harness owns: datagrams reach it (and are counted) but nothing ever answers.
    const hole = createSocket(t.profile.harness.listenAddress.includes(':') ? 'udp6' : 'udp4');
    const swallowed: bigint[] = [];
    hole.on('message', () => swallowed.push(process.hrtime.bigint()));
    await new Promise<void>((resolve, reject) => {
      hole.once('error', reject);
      hole.bind(0, t.profile.harness.listenAddress, () => resolve());
    });
    try {
      const holeUri = `coap://${formatHostForUri(t.profile.harness.advertiseHost)}:${hole.address().port}`;
      const settings = { retryCount: RETRY_COUNT, retryTimerS: t.ixit.retryTimerS, sequenceDelayTimerS: t.ixit.sequenceDelayTimerS, sequenceRetryCount: 1 };
      const unreachable = serverAccount(t, { serverUri: holeUri, bootstrapOnRegistrationFailure: true, ...settings });
      await bootstrapped(t, unreachable, `device bootstrapped onto an unreachable LwM2M Server ${holeUri}`);
      const finishedNs = process.hrtime.bigint();

      const mtwMs = maxTransmitWaitMsOf(t);
      const budgetMs = registrationRetryBudgetMs(settings, mtwMs);
      const windowMs = budgetMs * 1.5 + 1000 + t.ixit.holdOffS * 1000;
      const fallback = await t.bootstrapServer.expectBootstrapRequest(windowMs, t.signal);
      if (!fallback) {
        t.fail(
          `no Bootstrap-Request within ${fmtMs(windowMs)} of Bootstrap-Finish while the LwM2M Server ${holeUri} never answered (${swallowed.length} datagram(s) swallowed): retry budget ${RETRY_COUNT} × MAX_TRANSMIT_WAIT ${fmtMs(mtwMs)} + Retry Timer back-off, +50 % +1 s, Bootstrap on Registration Failure true`,
        );
      }
      const afterMs = CaseContext.elapsedMs(finishedNs, fallback.monoNs);
      t.note(`${swallowed.length} datagram(s) reached the unreachable server before the fallback; ${describeRequest(fallback)} ${fmtMs(afterMs)} after Bootstrap-Finish`);
      if (swallowed.length === 0) {
        t.note('the device never tried the unreachable server: it went back to bootstrap without a Register attempt');
      }

      // ETS int-7 goes on: the client takes the new account and registers to that server.
      const del = await t.bootstrapServer.delete(fallback.remote, '/');
      t.note(describeResult(del));
      const plan = await runBootstrapPlan(t, fallback, serverAccount(t));
      const register = await expectRegister(t, t.ixit.startupBoundS * 1000, `the second Bootstrap-Finish (${fmtMs(CaseContext.elapsedMs(fallback.monoNs, plan.finishMonoNs))} after the fallback)`);
      t.pass(
        `the LwM2M Server ${holeUri} never answered; ${fmtMs(afterMs)} after Bootstrap-Finish (retry budget ${fmtMs(budgetMs)}, window ${fmtMs(windowMs)}) the device fell back: ${describeRequest(fallback)}; re-bootstrapped, it registered to the reachable server: ${describeRequest(register)}`,
      );
    } finally {
      hole.close();
    }
  },
);
