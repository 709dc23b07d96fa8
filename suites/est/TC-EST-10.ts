/*
 * Expected sequence (GEISA two-pass EST; which LDevID is which is a GEISA ToDo):
 *   (precondition) Security Mode 4 bootstrap; crts, sen -> 2.04 LDevID L1
 *   device -> DM   Register over DTLS presenting L1 (the IDevID replaced: the settled half of the row)
 *   DM -> device   Execute /1/y/9 (Bootstrap-Request Trigger)
 *   device -> BS   a second Client-Initiated Bootstrap over DTLS presenting the LDevID ("used for
 *                  later re-authentication"); the IDevID here leaves the verdict open with the
 *                  clause, and the second, short-lived LDevID of the GEISA figure is not judged
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { authenticationFromHandshake, describeAuthentication } from '../../harness/est/peer-auth.js';
import { claims } from '../../harness/profile/ics-registry.js';
import { handshakeOf, registered } from '../steps.js';
import { clientCertificateOf, describeDer, estAccount, estWindowMs, expectEst, expectRegisterAfterEnrollment, mountEst, sameCertificate } from './est.js';

const CLAUSE = 'GEISA-ADM-BS-07, GEISA security/certificates.rst (how the long-lived and the short-lived LDevID are told apart is a GEISA ToDo)';

export default defineCase(
  {
    id: 'TC-EST-10',
    title: 'Two-pass EST: the LDevID replaces the IDevID toward the LwM2M Server and at the next bootstrap',
    area: 'security',
    requirements: [{ id: 'GEISA-ADM-BS-07', section: 'GEISA security/certificates.rst', quote: 'the client supports replacement of the IDevID by an operator long-lived LDevID used for later re-authentication (two-pass EST)' }],
    ics: 'transport.est',
    budget: (k) => 2 * (bootstrapAndRegisterMs(k) + k.startupMs) + k.lifetimeMs,
    floor: (k) => 2 * bootstrapAndRegisterFloorMs(k),
    tags: ['security', 'dtls', 'certificate', 'est', 'open-point'],
    security: 'certificate',
  },
  async (t: CaseContext) => {
    if (!claims(t.profile.ics, 'server.bootstrap-request-trigger')) {
      t.notApplicable("the second pass is started with the Bootstrap-Request Trigger (/1/x/9), which the ICS does not claim ('server.bootstrap-request-trigger')");
    }
    const est = await mountEst(t);
    const first = await t.precondition('the first pass: Security Mode 4 bootstrap and enrollment', async () => {
      const plan = await registered(t, estAccount(t, est), { until: 'finish', what: 'Security Mode 4 bootstrap' });
      const sen = await expectEst(t, est, 'sen', estWindowMs(t), 'Bootstrap-Finish', 'GEISA-ADM-BS-07');
      if (!sen.issued) t.fail('GEISA-ADM-BS-07', `the first enrollment was refused: ${sen.answeredWith}`);
      return { plan, sen, issued: sen.issued };
    });
    // The settled half of the row: the enrolled LDevID replaces the IDevID toward the operator's server.
    const register = await expectRegisterAfterEnrollment(t, 'GEISA-ADM-BS-07');
    const presented = clientCertificateOf(t, register.remote);
    t.check('GEISA-ADM-BS-07', 'after the first enrollment the LDevID replaces the IDevID toward the LwM2M Server', sameCertificate(presented, first.issued.der), {
      expected: describeDer(first.issued.der),
      observed: describeDer(presented),
    });
    const triggerPath = `/1/${first.plan.serverIid}/9`;
    let trigger = await t.lwm2mServer.execute(register.remote, triggerPath);
    if (trigger.code === '4.01') {
      // On a loaded machine the Execute can overtake the device's handling of its 2.01: once
      // its next Update shows it registered, the trigger is sent once more.
      const update = await t.lwm2mServer.messages.next((m) => m.kind === 'update' && m.monoNs > register.monoNs, t.timers.lifetimeMs + estWindowMs(t), t.signal);
      if (update) {
        t.note(`the device's Update ${update.path} shows it registered: Execute ${triggerPath} sent again`);
        trigger = await t.lwm2mServer.execute(update.remote, triggerPath);
      }
    }
    const again = await t.bootstrapServer.expectBootstrapRequest(estWindowMs(t), t.signal);
    if (!again) t.inconclusive(`no second Bootstrap-Request within ${estWindowMs(t) / 1000} s of the Bootstrap-Request Trigger (${trigger.code}): the second pass of ${CLAUSE} was not observed`);
    const auth = authenticationFromHandshake(handshakeOf(t.bootstrapServer.dtls, again.remote), est.anchors);
    t.note(`second bootstrap: ${describeAuthentication(auth)}`);
    if (auth.kind === 'certificate' && auth.anchor === 'manufacturer') {
      t.specOpen(CLAUSE, `at the second bootstrap the device presented its IDevID again, not the LDevID of the first enrollment (${describeAuthentication(auth)})`);
      return;
    }
    t.check('GEISA-ADM-BS-07', 'the second bootstrap is authenticated with the LDevID of the first enrollment', auth.kind === 'certificate' && sameCertificate(auth.chainDer[0], first.issued.der), {
      expected: `the LDevID ${describeDer(first.issued.der)}`,
      observed: describeAuthentication(auth),
    });
    t.pass(`the LDevID replaced the IDevID toward the LwM2M Server and at the next bootstrap; whether a second enrollment must then issue a separate short-lived LDevID is not judged (${CLAUSE})`);
  },
);
