/*
 * Expected sequence (Certificate mode with EST; EST served on the Bootstrap-Server):
 *   (precondition) Security Mode 4 bootstrap; Finish 2.04
 *   device -> BS   GET /.well-known/est/crts -> 2.05 certs-only PKCS#7 holding the EST CA (the anchor)
 *   device -> BS   POST /.well-known/est/sen (CSR) -> 2.04 the LDevID, signed by that CA
 *   device -> DM   DTLS: it validates the LwM2M Server's certificate (signed by that CA) and registers
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { describeRequest } from '../steps.js';
import { describeExchange, expectRegisterAfterEnrollment, modeFourEnrolment, mountEst } from './est.js';

export default defineCase(
  {
    id: 'TC-EST-03',
    title: 'The device gets the CA certificates (crts) before it enrolls, and uses that anchor',
    area: 'security',
    requirements: [
      { id: 'EST-COAPS-05', section: 'RFC 7030 §4.1, §4.1.3; RFC 9148 §3', quote: 'the client requests the CA certificates (the explicit TA database) and validates what it is issued against them' },
      { id: 'EST-COAPS-01', section: 'RFC 9148 §4.1, §4.3', quote: 'crts: GET, answered with application/pkcs7-mime; smime-type=certs-only (281)' },
    ],
    ics: 'transport.est',
    budget: (k) => bootstrapAndRegisterMs(k) + 2 * k.startupMs,
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['security', 'dtls', 'certificate', 'est'],
    security: 'certificate',
  },
  async (t: CaseContext) => {
    const est = await mountEst(t);
    const { sen } = await modeFourEnrolment(t, est, { row: 'EST-COAPS-05' });
    const before = est.service.exchanges.all.filter((e) => e.operation === 'crts' && e.answeredWith === '2.05' && e.completeMonoNs < sen.monoNs);
    t.check('EST-COAPS-05', 'GET crts answered 2.05 before the first sen', before.length > 0, {
      expected: 'GET …/crts → 2.05, then POST …/sen',
      observed: est.service.exchanges.all.map(describeExchange).join('; ') || 'no EST exchange',
    });
    const crts = before[0];
    if (crts) {
      t.check('EST-COAPS-01', 'crts is a GET asking for (or accepting) certs-only PKCS#7', crts.method === '0.01' && (crts.accept === undefined || crts.accept === 281 || crts.accept === 287), {
        expected: 'GET, Accept 281 or 287 or none',
        observed: `${crts.method === '0.01' ? 'GET' : crts.method}, Accept ${crts.accept ?? 'none'}`,
      });
    }
    // The anchor crts gave signed the LwM2M Server's certificate: a device that took it (and
    // checks the server, TC-EST-06) completes the handshake and registers.
    if (!sen.issued) t.inconclusive(`the enrollment was refused (${sen.answeredWith}: ${sen.refusal ?? ''}); whether the crts anchor is used cannot be seen`);
    const register = await expectRegisterAfterEnrollment(t, 'EST-COAPS-05');
    t.pass(`crts before sen; the device registered through the anchor crts handed out (${est.ca.fingerprint}): ${describeRequest(register)}`);
  },
);
