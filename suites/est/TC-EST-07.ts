/*
 * Expected sequence (Certificate mode with EST; the EST CA issues certificates living
 * `certificateLifetimeS` of the IXIT):
 *   (precondition) Security Mode 4 bootstrap; crts, sen -> 2.04 LDevID L1 (short-lived); Register with L1
 *   device -> BS   before L1 expires: DTLS presenting L1; POST /.well-known/est/sren -> 2.04 L2
 *   device -> DM   the next registration message travels over DTLS presenting L2
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { describeAuthentication } from '../../harness/est/peer-auth.js';
import { estIxit } from '../../harness/profile/load.js';
import { describeRequest, registered } from '../steps.js';
import { clientCertificateOf, describeDer, estAccount, estWindowMs, expectEst, expectRegisterAfterEnrollment, mountEst, sameCertificate } from './est.js';

export default defineCase(
  {
    id: 'TC-EST-07',
    title: 'The device re-enrolls (sren) with its current certificate before that certificate expires',
    area: 'security',
    requirements: [
      {
        id: 'GEISA-ADM-LWM2M-05',
        section: 'GEISA adm/lwm2m.rst; RFC 9148 §4.2 (sren), RFC 7030 §4.2.2',
        quote: 'SHALL support EST over CoAP per RFC 9148: simple re-enrollment renews the certificate, authenticated with the certificate being renewed',
      },
      { id: 'EST-COAPS-02', section: 'RFC 9148 §3', quote: 'the client authenticates with a previously issued client certificate for re-enrollment' },
      { id: 'GEISA-ADM-LWM2M-04', section: 'LwM2M Transport 1.2 §5.2.4', quote: 'once the certificate has been obtained it behaves like the Certificate mode' },
    ],
    ics: 'transport.est',
    budget: (k) => bootstrapAndRegisterMs(k) + 2 * k.startupMs + k.estCertificateLifetimeMs,
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['security', 'dtls', 'certificate', 'est', 'timing'],
    security: 'certificate',
  },
  async (t: CaseContext) => {
    const lifetimeS = estIxit(t.ixit).certificateLifetimeS;
    const est = await mountEst(t, { lifetimeS });
    await t.precondition('Security Mode 4 bootstrap, enrollment and Register (TC-EST-05 judges them)', async () => {
      await registered(t, estAccount(t, est), { until: 'finish', what: 'Security Mode 4 bootstrap' });
      const sen = await expectEst(t, est, 'sen', estWindowMs(t), 'Bootstrap-Finish', 'GEISA-ADM-LWM2M-05');
      if (!sen.issued) t.fail('GEISA-ADM-LWM2M-05', `the enrollment was refused: ${sen.answeredWith}`);
      await expectRegisterAfterEnrollment(t, 'GEISA-ADM-LWM2M-04');
    });
    const first = est.service.exchanges.all.find((e) => e.operation === 'sen' && e.issued)!.issued!;
    const leftMs = first.notAfter.getTime() - Date.now();
    t.note(`LDevID ${first.fingerprint} issued for ${lifetimeS} s, valid to ${first.notAfter.toISOString()}: ${(leftMs / 1000).toFixed(1)} s left`);
    const sren = await est.service.expect('sren', Math.max(0, leftMs), t.signal);
    if (!sren) {
      const other = est.service.exchanges.all.filter((e) => e.operation !== 'crts' && e.monoNs > first.monoNs);
      t.fail(
        'GEISA-ADM-LWM2M-05',
        `no re-enrollment (POST …/sren) before the certificate expired at ${first.notAfter.toISOString()}${other.length ? `; EST requests meanwhile: ${other.map((e) => `${e.path} → ${e.answeredWith}`).join(', ')}` : ''}`,
      );
    }
    t.note(`sren ${sren.answeredWith}: ${describeAuthentication(sren.auth)}`);
    t.check('EST-COAPS-02', 'the sren session is authenticated with the certificate being renewed', sren.auth.kind === 'certificate' && sameCertificate(sren.auth.chainDer[0], first.der), {
      expected: describeDer(first.der),
      observed: describeAuthentication(sren.auth),
    });
    t.check('GEISA-ADM-LWM2M-05', 'the re-enrollment is answered 2.04 (a well-formed renewal of the same identity)', sren.answeredWith === '2.04', {
      expected: '2.04 with the renewed certificate',
      observed: `${sren.answeredWith ?? 'no answer'}${sren.refusal ? ` (${sren.refusal})` : ''}`,
    });
    if (!sren.issued) return;
    const next = await t.lwm2mServer.messages.next((m) => (m.kind === 'register' || m.kind === 'update') && m.monoNs > sren.completeMonoNs, estWindowMs(t), t.signal);
    if (!next) t.fail('GEISA-ADM-LWM2M-04', `no Register or Update reached the LwM2M Server within ${estWindowMs(t) / 1000} s of the re-enrollment`);
    const presented = clientCertificateOf(t, next.remote);
    t.check('GEISA-ADM-LWM2M-04', 'after re-enrollment the device talks to the LwM2M Server with the renewed certificate', sameCertificate(presented, sren.issued.der), {
      expected: describeDer(sren.issued.der),
      observed: describeDer(presented),
    });
    t.pass(`re-enrolled ${(Number(sren.monoNs - first.monoNs) / 1e9).toFixed(1)} s after the first enrollment, before expiry; then ${describeRequest(next)} with the renewed certificate`);
  },
);
