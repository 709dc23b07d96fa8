/*
 * Expected sequence (the Bootstrap-Server is coaps:// and offers only TLS_PSK_WITH_AES_128_CCM_8):
 *   device -> BS   DTLS ClientHello offering 0xC0A8 ... handshake with psk_identity = the provisioned identity
 *   device -> BS   (in DTLS) CON POST /bs?ep=<endpoint>
 *   BS -> device   2.04; Discover; Write /0/x (PSK account for the LwM2M Server); Write /1/y; Finish
 *   device -> BS   2.05, 2.04, 2.04, 2.04
 */
import { defineCase } from '../../harness/runner/case.js';
import { exchangesMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { MANDATORY_PSK_SUITE_ID } from '../../harness/servers/security.js';
import { cipherSuiteName } from '../../harness/recorder/dtls-records.js';
import { bootstrapRequested, checkEndpointName, describeRequest, handshakeOf, registered, serverAccount } from '../steps.js';

export default defineCase(
  {
    id: 'TC-SEC-01',
    title: 'Bootstrap over DTLS 1.2 with PSK and TLS_PSK_WITH_AES_128_CCM_8',
    area: 'security',
    requirements: [
      { id: 'GEISA-ADM-LWM2M-03', section: 'GEISA adm/lwm2m.rst', quote: 'GEISA ADM devices SHALL use DTLS to secure CoAP' },
      { id: 'LWM2M-TRANS-DTLS-02', section: 'LwM2M Transport 1.2 §5.2.9.1 (1.1: §5.2.8.1)', quote: 'in PSK mode the client MUST support TLS_PSK_WITH_AES_128_CCM_8' },
      { id: 'LWM2M-TRANS-DTLS-04', section: 'OMA 0.xml res 3, 5', quote: 'the PSK identity is /0/x/3 and the key /0/x/5 of the account' },
      { id: 'LWM2M-TRANS-DTLS-01', section: 'LwM2M Transport 1.2 §5.2', quote: 'the client initiates the DTLS handshake toward the Bootstrap-Server' },
      { id: 'GEISA-ADM-BS-04', section: 'GEISA adm/bootstrap.rst note (ToDo)', quote: 'ep may be omitted when the security identity suffices: open, judged inconclusive' },
      { id: 'LWM2M-CORE-BS-01', section: 'LwM2M Core 1.2 §6.1.7.1', quote: 'Bootstrap-Request: CON POST /bs with Uri-Query ep={Endpoint Client Name}' },
    ],
    ics: 'transport.dtls-psk',
    // The device's first request, then a bootstrap session of Discover, two Writes and Finish.
    budget: (k) => k.firstRequestMs + exchangesMs(k, 4),
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['security', 'dtls', 'bootstrap'],
    security: 'psk',
  },
  async (t: CaseContext) => {
    const provisioned = t.bootstrapPsk!;
    const req = await bootstrapRequested(t, { judge: 'GEISA-ADM-LWM2M-03', after: 'device start, over DTLS offering only TLS_PSK_WITH_AES_128_CCM_8' });

    const hs = handshakeOf(t.bootstrapServer.dtls, req.remote);
    if (!hs) t.fail('GEISA-ADM-LWM2M-03', `the Bootstrap-Request ${describeRequest(req)} arrived without a DTLS handshake on record`);
    t.check('LWM2M-TRANS-DTLS-02', 'ClientHello offers TLS_PSK_WITH_AES_128_CCM_8', hs.clientOfferedCiphers.includes(MANDATORY_PSK_SUITE_ID), {
      expected: 'cipher list containing TLS_PSK_WITH_AES_128_CCM_8 (0xC0A8)',
      observed: hs.clientOfferedCiphers.map(cipherSuiteName).join(', ') || '(not captured)',
    });
    t.check('LWM2M-TRANS-DTLS-02', 'handshake completed with TLS_PSK_WITH_AES_128_CCM_8', hs.cipherId === MANDATORY_PSK_SUITE_ID, {
      expected: 'TLS_PSK_WITH_AES_128_CCM_8',
      observed: hs.cipherId !== null ? cipherSuiteName(hs.cipherId) : String(hs.cipher),
    });
    t.check('LWM2M-TRANS-DTLS-04', 'PSK identity in the handshake is the provisioned one', hs.pskIdentity === provisioned.identity, {
      expected: `"${provisioned.identity}"`,
      observed: hs.pskIdentity === null ? 'no PSK identity' : `"${hs.pskIdentity}"`,
    });
    if (!req.query.has('ep')) {
      // Over DTLS the PSK identity already names the device; GEISA's ToDo leaves ep optional then.
      t.specOpen('GEISA adm/bootstrap.rst note "ToDo" (GEISA-ADM-BS-04, catalog O-5)', `Bootstrap-Request ${describeRequest(req)} has no ep; the PSK identity "${hs.pskIdentity}" identifies the device`);
    } else {
      checkEndpointName(t, 'LWM2M-CORE-BS-01', 'Bootstrap-Request', req);
    }

    // The operations are TC-BS-*'s to judge; here they only show the session carries CoAP.
    await registered(t, serverAccount(t), { request: req, until: 'finish', what: 'the bootstrap operations over the DTLS session', tool: { feature: 'the bootstrap operations over the DTLS session', judgedBy: 'TC-BS-*' } });
    t.pass(`DTLS handshake with ${hs.cipherId !== null ? cipherSuiteName(hs.cipherId) : hs.cipher} and PSK identity "${hs.pskIdentity}" in ${hs.durationMs.toFixed(0)} ms, then bootstrap ${describeRequest(req)} completed with Finish 2.04`);
  },
);
