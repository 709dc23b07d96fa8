/*
 * Expected sequence (every new message the device sends is tracked per server: its
 * Bootstrap-Request, Register and the Updates the harness asks for, separate responses
 * too; retransmitted copies are the same bytes and are not new messages):
 *   (precondition) bootstrap, Register accepted
 *   repeat N times:
 *     DM -> device   CON POST /1/y/8                  (Registration Update Trigger)
 *     device -> DM   ACK 2.04, then CON POST /rd/a/b  (Update, a new MID each time)
 *   no two different messages to one server with the same MID within EXCHANGE_LIFETIME
 */
import { defineCase } from '../../harness/runner/case.js';
import { fixedBudget } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { encodeCoap } from '../../harness/coap/message.js';
import { exchangeLifetimeMs } from '../../harness/coap/params.js';
import { serverAccount } from '../steps.js';
import { answered, declaredParams, describeWire, isNewMessage, quietLifetimeS, registeredAt, watchDevice, type WireMessage } from './wire.js';

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
    budget: fixedBudget(120_000),
    tags: ['coap', 'registration'],
  },
  async (t: CaseContext) => {
    const p = declaredParams(t);
    const lifetimeMs = exchangeLifetimeMs(p, p.maxLatencyMs);
    const watch = watchDevice(t);
    const { register, serverIid } = await registeredAt(t, serverAccount(t, { lifetimeS: quietLifetimeS(t) }));
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
    for (let i = 1; i <= UPDATES && !reuse; i++) {
      const before = watch.all.length;
      const trigger = await answered(t, dm.endpoint, `Execute ${path} #${i}`, () => dm.execute(register.remote, path));
      if (trigger.code !== '2.04') {
        t.note(`Execute ${path} #${i} answered ${trigger.code}: no more Updates asked for`);
        break;
      }
      // The next new request from the device, whether or not the server's deduplication lets it through as an Update.
      const sent = await watch.next((m) => watch.all.indexOf(m) >= before && m.server === dm.endpoint.name && isNewMessage(m) && m.msg.code.startsWith('0.'), t.ixit.startupBoundS * 1000, t.signal);
      scan();
      if (!sent) {
        t.note(`no new request from the device within ${t.ixit.startupBoundS} s (IXIT startupBoundS) of Execute ${path} #${i}`);
        break;
      }
      // The fake server answered it in the same turn that reported it, before the next trigger leaves.
      updates++;
    }
    scan();

    if (reuse) {
      t.fail(
        `MID ${reuse.later.msg.mid} reused ${fmtMs(CaseContext.elapsedMs(reuse.earlier.monoNs, reuse.later.monoNs))} after its first use, within EXCHANGE_LIFETIME ${fmtMs(lifetimeMs)}: ` +
          `${describeWire(reuse.earlier)}, then a different message ${describeWire(reuse.later)}`,
      );
    }
    const perServer = new Map<string, number>();
    for (const k of firstUse.keys()) perServer.set(k.split('|')[0]!, (perServer.get(k.split('|')[0]!) ?? 0) + 1);
    const toDm = perServer.get(dm.endpoint.name) ?? 0;
    if (toDm < 2) t.inconclusive(`the device sent only ${toDm} new message(s) to ${dm.uri}, too few to judge Message ID reuse`);
    const all = watch.all.filter(isNewMessage);
    const spanMs = CaseContext.elapsedMs(all[0]!.monoNs, all[all.length - 1]!.monoNs);
    t.pass(
      `${toDm} new messages to the LwM2M Server (Register and ${updates} triggered Updates) and ${perServer.get(t.bootstrapServer.endpoint.name) ?? 0} to the Bootstrap-Server over ${fmtMs(spanMs)}, ` +
        `within EXCHANGE_LIFETIME ${fmtMs(lifetimeMs)} (${p.text}, MAX_LATENCY ${fmtMs(p.maxLatencyMs)}): each carried a Message ID not used before with that server`,
    );
  },
);
