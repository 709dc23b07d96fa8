/*
 * Expected sequence (the DM server silently drops every Update: no ACK, no response, as if
 * they were all lost on the way):
 *   (precondition) device registers at t0 with lt=L, location /rd/a/b
 *   device -> DM   CON POST /rd/a/b  (+ retransmissions)     dropped; no Update ever succeeds
 *   t0 + L         the registration expires on the server
 *   device -> DM   CON POST /rd?ep=...                       the first new request after expiry
 * An Update (a new message, not a retransmission of one sent before expiry) after t0 + L
 * is a fail. A device may wait out an Update still outstanding at expiry (NSTART = 1), so
 * the Register is due by max(t0 + L, last Update + MAX_TRANSMIT_WAIT) from the IXIT.
 * A Register that comes before t0 + L (after an Update timed out) re-registers as well.
 */
import { defineCase } from '../../harness/runner/case.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { SILENT } from '../../harness/servers/policy.js';
import { describeRequest, lifetimeToleranceMs, nextRegistrationMessage, registered, serverAccount } from '../steps.js';
import { lifetimeWindowMs, registeredMs } from './timers.js';
import { bootstrapAndRegisterFloorMs, heartbeatFloorMs, leastGiveUpMs } from '../../harness/runner/budget.js';

export default defineCase(
  {
    id: 'TC-REG-08',
    title: 'Re-registration with Register after the lifetime expired without a successful Update',
    area: 'registration',
    requirements: [
      {
        id: 'LWM2M-CORE-REG-07',
        section: 'LwM2M Core 1.2 §6.2 (1.0 §5.3 quoted in leshan #688)',
        quote: 'if the lifetime expires without an Update, the server removes the registration and the client MUST register again; an Update is not sufficient',
      },
    ],
    // The last Update may leave just before expiry and be waited out for MAX_TRANSMIT_WAIT.
    budget: (k) => {
      const dueMs = lifetimeWindowMs(k) + k.maxTransmitWaitMs;
      return registeredMs(k) + dueMs + Math.max(1000, dueMs * 0.02);
    },
    floor: (k) => bootstrapAndRegisterFloorMs(k) + Math.min(heartbeatFloorMs(k.lifetimeMs) + leastGiveUpMs(k), k.lifetimeMs),
    tags: ['registration', 'timing', 'slow'],
  },
  async (t: CaseContext) => {
    const account = serverAccount(t);
    const { register, location } = await registered(t, account);
    t.lwm2mServer.updatePolicy = SILENT;
    t.note(`from now on every Update is dropped without ACK or response; the registration at ${location} expires ${account.lifetimeS} s after the Register`);

    const expiryNs = register.monoNs + BigInt(account.lifetimeS) * 1_000_000_000n;
    const mtwMs = t.coap.maxTransmitWaitMs;
    const edgeMs = lifetimeToleranceMs(account.lifetimeS);
    const dropped: string[] = [];
    let lastUpdateNs: bigint | undefined;
    for (;;) {
      const dueMs = Math.max(account.lifetimeS * 1000, lastUpdateNs === undefined ? 0 : CaseContext.elapsedMs(register.monoNs, lastUpdateNs) + mtwMs);
      const slackMs = Math.max(1000, dueMs * 0.02);
      const m = await nextRegistrationMessage(t, dueMs + slackMs - CaseContext.elapsedMs(register.monoNs, process.hrtime.bigint()));
      if (!m) {
        t.fail(
          'LWM2M-CORE-REG-07',
          `no Register reached ${t.lwm2mServer.uri} within ${fmtMs(dueMs)} (+${fmtMs(slackMs)}) of ${describeRequest(register)}: lifetime ${account.lifetimeS} s` +
            (lastUpdateNs !== undefined ? `, last Update + MAX_TRANSMIT_WAIT ${fmtMs(mtwMs)} (IXIT CoAP parameters)` : '') +
            `; Updates dropped: ${dropped.join(', ') || 'none'}`,
        );
      }
      const atMs = CaseContext.elapsedMs(register.monoNs, m.monoNs);
      if (m.kind === 'register') {
        const before = m.monoNs < expiryNs;
        t.pass(
          `the registration was renewed by Register ${describeRequest(m)} ${fmtMs(atMs)} after the first one (lifetime ${account.lifetimeS} s, ${before ? 'before expiry, after its Update went unanswered' : 'after expiry'}); Updates dropped: ${dropped.join(', ') || 'none'}`,
        );
        return;
      }
      if (m.kind !== 'deregister' && m.monoNs <= expiryNs + BigInt(Math.round(edgeMs * 1e6))) {
        dropped.push(`${describeRequest(m)}${m.kind === 'other' ? ` (${m.answeredWith})` : ''} at ${fmtMs(atMs)}`);
        lastUpdateNs = m.monoNs;
        continue;
      }
      const when = m.monoNs > expiryNs ? `when the lifetime of ${account.lifetimeS} s had expired (tolerance ${fmtMs(edgeMs)})` : `while its Updates went unanswered`;
      t.fail('LWM2M-CORE-REG-07', `${fmtMs(atMs)} after ${describeRequest(register)}, ${when}, the device sent ${describeRequest(m)} instead of a Register; Updates dropped before: ${dropped.join(', ') || 'none'}`);
    }
  },
);
