/*
 * Expected sequence (Certificate mode with EST; the Bootstrap-Server is coaps:// in certificate mode):
 *   device -> BS   DTLS with its IDevID; CON POST /bs?ep=<endpoint>
 *   BS -> device   Discover; Write /0/x: /0/x/2 = 4, /0/x/4 = EST CA, /0/x/15 = 2, /0/x/3 and /0/x/5 empty
 *   device -> BS   2.04 to the Write (never 4.00); 2.04 to Write /1/y and to Bootstrap-Finish
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { describeResult } from '../../harness/servers/operations.js';
import { provisionServerAccount } from '../../harness/servers/bootstrap-plan.js';
import { bootstrapRequested } from '../steps.js';
import { estAccount, mountEst } from './est.js';

export default defineCase(
  {
    id: 'TC-EST-01',
    title: 'The device accepts Security Mode 4 (Certificate mode with EST) at bootstrap',
    area: 'security',
    requirements: [
      {
        id: 'LWM2M-TRANS-EST-01',
        section: 'OMA 0.xml res 2; LwM2M Transport 1.2 §5.2.4',
        quote: 'Security Mode 4: Certificate mode with EST; "the Security Mode Resource MUST be set to value 4 and the certificate of the TLS/DTLS server MUST be provisioned to the Server Public Key Resource"',
      },
      { id: 'GEISA-ADM-LWM2M-04', section: 'GEISA adm/lwm2m.rst', quote: 'ADM conformant platforms SHALL support Certificate mode with EST as per LwM2M Transport 5.2.4' },
    ],
    ics: 'transport.est',
    budget: (k) => bootstrapAndRegisterMs(k),
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['security', 'dtls', 'certificate', 'est', 'bootstrap'],
    security: 'certificate',
  },
  async (t: CaseContext) => {
    const est = await mountEst(t);
    const account = estAccount(t, est);
    const req = await bootstrapRequested(t, { judge: 'GEISA-ADM-LWM2M-04' });
    const plan = await provisionServerAccount(t.bootstrapServer, req.remote, account);
    const write = plan.steps.find((s) => s.what === `Bootstrap-Write /0/${plan.securityIid}`);
    const finish = plan.steps.find((s) => s.what === 'Bootstrap-Finish');
    t.check('LWM2M-TRANS-EST-01', 'the Write of a Security instance with /0/x/2 = 4 is accepted', write?.code === '2.04', {
      expected: '2.04 Changed',
      observed: write ? describeResult(write) : `not sent: ${plan.failedStep ? describeResult(plan.failedStep) : 'the session stopped earlier'}`,
    });
    t.check('GEISA-ADM-LWM2M-04', 'Bootstrap-Finish with a Security Mode 4 account is accepted', finish?.code === '2.04', {
      expected: '2.04 Changed',
      observed: finish ? describeResult(finish) : `not sent: ${plan.failedStep ? describeResult(plan.failedStep) : 'the session stopped earlier'}`,
    });
    t.pass(`the device took a Security Mode 4 account (/0/${plan.securityIid}/2 = 4, /0/${plan.securityIid}/4 = EST CA ${est.ca.fingerprint}) and finished the bootstrap`);
  },
);
