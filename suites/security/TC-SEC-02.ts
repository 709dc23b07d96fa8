/*
 * Expected sequence (both servers coaps://; the Bootstrap-Server writes Security Mode 0 with
 * a fresh PSK identity I and key K for the LwM2M Server):
 *   (precondition) DTLS-PSK bootstrap completes with Finish 2.04
 *   device -> DM   DTLS handshake with psk_identity = I (= /0/x/3), TLS_PSK_WITH_AES_128_CCM_8
 *   device -> DM   (in DTLS) CON POST /rd?ep=<endpoint>...
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { MANDATORY_PSK_SUITE_ID } from '../../harness/servers/security.js';
import { cipherSuiteName } from '../../harness/recorder/dtls-records.js';
import { checkEndpointName, describeRequest, handshakeOf, registered, serverAccount } from '../steps.js';
import { expectRegisterOverDtls } from './evidence.js';

export default defineCase(
  {
    id: 'TC-SEC-02',
    title: 'Registration over DTLS with the PSK credentials written at bootstrap',
    area: 'security',
    requirements: [
      { id: 'LWM2M-TRANS-DTLS-04', section: 'OMA 0.xml res 2, 3, 5', quote: 'Security Mode /0/x/2 = 0 (PSK): the identity is /0/x/3 and the key /0/x/5' },
      { id: 'LWM2M-TRANS-DTLS-02', section: 'LwM2M Transport 1.2 §5.2.9.1 (1.1: §5.2.8.1)', quote: 'in PSK mode the client MUST support TLS_PSK_WITH_AES_128_CCM_8' },
      { id: 'GEISA-ADM-LWM2M-03', section: 'GEISA adm/lwm2m.rst', quote: 'GEISA ADM devices SHALL use DTLS to secure CoAP' },
      { id: 'LWM2M-CORE-REG-01', section: 'LwM2M Core 1.2 §6.2.1', quote: 'Register: CON POST /rd with Uri-Query ep={Endpoint Client Name}' },
    ],
    ics: 'transport.dtls-psk',
    budget: (k) => bootstrapAndRegisterMs(k),
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['security', 'dtls', 'registration'],
    security: 'psk',
  },
  async (t: CaseContext) => {
    const account = serverAccount(t);
    const written = account.psk!;
    await registered(t, account, { until: 'finish', what: 'DTLS-PSK bootstrap completed', tool: { feature: 'the bootstrap session over DTLS', judgedBy: 'TC-SEC-01' } });

    const register = await expectRegisterOverDtls(t, written.identity);
    const hs = handshakeOf(t.lwm2mServer.dtls, register.remote);
    if (!hs) t.fail('GEISA-ADM-LWM2M-03', `the Register ${describeRequest(register)} arrived without a DTLS handshake on record`);
    t.check('LWM2M-TRANS-DTLS-04', 'PSK identity in the handshake with the LwM2M Server is /0/x/3 as written', hs.pskIdentity === written.identity, {
      expected: `"${written.identity}"`,
      observed: hs.pskIdentity === null ? 'no PSK identity' : `"${hs.pskIdentity}"`,
    });
    t.check('LWM2M-TRANS-DTLS-02', 'handshake completed with TLS_PSK_WITH_AES_128_CCM_8', hs.cipherId === MANDATORY_PSK_SUITE_ID, {
      expected: 'TLS_PSK_WITH_AES_128_CCM_8',
      observed: hs.cipherId !== null ? cipherSuiteName(hs.cipherId) : String(hs.cipher),
    });
    checkEndpointName(t, 'LWM2M-CORE-REG-01', 'Register', register);
    t.pass(`the device registered over DTLS (${hs.cipherId !== null ? cipherSuiteName(hs.cipherId) : hs.cipher}, PSK identity "${hs.pskIdentity}" as written to /0/x/3): ${describeRequest(register)}`);
  },
);
