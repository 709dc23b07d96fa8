/*
 * Expected sequence (Certificate mode with EST; the EST server refuses the enrollment 4.03):
 *   (precondition) Security Mode 4 bootstrap; Finish 2.04
 *   device -> BS   POST /.well-known/est/sen -> 4.03 Forbidden
 *   and no Register reaches the LwM2M Server, in particular none over a session with the IDevID
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { describeRequest } from '../steps.js';
import { clientCertificateOf, describeDer, estWindowMs, modeFourEnrolment, mountEst } from './est.js';

export default defineCase(
  {
    id: 'TC-EST-09',
    title: 'An enrollment refused 4.03: the device does not register with its IDevID instead',
    area: 'security',
    requirements: [
      {
        id: 'GEISA-ADM-LWM2M-04',
        section: 'LwM2M Transport 1.2 §5.2.4',
        quote: 'Security Mode 4 triggers the client "to initiate an EST over CoAP protocol exchange to obtain a certificate. Once the certificate has been obtained it behaves like the Certificate mode"',
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
    est.service.policies.sen = { kind: 'reject', code: '4.03' };
    const { sen: refused } = await modeFourEnrolment(t, est, { row: 'GEISA-ADM-LWM2M-04', enrolment: 'an enrollment attempt (sen)' });
    if (refused.answeredWith !== '4.03') t.inconclusive(`the sen was answered ${refused.answeredWith} (${refused.refusal ?? ''}), not the armed 4.03`);
    const windowMs = estWindowMs(t);
    const register = await t.lwm2mServer.expectRegister(windowMs, t.signal);
    if (register) {
      t.fail('GEISA-ADM-LWM2M-04', `the device registered after its enrollment was refused 4.03 (${describeRequest(register)}), presenting ${describeDer(clientCertificateOf(t, register.remote))}`);
    }
    const handshake = t.lwm2mServer.dtls?.handshakes.all[0];
    t.check('GEISA-ADM-LWM2M-04', 'no DTLS session with the LwM2M Server without an enrolled certificate', handshake === undefined, {
      expected: `no handshake within ${windowMs / 1000} s of the 4.03`,
      observed: handshake ? `a handshake presenting ${describeDer(handshake.peerCertChainDer[0])}` : 'none',
    });
    t.pass(`after the 4.03 the device stayed away from the LwM2M Server for ${windowMs / 1000} s`);
  },
);
