/*
 * Expected sequence (Certificate mode with EST; /0/x/4 holds a trust anchor that did NOT sign
 * the LwM2M Server's certificate, Certificate Usage 2):
 *   (precondition) Security Mode 4 bootstrap; Finish 2.04; crts, sen -> 2.04
 *   device -> DM   DTLS handshake, aborted by the device (the server's certificate chains to another CA)
 *   and no Register ever reaches that server
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { createCa } from '../../harness/pki/certificates.js';
import { derOfCertificate } from '../../harness/pki/case-pki.js';
import { describeRequest } from '../steps.js';
import { estAccount, estWindowMs, modeFourEnrolment, mountEst } from './est.js';

export default defineCase(
  {
    id: 'TC-EST-06',
    title: 'Certificate mode with EST: the device refuses a LwM2M Server whose certificate comes from another CA',
    area: 'security',
    requirements: [
      {
        id: 'GEISA-ADM-LWM2M-04',
        section: 'LwM2M Transport 1.2 §5.2.4, §5.2.9.3',
        quote: '"the certificate of the TLS/DTLS server MUST be provisioned to the Server Public Key Resource"; the server identity check "MUST be implemented and used by the TLS/DTLS client"',
      },
    ],
    ics: 'transport.est',
    budget: (k) => bootstrapAndRegisterMs(k) + 2 * k.startupMs,
    floor: (k) => bootstrapAndRegisterFloorMs(k) + k.startupMs,
    tags: ['security', 'dtls', 'certificate', 'est', 'negative'],
    security: 'certificate',
  },
  async (t: CaseContext) => {
    const est = await mountEst(t);
    const other = await createCa('GEISA ADM unrelated CA');
    const { sen } = await modeFourEnrolment(t, est, {
      row: 'GEISA-ADM-LWM2M-04',
      account: estAccount(t, est, { serverCertDer: derOfCertificate(other.certPem) }),
      bootstrap: 'Security Mode 4 bootstrap with another CA in /0/x/4',
      enrolment: 'an EST enrollment (sen) answered 2.04',
    });
    if (!sen.issued) t.inconclusive(`the enrollment was refused (${sen.answeredWith}); the server check toward the LwM2M Server is not reached`);
    const windowMs = estWindowMs(t);
    const register = await t.lwm2mServer.expectRegister(windowMs, t.signal);
    if (register) t.fail('GEISA-ADM-LWM2M-04', `the device registered (${describeRequest(register)}) with a LwM2M Server whose certificate does not chain to the anchor written to /0/x/4 under Certificate Usage 2`);
    const dtls = t.lwm2mServer.dtls!;
    const accepted = dtls.handshakes.all[0];
    if (accepted) t.fail('GEISA-ADM-LWM2M-04', `the device completed a DTLS handshake (${accepted.cipher}) with a LwM2M Server whose certificate does not chain to /0/x/4`);
    const attempts = dtls.handshakeFailures.all.length;
    if (attempts === 0) t.inconclusive(`the device never started a DTLS handshake with the LwM2M Server within ${windowMs / 1000} s of its enrollment, so whether it checks the server certificate was not observed`);
    t.pass(`the device refused the LwM2M Server whose certificate comes from another CA: ${attempts} handshake attempt(s), the first: ${dtls.explainFailure(dtls.handshakeFailures.all[0]!).outcome}`);
  },
);
