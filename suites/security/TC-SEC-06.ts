/*
 * Expected sequence (certificate mode; the Bootstrap-Server writes into /0/x/4, with
 * Certificate Usage 3, a certificate that is NOT the one the LwM2M Server presents):
 *   (precondition) certificate-mode bootstrap completes with Finish 2.04
 *   device -> DM   DTLS handshake, aborted by the device (the server certificate does not match /0/x/4)
 *   and no Register ever reaches that server
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { issueCertificate } from '../../harness/pki/certificates.js';
import { certificateServerAccount, describeRequest, registered } from '../steps.js';

/** The row that says the client authenticates the server with what /0/x/4 holds. */
const PINNING = 'LWM2M-CORE-BS-10';

export default defineCase(
  {
    id: 'TC-SEC-06',
    title: 'Certificate mode: the device refuses a LwM2M Server whose certificate does not match /0/x/4 (Certificate Usage 3)',
    area: 'security',
    requirements: [
      { id: 'LWM2M-TRANS-DTLS-03', section: 'LwM2M Transport 1.2 §5.2.9.7 (Certificate Usage)', quote: 'Certificate Usage 3 (domain-issued certificate): the server certificate must match the one provisioned in /0/x/4' },
      { id: 'LWM2M-CORE-BS-10', section: 'OMA 0.xml res 4, 15', quote: '/0/x/4 holds the server certificate the client authenticates the server with; /0/x/15 says how' },
    ],
    ics: 'transport.dtls-certificate',
    budget: (k) => bootstrapAndRegisterMs(k),
    floor: (k) => bootstrapAndRegisterFloorMs(k) + k.startupMs,
    tags: ['security', 'dtls', 'certificate', 'negative'],
    security: 'certificate',
  },
  async (t: CaseContext) => {
    // A certificate from the same CA for the same address: only pinning tells it apart.
    const decoy = await issueCertificate(t.pki!.runCa, { commonName: 'geisa-adm lwm2m-server', hosts: [t.profile.harness.advertiseHost], usage: 'server' });
    const { account } = await certificateServerAccount(t, { serverCertPem: decoy.certPem });
    await registered(t, account, { until: 'finish', what: 'certificate-mode bootstrap completed', tool: { feature: 'the certificate-mode bootstrap session', judgedBy: 'TC-SEC-04' } });
    const windowMs = t.timers.startupMs;
    const register = await t.lwm2mServer.expectRegister(windowMs, t.signal);
    if (register) {
      t.fail(PINNING, `the device registered (${describeRequest(register)}) with a LwM2M Server whose certificate is not the one written to /0/x/4 under Certificate Usage 3`);
    }
    const dtls = t.lwm2mServer.dtls!;
    // The client checks the server certificate before its Finished: a completed handshake
    // means the device accepted the wrong certificate, Register or not.
    const accepted = dtls.handshakes.all[0];
    if (accepted) {
      t.fail(PINNING, `the device completed a DTLS handshake (${accepted.cipher}) with a LwM2M Server whose certificate is not the one written to /0/x/4 under Certificate Usage 3`);
    }
    const attempts = dtls.handshakeFailures.all.length + dtls.handshakes.all.length;
    if (attempts === 0) {
      t.inconclusive(`the device never started a DTLS handshake with the LwM2M Server within ${windowMs / 1000} s, so whether it checks the server certificate was not observed`);
    }
    const failure = dtls.handshakeFailures.all[0]!;
    t.pass(`the device refused the LwM2M Server whose certificate does not match /0/x/4: ${attempts} handshake attempt(s), the first: ${dtls.explainFailure(failure).outcome}; no Register within ${windowMs / 1000} s`);
  },
);
