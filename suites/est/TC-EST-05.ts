/*
 * Expected sequence (Certificate mode with EST; EST served on the Bootstrap-Server):
 *   (precondition) BS writes /0/x/2 = 4, /0/x/4 = EST CA, /0/x/15 = 2; Finish 2.04
 *   (precondition) device -> BS   GET /.well-known/est/crts, POST .../sen (CSR) -> 2.04 LDevID L
 *   device -> DM   DTLS handshake presenting exactly L, TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8
 *   device -> DM   (in DTLS) CON POST /rd?ep=<endpoint>...
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { describeRequest } from '../steps.js';
import { clientCertificateOf, describeDer, expectRegisterAfterEnrollment, modeFourEnrolment, mountEst, sameCertificate } from './est.js';

export default defineCase(
  {
    id: 'TC-EST-05',
    title: 'After EST enrollment the device registers with exactly the certificate issued',
    area: 'security',
    requirements: [
      { id: 'GEISA-ADM-LWM2M-04', section: 'GEISA adm/lwm2m.rst; LwM2M Transport 1.2 §5.2.4', quote: 'SHALL support Certificate mode with EST: "Once the certificate has been obtained it behaves like the Certificate mode"' },
      { id: 'GEISA-ADM-BS-06', section: 'GEISA security/ESTBootstrap.mermaid (informative)', quote: 'gets LDevID, registers over mDTLS with LDevID' },
    ],
    ics: 'transport.est',
    budget: (k) => bootstrapAndRegisterMs(k) + 2 * k.startupMs,
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['security', 'dtls', 'certificate', 'est', 'registration'],
    security: 'certificate',
  },
  async (t: CaseContext) => {
    const est = await mountEst(t);
    const { sen } = await modeFourEnrolment(t, est, {
      row: 'GEISA-ADM-LWM2M-04',
      bootstrap: 'Security Mode 4 bootstrap and enrollment (TC-EST-01, TC-EST-04 judge them)',
      enrolment: 'an EST enrollment (sen) answered 2.04',
      issued: true,
    });
    const register = await expectRegisterAfterEnrollment(t, 'GEISA-ADM-LWM2M-04');
    const presented = clientCertificateOf(t, register.remote);
    t.check('GEISA-ADM-LWM2M-04', 'the client certificate toward the LwM2M Server is the one EST issued', sameCertificate(presented, sen.issued!.der), {
      expected: describeDer(sen.issued!.der),
      observed: describeDer(presented),
    });
    t.check({ row: 'GEISA-ADM-BS-06', level: 'OPEN' }, 'the Register travels over the DTLS session authenticated with the LDevID', sameCertificate(presented, sen.issued!.der), {
      expected: 'mutual DTLS with the LDevID',
      observed: describeDer(presented),
    });
    t.pass(`the device registered presenting the certificate EST issued: ${describeRequest(register)}`);
  },
);
