/*
 * Expected sequence (Certificate mode with EST; the EST server sends 64-byte blocks):
 *   (precondition) Security Mode 4 bootstrap; Finish 2.04
 *   device -> BS   GET …/crts -> 2.05 Block2 0/M/64, Size2; GET …/crts Block2 1, 2, … until the last block
 *   device -> BS   POST …/sen -> 2.04 Block2 0/M/64; POST …/sen Block2 1, 2, … until the last block
 *   device -> DM   Register with the certificate so reassembled
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { describeRequest, registered } from '../steps.js';
import { clientCertificateOf, describeDer, estAccount, estWindowMs, expectEst, expectRegisterAfterEnrollment, mountEst, sameCertificate } from './est.js';

/** Small enough that the CA certificates and the issued certificate each take many blocks. */
const BLOCK_SIZE = 64;

export default defineCase(
  {
    id: 'TC-EST-11',
    title: 'EST responses larger than a block: the device fetches every Block2 block of crts and sen',
    area: 'security',
    requirements: [{ id: 'EST-COAPS-03', section: 'RFC 9148 §4.6; RFC 7959', quote: 'EST-coaps payloads larger than a block are carried block-wise (Block2 for responses, Block1 for requests)' }],
    ics: 'transport.est',
    budget: (k) => bootstrapAndRegisterMs(k) + 2 * k.startupMs,
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['security', 'dtls', 'certificate', 'est', 'blockwise'],
    security: 'certificate',
  },
  async (t: CaseContext) => {
    const est = await mountEst(t, { blockSize: BLOCK_SIZE });
    await registered(t, estAccount(t, est), { until: 'finish', what: 'Security Mode 4 bootstrap (TC-EST-01 judges it)' });
    const sen = await expectEst(t, est, 'sen', estWindowMs(t), 'Bootstrap-Finish', 'EST-COAPS-03');
    if (!sen.issued) t.inconclusive(`the enrollment was refused (${sen.answeredWith}: ${sen.refusal ?? ''})`);
    const register = await expectRegisterAfterEnrollment(t, 'EST-COAPS-03');
    // Judged once the device registered: by then it has asked for every block it was going to.
    for (const ex of est.service.exchanges.all.filter((e) => (e.operation === 'crts' || e.operation === 'sen') && e.block2 && e.answeredWith?.startsWith('2.'))) {
      t.check('EST-COAPS-03', `every Block2 block of the ${ex.operation} response fetched`, ex.block2!.blocksServed === ex.block2!.blocks, {
        expected: `${ex.block2!.blocks} blocks of ${ex.block2!.blockSize} bytes (${ex.responseBytes} bytes)`,
        observed: `${ex.block2!.blocksServed} block(s) asked for`,
      });
    }
    const presented = clientCertificateOf(t, register.remote);
    t.check('EST-COAPS-03', 'the certificate reassembled from the blocks is the one presented to the LwM2M Server', sameCertificate(presented, sen.issued.der), {
      expected: describeDer(sen.issued.der),
      observed: describeDer(presented),
    });
    t.pass(`crts and sen came back in ${BLOCK_SIZE}-byte blocks and the device put them together: ${describeRequest(register)}`);
  },
);
