/*
 * Expected sequence (EL = EXCHANGE_LIFETIME from the profile's CoAP parameters, RFC 7252 §4.8.2;
 * H = Client Hold Off Time):
 *   device -> BS   CON POST /bs?ep=<endpoint>
 *   BS -> device   Bootstrap-Discover /, Bootstrap-Write /0/x, Bootstrap-Write /1/y   (all answered)
 *   ... the Bootstrap-Server sends nothing more: no Bootstrap-Finish
 *   device -> BS   CON POST /bs?ep=<endpoint>     within EL + H of the last exchange
 *   and no Register on the half-finished configuration meanwhile
 * With RFC 7252 defaults EL is 247 s, hence 'slow'; the reference device's profile declares
 * short parameters (MAX_RETRANSMIT 2, MAX_LATENCY 1 s on loopback), which make EL 7.5 s.
 */
import { defineCase } from '../../harness/runner/case.js';
import { exchangesMs } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { exchangeLifetimeMs } from '../../harness/coap/params.js';
import { provisionServerAccount } from '../../harness/servers/bootstrap-plan.js';
import { describeResult } from '../../harness/servers/operations.js';
import { describeRequest, expectBootstrapRequest, provisionAndStart, serverAccount, startupWindowMs } from '../steps.js';

/** RFC 7252 §4.8.2 MAX_LATENCY, used when the profile declares none. */
const RFC_MAX_LATENCY_S = 100;

export default defineCase(
  {
    id: 'TC-BS-13',
    title: 'Without Bootstrap-Finish the device abandons the bootstrap within EXCHANGE_LIFETIME and bootstraps again',
    area: 'bootstrap',
    requirements: [
      {
        id: 'LWM2M-CORE-BS-14',
        section: 'LwM2M Core 1.2 §6.1.7.7 (Bootstrap-Finish); RFC 7252 §4.8.2',
        quote: 'if the LwM2M Client does not receive the Bootstrap-Finish operation within EXCHANGE_LIFETIME after the last Bootstrap-Server exchange, the bootstrapping is considered to have failed',
      },
    ],
    // First request, Discover and two writes, then EXCHANGE_LIFETIME + hold-off (+1 s tolerance) watched.
    budget: (k) => k.firstRequestMs + exchangesMs(k, 3) + k.exchangeLifetimeMs + k.holdOffMs + 1000,
    tags: ['bootstrap', 'timing', 'slow'],
  },
  async (t: CaseContext) => {
    const coap = t.ixit.coap;
    const maxLatencyS = coap.maxLatencyS ?? RFC_MAX_LATENCY_S;
    const elMs = exchangeLifetimeMs({ ackTimeoutMs: coap.ackTimeoutS * 1000, ackRandomFactor: coap.ackRandomFactor, maxRetransmit: coap.maxRetransmit, nstart: coap.nstart }, maxLatencyS * 1000);
    const holdOffMs = t.ixit.holdOffS * 1000;
    const elWindow = `EXCHANGE_LIFETIME ${fmtMs(elMs)} (ACK_TIMEOUT ${coap.ackTimeoutS} s, ACK_RANDOM_FACTOR ${coap.ackRandomFactor}, MAX_RETRANSMIT ${coap.maxRetransmit}, MAX_LATENCY ${maxLatencyS} s)`;

    const last = await t.precondition('bootstrap session with a DM account written, Finish withheld', async () => {
      await provisionAndStart(t);
      const req = await expectBootstrapRequest(t, startupWindowMs(t), 'device start');
      const plan = await provisionServerAccount(t.bootstrapServer, req.remote, serverAccount(t), { skipFinish: true });
      for (const step of plan.steps) t.note(describeResult(step));
      if (plan.failedStep) t.fail('LWM2M-CORE-BS-14', `bootstrap operations before the withheld Finish: ${describeResult(plan.failedStep)}`);
      return plan.steps[plan.steps.length - 1]!;
    });
    t.note(`Bootstrap-Finish withheld after ${describeResult(last)}; waiting up to ${elWindow} + Client Hold Off Time ${t.ixit.holdOffS} s`);

    // device -> BS: a new Bootstrap-Request once the session has failed
    const toleranceMs = 1000;
    const maxMs = elMs + holdOffMs;
    const again = await t.bootstrapServer.expectBootstrapRequest(maxMs + toleranceMs, t.signal);
    const registers = t.lwm2mServer.messages.all.filter((m) => m.kind === 'register');
    t.check('LWM2M-CORE-BS-14', 'no Register on the configuration of a bootstrap that was never finished', registers.length === 0, {
      expected: 'no Register at the DM server written during the unfinished session',
      observed: registers.length
        ? `Register ${describeRequest(registers[0]!)} ${fmtMs(CaseContext.elapsedMs(last.response.monoNs, registers[0]!.monoNs))} after the last bootstrap exchange`
        : 'none',
    });
    if (!again) {
      t.fail(
        'LWM2M-CORE-BS-14',
        `no new Bootstrap-Request within ${fmtMs(maxMs + toleranceMs)} of the last bootstrap exchange (${describeResult(last)}) without Bootstrap-Finish: expected the device to give the session up after ${elWindow} and bootstrap again after its Client Hold Off Time ${t.ixit.holdOffS} s`,
      );
    }
    const gapMs = CaseContext.elapsedMs(last.response.monoNs, again.monoNs);
    t.checkTiming({
      req: 'LWM2M-CORE-BS-14',
      name: 'new Bootstrap-Request after the unfinished session',
      observedMs: gapMs,
      minMs: 0,
      maxMs,
      toleranceMs,
      window: `${elWindow} + Client Hold Off Time ${t.ixit.holdOffS} s after the last exchange`,
    });
    if (gapMs < elMs - toleranceMs) {
      t.note(`the device gave the session up ${fmtMs(gapMs)} after the last exchange, before ${elWindow}: a slow Bootstrap-Server could be cut off (not judged: the row bounds only the latest time)`);
    }
    t.pass(`after ${describeResult(last)} and no Bootstrap-Finish, the device sent a new Bootstrap-Request ${describeRequest(again)} ${fmtMs(gapMs)} later (within ${elWindow} + hold-off ${t.ixit.holdOffS} s, tolerance ${fmtMs(toleranceMs)}) and did not register on the unfinished configuration`);
  },
);
