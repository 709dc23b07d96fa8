/*
 * Expected sequence (Certificate mode with EST; EST served on the Bootstrap-Server):
 *   (precondition) Security Mode 4 bootstrap; Finish 2.04
 *   device -> BS   POST /.well-known/est/sen, Content-Format 286: a PKCS#10 whose self-signature
 *                  verifies, with a key of the type the IXIT declares (not the IDevID's key) and,
 *                  when the IXIT says so, the endpoint name as subject CN
 *   (the device is provisioned again and restarted: a second bootstrap and enrollment)
 *   device -> BS   POST …/sen with another public key than the first
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { describeCsrFindings } from '../../harness/pki/csr.js';
import type { EstIxit } from '../../harness/profile/load.js';
import { estAccount, estWindowMs, expectEst, mountEst } from './est.js';
import { registered } from '../steps.js';

/** What a CSR key must look like for each IXIT key type (node:crypto names). */
const KEY_TYPES: Record<EstIxit['keyType'], { type: string; curve?: string; bits?: number }> = {
  'ec-p256': { type: 'ec', curve: 'prime256v1' },
  'ec-p384': { type: 'ec', curve: 'secp384r1' },
  'rsa-2048': { type: 'rsa', bits: 2048 },
  'rsa-3072': { type: 'rsa', bits: 3072 },
};

export default defineCase(
  {
    id: 'TC-EST-04',
    title: 'The CSR is well formed: valid self-signature, declared key type, endpoint name, a fresh key each enrollment',
    area: 'security',
    requirements: [
      { id: 'GEISA-ADM-LWM2M-05', section: 'GEISA adm/lwm2m.rst; RFC 9148 §4.2, RFC 7030 §4.2.1', quote: 'SHALL support EST over CoAP per RFC 9148: sen carries a PKCS#10 whose signature proves possession of the private key' },
      { id: 'GEISA-ADM-LWM2M-04', section: 'LwM2M Transport 1.2 §5.2.4, §5.2.9.3', quote: 'Certificate mode with EST; X.509: "The curve secp256r1 SHALL be supported. Elliptic curve groups of less than 255 bits SHALL NOT be supported"' },
      {
        id: 'LWM2M-TRANS-EST-03',
        section: 'LwM2M Transport 1.2 §5.2.4, §5.2.9.3',
        quote: 'LwM2M Clients SHOULD ... generate the public/private key pair locally; client certificates SHOULD contain the endpoint client name in the subject CN',
      },
    ],
    ics: 'transport.est',
    budget: (k) => 2 * (bootstrapAndRegisterMs(k) + k.startupMs),
    floor: (k) => 2 * bootstrapAndRegisterFloorMs(k),
    tags: ['security', 'dtls', 'certificate', 'est'],
    security: 'certificate',
  },
  async (t: CaseContext) => {
    const est = await mountEst(t);
    await registered(t, estAccount(t, est), { until: 'finish', what: 'Security Mode 4 bootstrap (TC-EST-01 judges it)' });
    const sen = await expectEst(t, est, 'sen', estWindowMs(t), 'Bootstrap-Finish', 'GEISA-ADM-LWM2M-05');
    const csr = sen.csr;
    t.check('GEISA-ADM-LWM2M-05', 'sen carries Content-Format 286 and a readable PKCS#10', sen.contentFormat === 286 && csr?.parsed === true, {
      expected: 'Content-Format 286 (application/pkcs10), a DER PKCS#10',
      observed: `Content-Format ${sen.contentFormat ?? 'none'}; ${csr ? describeCsrFindings(csr) : 'no CSR read'}`,
    });
    if (!csr?.parsed) return;
    t.check('GEISA-ADM-LWM2M-05', "the CSR's self-signature verifies with the key it carries", csr.signatureValid, {
      expected: 'a valid signature (proof of possession)',
      observed: describeCsrFindings(csr),
    });
    const want = KEY_TYPES[est.ixit.keyType];
    const key = csr.key;
    const strongEnough = (key.type === 'ec' && (key.bits ?? 0) >= 255) || (key.type === 'rsa' && (key.bits ?? 0) >= 2048);
    t.check(
      'GEISA-ADM-LWM2M-04',
      `the CSR key is of the type the IXIT declares (${est.ixit.keyType}) and of an allowed size`,
      strongEnough && key.type === want.type && (want.curve === undefined || key.curve === want.curve) && (want.bits === undefined || key.bits === want.bits),
      {
        expected: `${est.ixit.keyType} (EC curves of at least 255 bits; RSA of at least 2048)`,
        observed: key.description,
      },
    );
    if (est.ixit.endpointNameInSubject) {
      t.check('LWM2M-TRANS-EST-03', 'the CSR subject CN is the Endpoint Client Name (the IXIT says the device puts it there)', csr.commonName === t.endpoint, {
        expected: `CN=${t.endpoint}`,
        observed: csr.subject || '(empty subject)',
      });
    }
    const idevidKey = sen.auth.kind === 'certificate' ? sen.auth.leaf.publicKeyFingerprint : undefined;
    t.check('LWM2M-TRANS-EST-03', 'the CSR key is not the IDevID key (generated for the LDevID)', idevidKey !== undefined && csr.publicKeyFingerprint !== idevidKey, {
      expected: `a key other than the IDevID's ${idevidKey ?? '(IDevID not seen)'}`,
      observed: `key ${csr.publicKeyFingerprint}`,
    });
    if (!sen.issued) {
      t.note(`the enrollment was refused (${sen.answeredWith}: ${sen.refusal ?? ''}): no second enrollment`);
      return;
    }
    // A second enrollment from scratch: the device is provisioned again and bootstraps again.
    await t.precondition('a second Security Mode 4 bootstrap after provisioning again', async () => {
      await t.device.stop();
      await registered(t, estAccount(t, est), { until: 'finish', what: 'Security Mode 4 bootstrap' });
    });
    const again = await t.precondition('a second enrollment (sen)', () => expectEst(t, est, 'sen', estWindowMs(t), 'the second Bootstrap-Finish', 'LWM2M-TRANS-EST-03'));
    const second = again.csr;
    t.check('LWM2M-TRANS-EST-03', 'the second enrollment carries a key other than the first', second?.parsed === true && second.publicKeyFingerprint !== csr.publicKeyFingerprint, {
      expected: `a key other than ${csr.publicKeyFingerprint}`,
      observed: second ? describeCsrFindings(second) : 'no CSR',
    });
    t.pass(`the CSR is well formed (${describeCsrFindings(csr)}) and a second enrollment brought a fresh key`);
  },
);
