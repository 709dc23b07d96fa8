/*
 * Expected sequence (the device claims the optional resource /1/x/9):
 *   device -> BS   CON POST /bs?ep=<endpoint>; BS: Discover, Write /0/x, Write /1/y, Finish
 *   device -> DM   CON POST /rd?ep=...                        2.01
 *   DM -> device   Execute /1/y/9 (POST, Bootstrap-Request Trigger)   2.04
 *   device -> BS   CON POST /bs?ep=<endpoint>                 within IXIT startupBoundS + holdOffS
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { describeResult } from '../../harness/servers/operations.js';
import { describeRequest, registered, serverAccount, startupWindowMs } from '../steps.js';

export default defineCase(
  {
    id: 'TC-BS-15',
    title: 'Executing the Bootstrap-Request Trigger /1/x/9 makes the registered device bootstrap again',
    area: 'bootstrap',
    requirements: [
      {
        id: 'LWM2M-CORE-BS-17',
        section: 'OMA 1.xml res 9 (Bootstrap-Request Trigger); LwM2M Core 1.2 §6.1.4',
        quote: 'When this Resource is executed the LwM2M Client MUST initiate a "Client Initiated Bootstrap"',
      },
    ],
    ics: 'server.bootstrap-request-trigger',
    // Bootstrap and Register, the Execute, then the new Bootstrap-Request (bound for acting + hold-off).
    budget: (k) => bootstrapAndRegisterMs(k, 5) + k.firstRequestMs,
    floor: (k) => 2 * bootstrapAndRegisterFloorMs(k),
    tags: ['bootstrap', 'device-management'],
  },
  async (t: CaseContext) => {
    const { register, serverIid } = await registered(t, serverAccount(t), { tool: { feature: 'the bootstrap session and the Register', judgedBy: 'TC-BS-01' } });
    t.bootstrapServer.bootstrapRequests.drain();

    // DM -> device: Execute /1/y/9
    const path = `/1/${serverIid}/9`;
    const exec = await t.lwm2mServer.execute(register.remote, path);
    t.check('LWM2M-CORE-BS-17', `Execute ${path} (Bootstrap-Request Trigger) is answered 2.04 Changed`, exec.code === '2.04', {
      expected: '2.04 (the ICS claims server.bootstrap-request-trigger)',
      observed: describeResult(exec),
    });

    // device -> BS: a new Bootstrap-Request
    const windowMs = startupWindowMs(t);
    const again = await t.bootstrapServer.expectBootstrapRequest(windowMs, t.signal);
    if (!again) {
      t.fail('LWM2M-CORE-BS-17', `after ${describeResult(exec)}, no Bootstrap-Request (POST /bs) reached ${t.bootstrapServer.uri} within ${windowMs / 1000} s (IXIT startupBoundS + holdOffS)`);
    }
    const afterMs = CaseContext.elapsedMs(exec.response.monoNs, again.monoNs);
    t.pass(`registered with ${describeRequest(register)}; ${describeResult(exec)}, then Bootstrap-Request ${describeRequest(again)} ${fmtMs(afterMs)} later`);
  },
);
