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
import { bootstrapAndRegisterMs, exchangesMs, type DeviceTimers, bootstrapAndRegisterFloorMs, leastGiveUpMs } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { formatHostForUri } from '../../harness/servers/bootstrap-server.js';
import { describeRequest, expectRegister, registered, registrationRetryBudgetMs, runBootstrapPlan, serverAccount, usingTool } from '../steps.js';
import { fallbackWindowMs, writtenSettings, type RetrySettingsMs } from './windows.js';

const RETRY_COUNT = 1;
const INT7 = 'LWM2M-CORE-RETRY-07';
const RES16 = 'LWM2M-CORE-RETRY-03';

const settingsOf = (k: DeviceTimers): RetrySettingsMs => ({ retryCount: RETRY_COUNT, retryTimerMs: k.retryTimerMs, sequenceDelayMs: k.sequenceDelayMs, sequenceRetryCount: 1 });
/** Each attempt to the black hole fails only when the device gives up on its CON: MAX_TRANSMIT_WAIT. */
const windowOf = (k: DeviceTimers) => fallbackWindowMs(k, settingsOf(k), k.maxTransmitWaitMs);

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
    // First bootstrap, the fallback window, the second bootstrap (Delete / and the plan), its Register.
    budget: (k) => bootstrapAndRegisterMs(k) + windowOf(k) + exchangesMs(k, 9) + k.startupMs,
    floor: (k) => bootstrapAndRegisterFloorMs(k) + leastGiveUpMs(k) + k.holdOffMs,
    tags: ['retry', 'bootstrap', 'timing'],
  },
  async (t: CaseContext) => {
    const k = t.timers;
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
      const settings = writtenSettings(settingsOf(k));
      const unreachable = serverAccount(t, { serverUri: holeUri, bootstrapOnRegistrationFailure: true, ...settings });
      await registered(t, unreachable, { until: 'finish', what: `device bootstrapped onto an unreachable LwM2M Server ${holeUri}`, tool: { feature: 'the bootstrap session', judgedBy: 'TC-BS-*' } });
      const finishedNs = process.hrtime.bigint();

      const mtwMs = k.maxTransmitWaitMs;
      const budgetMs = registrationRetryBudgetMs(settings, mtwMs);
      const windowMs = windowOf(k);
      const fallback = await t.bootstrapServer.expectBootstrapRequest(windowMs, t.signal);
      if (!fallback) {
        // Resource 16 true: "should re-bootstrap" once registration is considered failing.
        t.fail(
          RES16,
          `no Bootstrap-Request within ${fmtMs(windowMs)} of Bootstrap-Finish while the LwM2M Server ${holeUri} never answered (${swallowed.length} datagram(s) swallowed): retry budget ${RETRY_COUNT} × MAX_TRANSMIT_WAIT ${fmtMs(mtwMs)} + Retry Timer back-off, +50 % +1 s, Bootstrap on Registration Failure true`,
        );
      }
      const afterMs = CaseContext.elapsedMs(finishedNs, fallback.monoNs);
      t.note(`${swallowed.length} datagram(s) reached the unreachable server before the fallback; ${describeRequest(fallback)} ${fmtMs(afterMs)} after Bootstrap-Finish`);
      if (swallowed.length === 0) {
        t.note('the device never tried the unreachable server: it went back to bootstrap without a Register attempt');
      }

      // ETS int-7 goes on: the client takes the new account and registers to that server.
      await usingTool(t, { feature: 'Bootstrap-Delete / of the second bootstrap session', judgedBy: 'TC-BS-10' }, () => t.bootstrapServer.delete(fallback.remote, '/'));
      const plan = await usingTool(t, { feature: 'the second bootstrap session', judgedBy: 'TC-BS-*' }, () => runBootstrapPlan(t, fallback, serverAccount(t), { row: INT7 }));
      const register = await expectRegister(t, k.startupMs, `the second Bootstrap-Finish (${fmtMs(CaseContext.elapsedMs(fallback.monoNs, plan.finishMonoNs))} after the fallback)`, INT7);
      t.pass(
        `the LwM2M Server ${holeUri} never answered; ${fmtMs(afterMs)} after Bootstrap-Finish (retry budget ${fmtMs(budgetMs)}, window ${fmtMs(windowMs)}) the device fell back: ${describeRequest(fallback)}; re-bootstrapped, it registered to the reachable server: ${describeRequest(register)}`,
      );
    } finally {
      hole.close();
    }
  },
);
