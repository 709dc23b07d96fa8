/*
 * Expected sequence (every new message the device sends is tracked per server: its
 * Bootstrap-Request, Register and the Updates the harness asks for, separate responses
 * too; retransmitted copies are the same bytes and are not new messages):
 *   (precondition) bootstrap, Register accepted
 *   repeat N times:
 *     DM -> device   CON POST /1/y/8                  (Registration Update Trigger)
 *     device -> DM   ACK 2.04, then CON POST /rd/a/b  (Update, a new MID each time)
 *   no two different messages to one server with the same MID within EXCHANGE_LIFETIME
 * The triggers stop after N Updates or once EXCHANGE_LIFETIME has passed since the Register
 * (a MID may come back after that), so the case lasts at most EXCHANGE_LIFETIME plus one
 * exchange after its precondition.
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, exchangesMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { encodeCoap } from '../../harness/coap/message.js';
import { registered, serverAccount } from '../steps.js';
import { UPDATE_TRIGGER, answered, describeWire, isNewMessage, quietLifetimeS, watchDevice, type WireMessage } from './wire.js';

/** Updates the harness asks for: more than the small MID tables of constrained stacks hold. */
const UPDATES = 20;

export default defineCase(
  {
    id: 'TC-COAP-04',
    title: 'No Message ID reuse within EXCHANGE_LIFETIME for new messages to the same server',
    area: 'coap',
    requirements: [
      {
        id: 'COAP-04',
        section: 'RFC 7252 §4.4',
        quote: 'The same Message ID MUST NOT be reused (in the communication with the same endpoint) within the EXCHANGE_LIFETIME',
      },
    ],
    // Bootstrap and Register, then triggers for at most EXCHANGE_LIFETIME, the last one
    // overrunning it by one exchange and one startup bound for its Update.
    budget: (k) => bootstrapAndRegisterMs(k) + k.exchangeLifetimeMs + exchangesMs(k, 1) + k.startupMs,
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['coap', 'registration'],
  },
  async (t: CaseContext) => {
    const p = t.coap;
    const lifetimeMs = t.timers.exchangeLifetimeMs;
    const watch = watchDevice(t);
    const { register, serverIid } = await registered(t, serverAccount(t, { lifetimeS: quietLifetimeS(t) }));
    const dm = t.lwm2mServer;
    const path = `/1/${serverIid}/8`;

    // First use of each MID per server, and the first reuse found.
    const firstUse = new Map<string, WireMessage>();
    let reuse: { earlier: WireMessage; later: WireMessage } | undefined;
    let scanned = 0;
    const scan = () => {
      for (; scanned < watch.all.length; scanned++) {
        const m = watch.all[scanned]!;
        if (!isNewMessage(m)) continue;
        const k = `${m.server}|${m.remote.address}|${m.remote.port}|${m.msg.mid}`;
        const earlier = firstUse.get(k);
        if (!earlier) firstUse.set(k, m);
        else if (!reuse && !encodeCoap(earlier.msg).equals(encodeCoap(m.msg)) && CaseContext.elapsedMs(earlier.monoNs, m.monoNs) < lifetimeMs) reuse = { earlier, later: m };
      }
    };

    let updates = 0;
    let stopped = '';
    for (let i = 1; i <= UPDATES && !reuse; i++) {
      if (CaseContext.elapsedMs(register.monoNs, process.hrtime.bigint()) >= lifetimeMs) {
        t.note(`EXCHANGE_LIFETIME ${fmtMs(lifetimeMs)} has passed since the Register: no more Updates asked for (a Message ID may be reused after it)`);
        break;
      }
      const before = watch.all.length;
      const trigger = await answered(t, dm.endpoint, `Execute ${path} #${i}`, () => dm.execute(register.remote, path), UPDATE_TRIGGER);
      if (trigger.code !== '2.04') {
        stopped = `Execute ${path} #${i} answered ${trigger.code}`;
        t.note(`${stopped}: no more Updates asked for`);
        break;
      }
      // The next new request from the device, whether or not the server's deduplication lets it through as an Update.
      const sent = await watch.next((m) => watch.all.indexOf(m) >= before && m.server === dm.endpoint.name && isNewMessage(m) && m.msg.code.startsWith('0.'), t.timers.startupMs, t.signal);
      scan();
      if (!sent) {
        stopped = `no new request from the device within ${fmtMs(t.timers.startupMs)} (IXIT startupBoundS) of the 2.04 to Execute ${path} #${i}`;
        t.note(stopped);
        break;
      }
      // The fake server answered it in the same turn that reported it, before the next trigger leaves.
      updates++;
    }
    scan();

    if (reuse) {
      t.fail(
        'COAP-04',
        `MID ${reuse.later.msg.mid} reused ${fmtMs(CaseContext.elapsedMs(reuse.earlier.monoNs, reuse.later.monoNs))} after its first use, within EXCHANGE_LIFETIME ${fmtMs(lifetimeMs)}: ` +
          `${describeWire(reuse.earlier)}, then a different message ${describeWire(reuse.later)}`,
      );
    }
    const perServer = new Map<string, number>();
    for (const k of firstUse.keys()) perServer.set(k.split('|')[0]!, (perServer.get(k.split('|')[0]!) ?? 0) + 1);
    const toDm = perServer.get(dm.endpoint.name) ?? 0;
    if (toDm < 2) {
      t.inconclusive(`the device sent only ${toDm} new message(s) to ${dm.uri}, too few to judge Message ID reuse${stopped ? ` (${stopped}: the Registration Update Trigger, this case's tool, did not work; TC-REG-07 judges it)` : ''}`);
    }
    const all = watch.all.filter(isNewMessage);
    const spanMs = CaseContext.elapsedMs(all[0]!.monoNs, all[all.length - 1]!.monoNs);
    t.pass(
      `${toDm} new messages to the LwM2M Server (Register and ${updates} triggered Updates) and ${perServer.get(t.bootstrapServer.endpoint.name) ?? 0} to the Bootstrap-Server over ${fmtMs(spanMs)}, ` +
        `within EXCHANGE_LIFETIME ${fmtMs(lifetimeMs)} (${p.text}, MAX_LATENCY ${fmtMs(p.maxLatencyMs)}): each carried a Message ID not used before with that server`,
    );
  },
);
