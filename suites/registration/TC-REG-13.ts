/*
 * Expected sequence:
 *   (precondition) bootstrap writes Lifetime 86400 s into /1/x/1 (no heartbeat falls in the
 *                  case); device registers from address A (2.01, location /rd/a/b)
 *   harness        DUT action changeAddress: the device's source address/port becomes B
 *   device -> DM   CON POST /rd/a/b   from B, within IXIT startupBoundS       (Update: GEISA registration.rst)
 *              or  CON POST /rd?ep=…  from B, within IXIT startupBoundS       (Register: accepted, flagged, catalog O-2)
 * Silence from B within the window fails the SHALL. Only the IP-address branch of the row
 * is judged here; an object set changed by a firmware upgrade needs a firmware image.
 */
import { defineCase } from '../../harness/runner/case.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import type { Address } from '../../harness/events/events.js';
import type { RegistrationMessage } from '../../harness/servers/lwm2m-server.js';
import { describeRequest, nextRegistrationMessage, reactionWindowMs, registered, serverAccount } from '../steps.js';
import { registeredMs } from './timers.js';
import { bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';

/** LwM2M's default lifetime: the heartbeat at half of it falls far outside the case. */
const LONG_LIFETIME_S = 86400;

const O2_CLAUSE =
  'catalog O-2: GEISA adm/registration.rst asks for a Registration Update on an IP change, while adm/device-management.rst lists a reachability change (IP address, NAT binding) among the full re-registration triggers and LwM2M Transport 1.2 §6.4.3 asks for a new Register after an IP change in NoSec mode';

/** Added to the longest first ACK timeout: the harness's own scheduling on a busy machine. */
const ACK_SETTLE_MARGIN_MS = 200;

const isRetransmissionOf = (m: RegistrationMessage, register: RegistrationMessage) => m.msg.mid === register.msg.mid && m.msg.token.equals(register.msg.token);

const addr = (a: Address) => (a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`);
const sameAddress = (a: Address, b: Address) => a.address === b.address && a.port === b.port;

export default defineCase(
  {
    id: 'TC-REG-13',
    title: 'Registration Update (or Register) from the new address after the device address changes',
    area: 'registration',
    requirements: [
      {
        id: 'GEISA-ADM-REG-03',
        section: 'GEISA adm/registration.rst',
        quote: 'the device SHALL send a Registration Update when its registration information changes, e.g. its IP address',
      },
    ],
    budget: (k) => registeredMs(k) + k.coap.ackTimeoutMs * k.coap.ackRandomFactor + k.startupMs,
    // With a changeAddress action: the settle wait before it is the case's own.
    floor: (k) => bootstrapAndRegisterFloorMs(k) + Math.ceil(k.coap.ackTimeoutMs * k.coap.ackRandomFactor) + ACK_SETTLE_MARGIN_MS,
    tags: ['registration'],
  },
  async (t: CaseContext) => {
    if (!t.device.supports('changeAddress')) {
      t.inconclusive(`the DUT profile defines no 'changeAddress' action (change the device's IP address or reconnect it), so the harness cannot make the device's address change`);
    }
    const account = serverAccount(t, { lifetimeS: LONG_LIFETIME_S });
    const { register, location } = await registered(t, account);
    const before = register.remote;

    // The 2.01 may still be on its way when the address changes: the device would then never
    // get it and send its Register again from the new address, which reads like a reaction
    // to the change. Act only once the device would have retransmitted a Register it had
    // not seen answered (the longest first ACK timeout, RFC 7252 §4.2).
    const settleMs = Math.ceil(t.coap.ackTimeoutMs * t.coap.ackRandomFactor) + ACK_SETTLE_MARGIN_MS;
    const settleEndNs = process.hrtime.bigint() + BigInt(settleMs) * 1_000_000n;
    for (;;) {
      const leftMs = CaseContext.elapsedMs(process.hrtime.bigint(), settleEndNs);
      const m = leftMs > 0 ? await nextRegistrationMessage(t, leftMs) : undefined;
      if (!m) break;
      t.note(`${describeRequest(m)} from ${addr(m.remote)} before the address change${isRetransmissionOf(m, register) ? ' (a retransmission of the Register)' : ''}: not judged`);
    }
    t.note(`waited ${fmtMs(settleMs)} after the Register (ACK_TIMEOUT × ACK_RANDOM_FACTOR + ${ACK_SETTLE_MARGIN_MS} ms, ${t.coap.text}) so that its 2.01 had reached the device before the address change`);

    const actionStartNs = process.hrtime.bigint();
    await t.device.act('changeAddress');
    const windowMs = reactionWindowMs(t);
    const endNs = process.hrtime.bigint() + BigInt(windowMs) * 1_000_000n;
    t.note(`DUT action changeAddress done; waiting up to ${fmtMs(windowMs)} (IXIT startupBoundS) for an Update or Register from an address other than ${addr(before)}`);

    const fromOld: RegistrationMessage[] = [];
    let deregistered: RegistrationMessage | undefined;
    let found: RegistrationMessage | undefined;
    for (;;) {
      const leftMs = CaseContext.elapsedMs(process.hrtime.bigint(), endNs);
      const m = leftMs > 0 ? await nextRegistrationMessage(t, leftMs) : undefined;
      if (!m) break;
      if (m.monoNs < actionStartNs) {
        t.note(`${describeRequest(m)} from ${addr(m.remote)} arrived before the address change: not judged`);
        continue;
      }
      if (isRetransmissionOf(m, register)) {
        t.note(`${describeRequest(m)} from ${addr(m.remote)} repeats the Register of the opening (same Message ID and token): a retransmission, not a reaction to the address change`);
        continue;
      }
      if (sameAddress(m.remote, before)) {
        fromOld.push(m);
        t.note(`${describeRequest(m)} came from the old address ${addr(m.remote)}`);
        continue;
      }
      if (m.kind === 'update' || m.kind === 'register') {
        found = m;
        break;
      }
      if (m.kind === 'deregister') {
        // A De-register followed by a Register is a full re-registration: wait for the Register.
        deregistered = m;
        t.note(`${describeRequest(m)} from ${addr(m.remote)}: waiting for the Register that re-registers`);
        continue;
      }
      t.note(`${describeRequest(m)} from ${addr(m.remote)} is not a Registration-interface message: not judged`);
    }

    if (!found) {
      if (fromOld.length > 0) {
        t.inconclusive(
          `after the changeAddress action the device spoke only from its old address ${addr(before)} (${fromOld.map(describeRequest).join(', ')}) within ${fmtMs(windowMs)}: its address as the server sees it did not change, so the reaction to an address change could not be observed`,
        );
      }
      t.fail(
        'GEISA-ADM-REG-03',
        `no Update to ${location} nor Register reached ${t.lwm2mServer.uri} from a new address within ${fmtMs(windowMs)} (IXIT startupBoundS) of the changeAddress action; the device had registered from ${addr(before)} with Register ${describeRequest(register)}, Lifetime ${account.lifetimeS} s, so no heartbeat was due${deregistered ? `, and sent ${describeRequest(deregistered)} from ${addr(deregistered.remote)} without registering again` : ''}`,
      );
    }

    const afterMs = CaseContext.elapsedMs(actionStartNs, found.monoNs);
    const moved = `from ${addr(found.remote)}, ${fmtMs(afterMs)} after the changeAddress action (the Register had come from ${addr(before)})`;
    if (found.kind === 'update') {
      const toLocation = t.check('GEISA-ADM-REG-03', 'Update after the address change targets the location the server returned', found.location === location, {
        expected: `POST ${location}`,
        observed: `${describeRequest(found)} answered ${found.answeredWith ?? 'not at all'}`,
      });
      if (!toLocation) t.fail('GEISA-ADM-REG-03', `the Update ${describeRequest(found)} ${moved} went to ${found.location}, not to the location ${location} the server returned for the Register`);
      t.pass(`Update ${describeRequest(found)} ${moved}, answered ${found.answeredWith}: an Update, as GEISA registration.rst asks`);
      return;
    }
    t.note(`spec open (${O2_CLAUSE}): the device re-registered`);
    t.pass(
      `Register ${describeRequest(found)} ${moved}, answered ${found.answeredWith ?? 'not at all'}${deregistered ? `, after ${describeRequest(deregistered)}` : ''}: a full re-registration rather than the Update GEISA registration.rst asks for, accepted because ${O2_CLAUSE}`,
    );
  },
);
