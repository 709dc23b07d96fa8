/*
 * Expected sequence (the Bootstrap-Server is coaps:// in certificate mode, offering only
 * TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 and requesting a client certificate):
 *   device -> BS   DTLS handshake presenting its IDevID, which chains to the manufacturer CA
 *   device -> BS   (in DTLS) CON POST /bs?ep=<endpoint>
 *   BS -> device   2.04; Discover; Write /0/x (certificate-mode account); Write /1/y; Finish
 */
import { defineCase } from '../../harness/runner/case.js';
import { exchangesMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { MANDATORY_CERT_SUITE_ID } from '../../harness/servers/security.js';
import { cipherSuiteName } from '../../harness/recorder/dtls-records.js';
import { describeCertificate } from '../../harness/pki/certificates.js';
import { bootstrapRequested, certificateServerAccount, describeRequest, fingerprintOf, handshakeOf, registered } from '../steps.js';

export default defineCase(
  {
    id: 'TC-SEC-04',
    title: 'Bootstrap over DTLS 1.2 with certificates: mutual authentication with the IDevID, ECDHE-ECDSA-AES128-CCM8',
    area: 'security',
    requirements: [
      { id: 'GEISA-ADM-BS-05', section: 'GEISA security/certificates.rst', quote: 'GEISA devices MUST include an initial IDevID used for initial authentication' },
      { id: 'LWM2M-TRANS-DTLS-03', section: 'LwM2M Transport 1.2 §5.2.9.3 (1.1: §5.2.8.3)', quote: 'in certificate mode the client MUST support TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8' },
      { id: 'GEISA-ADM-LWM2M-03', section: 'GEISA adm/lwm2m.rst', quote: 'GEISA ADM devices SHALL use DTLS to secure CoAP' },
    ],
    ics: 'transport.dtls-certificate',
    // The device's first request, then a bootstrap session of Discover, two Writes and Finish.
    budget: (k) => k.firstRequestMs + exchangesMs(k, 4),
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['security', 'dtls', 'certificate', 'bootstrap'],
    security: 'certificate',
  },
  async (t: CaseContext) => {
    const req = await bootstrapRequested(t, {
      judge: 'GEISA-ADM-LWM2M-03',
      after: 'device start, over DTLS in certificate mode offering only TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8',
    });
    const hs = handshakeOf(t.bootstrapServer.dtls, req.remote);
    if (!hs) t.fail('GEISA-ADM-LWM2M-03', `the Bootstrap-Request ${describeRequest(req)} arrived without a DTLS handshake on record`);
    t.check('LWM2M-TRANS-DTLS-03', 'handshake completed with TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8', hs.cipherId === MANDATORY_CERT_SUITE_ID, {
      expected: 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8',
      observed: hs.cipherId !== null ? cipherSuiteName(hs.cipherId) : String(hs.cipher),
    });
    const leaf = hs.peerCertChainDer[0];
    t.check('GEISA-ADM-BS-05', 'the device presented a client certificate', leaf !== undefined, { expected: 'a certificate in the client Certificate message', observed: leaf ? describeCertificate(leaf) : 'none' });
    t.check('GEISA-ADM-BS-05', 'the client certificate chains to the manufacturer CA declared for the device', hs.verifyResult === 0, {
      expected: 'verify result 0 against the manufacturer CA',
      observed: `${hs.verifyResult} (${hs.verifyResultText})`,
    });
    const idevid = t.pki!.idevid;
    if (idevid) {
      // The harness installed the IDevID (bundled device): it must be exactly that one.
      t.check('GEISA-ADM-BS-05', 'the client certificate is the IDevID the device was provisioned with', fingerprintOf(leaf) === idevid.cert.fingerprint256, {
        expected: describeCertificate(idevid.certPem),
        observed: leaf ? describeCertificate(leaf) : 'none',
      });
    }
    const { account } = await certificateServerAccount(t);
    await registered(t, account, { request: req, until: 'finish', what: 'the bootstrap operations over the DTLS session', tool: { feature: 'the bootstrap operations over the DTLS session', judgedBy: 'TC-BS-*' } });
    t.pass(`DTLS handshake with ${hs.cipherId !== null ? cipherSuiteName(hs.cipherId) : hs.cipher}, client certificate ${leaf ? describeCertificate(leaf) : ''} verified; bootstrap ${describeRequest(req)} completed with Finish 2.04`);
  },
);
