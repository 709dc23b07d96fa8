/*
 * Expected sequence (certificate mode; the Bootstrap-Server writes Security Mode 2 with a
 * fresh operational certificate C and key for the device, and the LwM2M Server's own
 * certificate in /0/x/4 with Certificate Usage 3):
 *   (precondition) certificate-mode bootstrap completes with Finish 2.04
 *   device -> DM   DTLS handshake presenting C (= /0/x/3), TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8
 *   device -> DM   (in DTLS) CON POST /rd?ep=<endpoint>...
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { MANDATORY_CERT_SUITE_ID } from '../../harness/servers/security.js';
import { cipherSuiteName } from '../../harness/recorder/dtls-records.js';
import { describeCertificate } from '../../harness/pki/certificates.js';
import { X509Certificate } from 'node:crypto';
import { certificateServerAccount, describeRequest, expectRegister, fingerprintOf, handshakeOf, registered } from '../steps.js';

export default defineCase(
  {
    id: 'TC-SEC-05',
    title: 'Registration in certificate mode with the certificate written at bootstrap',
    area: 'security',
    requirements: [
      { id: 'LWM2M-CORE-BS-10', section: 'OMA 0.xml res 2-5', quote: 'Security Mode 2: /0/x/3 is the client certificate, /0/x/4 the server certificate, /0/x/5 the client private key' },
      { id: 'LWM2M-TRANS-DTLS-03', section: 'LwM2M Transport 1.2 §5.2.9.3 (1.1: §5.2.8.3)', quote: 'in certificate mode the client MUST support TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8' },
    ],
    ics: 'transport.dtls-certificate',
    budget: (k) => bootstrapAndRegisterMs(k),
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['security', 'dtls', 'certificate', 'registration'],
    security: 'certificate',
  },
  async (t: CaseContext) => {
    const { account, clientCertPem } = await certificateServerAccount(t);
    await registered(t, account, { until: 'finish', what: 'certificate-mode bootstrap completed', tool: { feature: 'the certificate-mode bootstrap session', judgedBy: 'TC-SEC-04' } });
    // A device that presents another certificate fails the handshake: no Register, and /0/x/3 was not used.
    const register = await expectRegister(t, t.timers.startupMs, 'Bootstrap-Finish', 'LWM2M-CORE-BS-10');
    const hs = handshakeOf(t.lwm2mServer.dtls, register.remote);
    if (!hs) t.fail('LWM2M-CORE-BS-10', `the Register ${describeRequest(register)} arrived without a DTLS handshake on record`);
    const leaf = hs.peerCertChainDer[0];
    t.check('LWM2M-CORE-BS-10', 'the client certificate toward the LwM2M Server is /0/x/3 as written', fingerprintOf(leaf) === new X509Certificate(clientCertPem).fingerprint256, {
      expected: describeCertificate(clientCertPem),
      observed: leaf ? describeCertificate(leaf) : 'no client certificate',
    });
    t.check('LWM2M-TRANS-DTLS-03', 'handshake completed with TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8', hs.cipherId === MANDATORY_CERT_SUITE_ID, {
      expected: 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8',
      observed: hs.cipherId !== null ? cipherSuiteName(hs.cipherId) : String(hs.cipher),
    });
    t.pass(`the device registered over DTLS in certificate mode presenting the certificate written to /0/x/3: ${describeRequest(register)}`);
  },
);
