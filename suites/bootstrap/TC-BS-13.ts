/*
 * Expected sequence (EL = EXCHANGE_LIFETIME from the profile's CoAP parameters, RFC 7252 §4.8.2;
 * H = Client Hold Off Time; S = IXIT startupBoundS, the device's bound for acting):
 *   device -> BS   CON POST /bs?ep=<endpoint>
 *   BS -> device   Bootstrap-Discover /, Bootstrap-Write /0/x, Bootstrap-Write /1/y   (all answered)
 *   ... the Bootstrap-Server sends nothing more: no Bootstrap-Finish
 *   for EL + H + S after the last exchange: nothing reaches the LwM2M Server written in the
 *   unfinished session (no Register, no other request): the bootstrap failed, its configuration is not used
 *   device -> BS   a new CON POST /bs?ep=<endpoint>, or not: noted, not judged
 * The row says only that the bootstrap "is considered to have failed"; whether and when the
 * device bootstraps again is not fixed by that text, so a missing or late new
 * Bootstrap-Request is no fail (and no advisory: no quoted rule asks for it).
 * With RFC 7252 defaults EL is 247 s, hence 'slow'; the reference device's profile declares
 * short parameters (MAX_RETRANSMIT 2, MAX_LATENCY 1 s on loopback), which make EL 7.5 s.
 */
import { defineCase } from '../../harness/runner/case.js';
import { type DeviceTimers, exchangesMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { describeResult } from '../../harness/servers/operations.js';
import { bootstrapWrites, describeRequest, nextRegistrationMessage, serverAccount } from '../steps.js';

/** Scheduling slack on the end of the watch. */
const TOLERANCE_MS = 1000;

/** How long after the last exchange the LwM2M Server is watched: the device's own EL, its hold-off, then its bound for acting. */
function watchMs(k: DeviceTimers): number {
  return k.exchangeLifetimeMs + k.holdOffMs + k.startupMs + TOLERANCE_MS;
}

export default defineCase(
  {
    id: 'TC-BS-13',
    title: 'Without Bootstrap-Finish the bootstrap fails: the device does not register with or use the half-finished configuration',
    area: 'bootstrap',
    requirements: [
      {
        id: 'LWM2M-CORE-BS-14',
        section: 'LwM2M Core 1.2 §6.1.7.7 (Bootstrap-Finish); RFC 7252 §4.8.2',
        quote: 'if the LwM2M Client does not receive the Bootstrap-Finish operation within EXCHANGE_LIFETIME after the last Bootstrap-Server exchange, the bootstrapping is considered to have failed',
      },
    ],
    // First request, Discover and two writes, then the watch of the LwM2M Server.
    budget: (k) => k.firstRequestMs + exchangesMs(k, 3) + watchMs(k),
    floor: (k) => bootstrapAndRegisterFloorMs(k) + watchMs(k),
    tags: ['bootstrap', 'timing', 'slow'],
  },
  async (t: CaseContext) => {
    const k = t.timers;
    const c = k.coap;
    const elWindow = `EXCHANGE_LIFETIME ${fmtMs(k.exchangeLifetimeMs)} (ACK_TIMEOUT ${c.ackTimeoutMs / 1000} s, ACK_RANDOM_FACTOR ${c.ackRandomFactor}, MAX_RETRANSMIT ${c.maxRetransmit}, MAX_LATENCY ${c.maxLatencyMs / 1000} s)`;

    const { plan } = await bootstrapWrites(t, serverAccount(t), {
      what: 'bootstrap session with a DM account written, Finish withheld',
      tool: { feature: 'the Bootstrap-Discover and -Writes before the withheld Finish', judgedBy: 'TC-BS-04 and TC-BS-06' },
    });
    const last = plan.steps[plan.steps.length - 1]!;

    // ... no Bootstrap-Finish. Watch the LwM2M Server of the unfinished session until the device's
    // own timer (EL), its hold-off and its bound for acting have all run out.
    const windowMs = watchMs(k);
    const endNs = last.response.monoNs + BigInt(Math.round(windowMs * 1e6));
    t.note(
      `Bootstrap-Finish withheld after ${describeResult(last)}; watching ${t.lwm2mServer.uri} for ${fmtMs(windowMs)} (${elWindow} + Client Hold Off Time ${k.holdOffMs / 1000} s + IXIT startupBoundS ${k.startupMs / 1000} s + ${fmtMs(TOLERANCE_MS)})`,
    );
    const remaining = CaseContext.elapsedMs(process.hrtime.bigint(), endNs);
    const used = remaining > 0 ? await nextRegistrationMessage(t, remaining) : t.lwm2mServer.messages.all[0];
    t.check('LWM2M-CORE-BS-14', 'the device does not register with, or otherwise use, the configuration of a bootstrap that was never finished', used === undefined, {
      expected: `nothing at ${t.lwm2mServer.uri} (the LwM2M Server written in the unfinished session) within ${fmtMs(windowMs)} of the last bootstrap exchange`,
      observed: used ? `${used.kind} ${describeRequest(used)} ${fmtMs(CaseContext.elapsedMs(last.response.monoNs, used.monoNs))} after the last bootstrap exchange` : 'nothing',
    });
    if (used) return;

    // Whether and when the device bootstraps again: evidence only.
    const again = t.bootstrapServer.bootstrapRequests.all.find((r) => r.monoNs > last.response.monoNs);
    let retry: string;
    if (again) {
      const gapMs = CaseContext.elapsedMs(last.response.monoNs, again.monoNs);
      retry = `a new Bootstrap-Request ${describeRequest(again)} came ${fmtMs(gapMs)} after the last exchange`;
      if (gapMs < k.exchangeLifetimeMs - TOLERANCE_MS)
        t.note(`the device gave the session up ${fmtMs(gapMs)} after the last exchange, before ${elWindow}: a slow Bootstrap-Server could be cut off (not judged: the row bounds only when the bootstrap counts as failed)`);
    } else {
      retry = `no new Bootstrap-Request within ${fmtMs(windowMs)} (not judged: the text fixes neither whether nor when the device bootstraps again)`;
    }
    t.note(retry);
    t.pass(
      `after ${describeResult(last)} and no Bootstrap-Finish, nothing reached the LwM2M Server of the unfinished session within ${fmtMs(windowMs)} (${elWindow} + hold-off ${k.holdOffMs / 1000} s + startupBoundS ${k.startupMs / 1000} s, tolerance ${fmtMs(TOLERANCE_MS)}); ${retry}`,
    );
  },
);
