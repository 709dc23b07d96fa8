/*
 * Expected sequence (both servers coaps://, Security Mode 0 with a fresh PSK for the DM):
 *   (precondition) DTLS handshake #1 with the DM; device registers at /rd/a/b
 *   DM -> device   close_notify; the DM forgets the session (its DTLS state is gone)
 *   device -> DM   DTLS handshake #2 (a new security context)
 *   device -> DM   (in DTLS) CON POST /rd?ep=...   the first request after the new handshake
 *                                                 is a Register, not an Update to /rd/a/b
 * The device speaks again at the latest when its registration needs renewing: within the
 * lifetime, plus MAX_TRANSMIT_WAIT for a device that only notices the lost session when
 * a request goes unanswered.
 */
import { defineCase } from '../../harness/runner/case.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { describeRequest, dtlsTrouble, lifetimeToleranceMs, nextRegistrationMessage, registered, serverAccount } from '../steps.js';
import { lifetimeWindowMs, registeredMs } from './timers.js';
import { bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';

export default defineCase(
  {
    id: 'TC-REG-10',
    title: 'After a new DTLS security context the device registers again instead of updating',
    area: 'registration',
    requirements: [{ id: 'LWM2M-CORE-REG-09', section: 'LwM2M Transport 1.2 §6.4.3 (1.1.1 text quoted in OMA #506)', quote: 'when a new (D)TLS security context is established with the LwM2M Server, the LwM2M Client MUST register again' }],
    ics: 'transport.dtls-psk',
    budget: (k) => registeredMs(k) + lifetimeWindowMs(k) + k.maxTransmitWaitMs,
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['registration', 'dtls'],
    security: 'psk',
  },
  async (t: CaseContext) => {
    const account = serverAccount(t);
    const { register, location } = await registered(t, account, { what: 'DTLS-PSK bootstrap and registration completed' });
    const dtls = t.lwm2mServer.dtls;
    if (!dtls) t.inconclusive('the LwM2M Server is not coaps://, so there is no DTLS session to drop');
    const handshakesBefore = dtls.handshakes.all.length;

    const dropped = await dtls.dropSession(register.remote);
    if (!dropped) t.inconclusive(`the LwM2M Server holds no DTLS session with ${register.remote.address}:${register.remote.port}, the source of ${describeRequest(register)}`);
    const droppedAt = process.hrtime.bigint();
    t.note(`DM sent close_notify to ${register.remote.address}:${register.remote.port} and dropped its DTLS state; the registration at ${location} stays valid on the server`);

    const windowMs = account.lifetimeS * 1000 + t.coap.maxTransmitWaitMs + lifetimeToleranceMs(account.lifetimeS);
    const next = await nextRegistrationMessage(t, windowMs);
    if (!next) {
      const newHandshakes = dtls.handshakes.all.slice(handshakesBefore).length;
      const seen = newHandshakes ? `${newHandshakes} new DTLS handshake(s) completed but no CoAP request came over them` : `the device made no new DTLS handshake with ${t.lwm2mServer.uri}`;
      t.inconclusive(
        `no CoAP request reached ${t.lwm2mServer.uri} within ${fmtMs(windowMs)} (lifetime ${account.lifetimeS} s + MAX_TRANSMIT_WAIT) after the DM sent close_notify and forgot the session; ${seen}, so no new security context was seen and LWM2M-CORE-REG-09 could not be judged${dtlsTrouble(dtls)}`,
      );
    }
    const fresh = dtls.handshakes.all.slice(handshakesBefore).filter((h) => h.remote.address === next.remote.address && h.remote.port === next.remote.port);
    if (fresh.length === 0) t.inconclusive(`${describeRequest(next)} arrived from ${next.remote.address}:${next.remote.port} without a new DTLS handshake on record`);
    const afterMs = CaseContext.elapsedMs(droppedAt, next.monoNs);
    const hs = fresh[fresh.length - 1]!;
    if (next.kind !== 'register') {
      t.fail(
        'LWM2M-CORE-REG-09',
        `the first request after the new DTLS handshake (${hs.cipherStandardName ?? hs.cipher ?? 'unknown suite'}, PSK identity "${hs.pskIdentity ?? ''}") was ${describeRequest(next)}, ${fmtMs(afterMs)} after the old session was dropped; a new security context needs a Register${dtlsTrouble(dtls)}`,
      );
    }
    t.pass(`after the DM dropped the DTLS session, the device made a new handshake and its first request over it was Register ${describeRequest(next)}, ${fmtMs(afterMs)} later${dtlsTrouble(dtls)}`);
  },
);
