/*
 * Expected sequence (the Bootstrap-Server writes Security Mode 0 = PSK for a coaps:// server):
 *   (precondition) DTLS-PSK bootstrap completes with Finish 2.04
 *   device -> DM   DTLS handshake, then CoAP inside it
 *   and never a plaintext CoAP datagram to the LwM2M Server
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { describePlaintext, describeRequest, registered, serverAccount } from '../steps.js';

export default defineCase(
  {
    id: 'TC-SEC-03',
    title: 'No plaintext CoAP to a server whose Security Mode is PSK',
    area: 'security',
    requirements: [
      { id: 'GEISA-ADM-LWM2M-03', section: 'GEISA adm/lwm2m.rst', quote: 'DTLS for CoAP security: no plaintext CoAP when Security Mode is not NoSec' },
      { id: 'LWM2M-TRANS-DTLS-04', section: 'OMA 0.xml res 2', quote: 'Security Mode /0/x/2 decides how the client secures the connection' },
    ],
    ics: 'transport.dtls-psk',
    budget: (k) => bootstrapAndRegisterMs(k),
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['security', 'dtls', 'negative'],
    security: 'psk',
  },
  async (t: CaseContext) => {
    const account = serverAccount(t);
    await registered(t, account, { until: 'finish', what: 'DTLS-PSK bootstrap completed', tool: { feature: 'the bootstrap session over DTLS', judgedBy: 'TC-SEC-01' } });

    // Watch the LwM2M Server until the device has registered (or the startup window ends).
    const windowMs = t.timers.startupMs;
    const register = await t.lwm2mServer.expectRegister(windowMs, t.signal);
    const plaintext = t.lwm2mServer.dtls!.dropped.all;
    t.check('GEISA-ADM-LWM2M-03', 'no plaintext datagram to the coaps:// LwM2M Server', plaintext.length === 0, {
      expected: 'only DTLS records (Security Mode 0 was written)',
      observed: plaintext.length === 0 ? 'only DTLS' : `${plaintext.length} non-DTLS datagram(s), first: ${describePlaintext(plaintext[0]!.bytes)} from ${plaintext[0]!.remote.address}:${plaintext[0]!.remote.port}`,
    });
    if (!register && plaintext.length === 0) {
      t.inconclusive(`the device did not contact the LwM2M Server within ${windowMs / 1000} s of Bootstrap-Finish, so there was nothing to judge (TC-SEC-02 judges the registration itself)`);
    }
    if (register) t.pass(`the device reached the LwM2M Server only through DTLS: ${describeRequest(register)}`);
  },
);
