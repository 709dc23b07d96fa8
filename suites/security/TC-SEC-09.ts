/*
 * Expected sequence (both servers coaps:// in certificate mode; the Bootstrap-Server writes
 * the certificate-mode LwM2M Server account with /0/x/16 DTLS/TLS Ciphersuite =
 * [0xC0AE TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8], the suite every certificate-mode device must implement):
 *   (precondition) certificate-mode bootstrap completes with Finish 2.04
 *   device -> DM   DTLS ClientHello proposing exactly the suites of /0/x/16 (signalling values set aside)
 *   device -> DM   (in DTLS) CON POST /rd?ep=<endpoint>...
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { MANDATORY_CERT_SUITE_ID } from '../../harness/servers/security.js';
import { certificateServerAccount, expectProposedSuites, registered } from '../steps.js';

export default defineCase(
  {
    id: 'TC-SEC-09',
    title: 'Certificate mode: the ClientHello toward the LwM2M Server proposes exactly the suites written in /0/x/16',
    area: 'security',
    requirements: [
      {
        id: 'LWM2M-TRANS-DTLS-05',
        section: 'OMA 0.xml res 16 (DTLS/TLS Ciphersuite)',
        quote: 'When this resource is present it instructs the TLS/DTLS client to propose the indicated ciphersuite(s) in the ClientHello of the handshake',
      },
    ],
    ics: 'transport.dtls-certificate',
    budget: (k) => bootstrapAndRegisterMs(k),
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['security', 'dtls', 'certificate', 'registration'],
    security: 'certificate',
  },
  async (t: CaseContext) => {
    const written = [MANDATORY_CERT_SUITE_ID];
    const { account } = await certificateServerAccount(t);
    await registered(t, { ...account, ciphersuites: written }, { until: 'finish', what: 'certificate-mode bootstrap completed, /0/x/16 written', tool: { feature: 'the certificate-mode bootstrap session', judgedBy: 'TC-SEC-04' } });
    await expectProposedSuites(t, written, t.bootstrapServer.dtls?.handshakes.all[0]?.clientOfferedCiphers, 'LWM2M-TRANS-DTLS-05');
  },
);
