/*
 * Expected sequence (NSTART = 1; the LwM2M Server holds back its answer to Updates):
 *   (precondition) bootstrap, Register accepted
 *   DM -> device   CON POST /1/y/8                 (Registration Update Trigger)
 *   device -> DM   CON POST /rd/a/b  mid=u         Update #1; no ACK for H
 *                                                  (H = 2·ACK_TIMEOUT·ACK_RANDOM_FACTOR, less than
 *                                                  the earliest the device may give up)
 *   DM -> device   CON POST /1/y/4                 (Disable: the device now has a De-register to
 *                                                  send; if Disable is not supported, another
 *                                                  Registration Update Trigger)
 *   device -> DM   ACK 2.04
 *   device -> DM   (copies of mid=u only)          while Update #1 is unacknowledged
 *   DM -> device   ACK 2.04 mid=u                  after H
 *   device -> DM   CON DELETE /rd/a/b (or POST)    only now
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, exchangesMs, bootstrapAndRegisterFloorMs, leastGiveUpMs } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { ACCEPT } from '../../harness/servers/policy.js';
import { describeRequest, registered, serverAccount } from '../steps.js';
import { UPDATE_TRIGGER, answered, describeWire, isNewMessage, quietLifetimeS, watchDevice } from './wire.js';

export default defineCase(
  {
    id: 'TC-COAP-05',
    title: 'NSTART = 1: no second CON to the server while the first awaits its ACK',
    area: 'coap',
    requirements: [
      {
        id: 'COAP-05',
        section: 'RFC 7252 §4.7',
        quote: 'clients (including proxies) MUST strictly limit the number of simultaneous outstanding interactions that they maintain to a given server (including proxies) to NSTART ... NSTART has a default value of 1',
      },
    ],
    // The catalog row: NSTART's value is a SHOULD-level default (RFC 7252 §4.8 allows another).
    // Bootstrap and Register; the trigger and its Update; Disable (or a second trigger); the
    // held ACK; then the startup bound for the device's next request.
    budget: (k) => bootstrapAndRegisterMs(k) + exchangesMs(k, 3) + k.startupMs + 2 * k.coap.ackTimeoutMs * k.coap.ackRandomFactor + k.startupMs,
    floor: (k) => bootstrapAndRegisterFloorMs(k) + Math.min(2 * k.coap.ackTimeoutMs * k.coap.ackRandomFactor, leastGiveUpMs(k)),
    tags: ['coap', 'registration', 'timing'],
  },
  async (t: CaseContext) => {
    const p = t.coap;
    const watch = watchDevice(t);
    const { register, serverIid } = await registered(t, serverAccount(t, { lifetimeS: quietLifetimeS(t) }));
    const dm = t.lwm2mServer;

    // Held shorter than the earliest moment the device may give up (A·(2^(M+1)−1) with factor 1).
    const holdMs = Math.min(2 * p.ackTimeoutMs * p.ackRandomFactor, p.ackTimeoutMs * (2 ** (p.maxRetransmit + 1) - 1));
    dm.updatePolicy = { kind: 'delay', delayMs: holdMs };
    const trigger = `/1/${serverIid}/8`;
    const first = await answered(t, dm.endpoint, `Execute ${trigger}`, () => dm.execute(register.remote, trigger), UPDATE_TRIGGER);
    if (first.code !== '2.04') t.inconclusive(`Execute ${trigger} (Registration Update Trigger, judged by TC-REG-07) was answered ${first.code}, so no Update could be held open`);
    const update = await dm.expect(['update', 'register'], t.timers.startupMs, t.signal);
    if (!update || update.kind !== 'update') {
      t.inconclusive(
        `after the 2.04 to Execute ${trigger} the device sent ${update ? describeRequest(update) : 'nothing'} within ${fmtMs(t.timers.startupMs)} (IXIT startupBoundS), not an Update to hold open: the Registration Update Trigger, this case's tool, did not work (TC-REG-07 judges it)`,
      );
    }
    const ackLeavesNs = update.monoNs + BigInt(Math.round(holdMs * 1e6));

    // Give the device a reason to send a second request while Update #1 is outstanding.
    const disablePath = `/1/${serverIid}/4`;
    const disable = await answered(t, dm.endpoint, `Execute ${disablePath}`, () => dm.execute(register.remote, disablePath), { tool: `Execute ${disablePath} (Disable, optional resource)` });
    let reason = `Execute ${disablePath} (Disable) answered 2.04: a De-register is due`;
    if (disable.code !== '2.04') {
      const again = await answered(t, dm.endpoint, `Execute ${trigger} (again)`, () => dm.execute(register.remote, trigger), UPDATE_TRIGGER);
      reason = `Disable answered ${disable.code}; Execute ${trigger} again answered ${again.code}: another Update is due`;
    }

    const waitMs = Number(ackLeavesNs - process.hrtime.bigint()) / 1e6 + t.timers.startupMs;
    const second = await watch.next((m) => m.server === dm.endpoint.name && isNewMessage(m) && m.msg.code.startsWith('0.') && m.msg.mid !== update.msg.mid && m.monoNs > update.monoNs, waitMs, t.signal);
    dm.updatePolicy = ACCEPT;
    if (!second) {
      t.inconclusive(
        `${reason}, but the device sent no other request within ${fmtMs(t.timers.startupMs)} (IXIT startupBoundS) of the held ACK, so NSTART was not exercised (Disable and the Registration Update Trigger are this case's tools; TC-REG-07 judges the trigger)`,
      );
    }
    const afterAckMs = Number(second.monoNs - ackLeavesNs) / 1e6;
    t.check('COAP-05', 'no second CON while Update #1 awaits its ACK', afterAckMs >= 0, {
      expected: `the next request after the ACK to ${describeRequest(update)}, which left ${fmtMs(holdMs)} after it arrived`,
      observed: `${describeWire(second)} ${fmtMs(CaseContext.elapsedMs(update.monoNs, second.monoNs))} after Update #1 arrived, ${afterAckMs >= 0 ? `${fmtMs(afterAckMs)} after` : `${fmtMs(-afterAckMs)} before`} the ACK`,
    });
    t.pass(`${reason}; Update #1 ${describeRequest(update)} held unacknowledged for ${fmtMs(holdMs)}; the device's next request ${describeWire(second)} came ${fmtMs(afterAckMs)} after the ACK (${p.text})`);
  },
);
