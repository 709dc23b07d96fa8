/*
 * Expected sequence (every device request CON; every harness CON answered either with a
 * piggy-backed response in an ACK of the same MID and token, or with an empty ACK of the
 * same MID and then a separate response echoing the token):
 *   device -> BS   CON POST /bs?ep=...                         (Bootstrap-Request)
 *   BS -> device   CON DELETE /1, GET / (Discover), PUT /0/x, PUT /1/y, POST /bs (Finish)
 *   device -> BS   ACK 2.02 / 2.05 / 2.04 ... (or empty ACK + separate response)
 *   device -> DM   CON POST /rd?ep=...                         (Register)
 *   DM -> device   CON POST /1/y/8                             (Execute Registration Update Trigger)
 *   device -> DM   ACK 2.04, then CON POST /rd/a/b             (Update)
 *   DM -> device   CON POST /1/y/4                             (Execute Disable, optional resource)
 *   device -> DM   ACK 2.04, then CON DELETE /rd/a/b           (De-register)
 */
import { defineCase } from '../../harness/runner/case.js';
import { fixedBudget } from '../../harness/runner/budget.js';
import type { CaseContext } from '../../harness/runner/context.js';
import type { DeviceRequest } from '../../harness/servers/bootstrap-server.js';
import { describeRequest, expectBootstrapRequest, expectRegister, provisionAndStart, runBootstrapPlan, serverAccount, startupWindowMs } from '../steps.js';
import { answered, checkAnswer } from './wire.js';

export default defineCase(
  {
    id: 'TC-COAP-01',
    title: 'Device requests are Confirmable; the device acknowledges the CON requests it receives (same MID, token echoed)',
    area: 'coap',
    requirements: [
      {
        id: 'COAP-01',
        section: 'RFC 7252 §4.2, §5.2.1, §5.2.2, §5.3.2; LwM2M Transport 1.2 §6',
        quote:
          'A Confirmable message always elicits exactly one return message of type Acknowledgement or type Reset ... The Acknowledgement message MUST echo the Message ID of the Confirmable message ... the token MUST be echoed by the server in its response',
      },
    ],
    budget: fixedBudget(90_000),
    tags: ['coap', 'bootstrap', 'registration'],
  },
  async (t: CaseContext) => {
    const answers: string[] = [];
    const checkCon = (name: string, m: DeviceRequest) =>
      t.check(`${name} is Confirmable`, m.msg.type === 'CON', { expected: 'CON', observed: `${m.msg.type} in ${describeRequest(m)}` });

    await provisionAndStart(t);
    const req = await expectBootstrapRequest(t, startupWindowMs(t), 'device start (IXIT startupBoundS + holdOffS)');
    checkCon('Bootstrap-Request', req);

    // BS -> device: Delete, Discover, Write, Write, Finish; each a CON the device must acknowledge.
    const bs = t.bootstrapServer;
    const del = await answered(t, bs.endpoint, 'Bootstrap-Delete /1', () => bs.delete(req.remote, '/1'));
    answers.push(checkAnswer(t, del));
    const account = serverAccount(t, { lifetimeS: Math.max(t.ixit.lifetimeS, 120) });
    const plan = await answered(t, bs.endpoint, 'the bootstrap session', () => runBootstrapPlan(t, req, account));
    for (const step of plan.steps) answers.push(checkAnswer(t, step));

    const register = await expectRegister(t, t.ixit.startupBoundS * 1000, 'Bootstrap-Finish');
    checkCon('Register', register);
    if (register.answeredWith !== '2.01') t.inconclusive(`the Register was answered ${register.answeredWith ?? 'not at all'}, so there is no registration to update`);

    // DM -> device: Execute /1/y/8; device -> DM: Update.
    const dm = t.lwm2mServer;
    const trigger = await answered(t, dm.endpoint, `Execute /1/${plan.serverIid}/8`, () => dm.execute(register.remote, `/1/${plan.serverIid}/8`));
    answers.push(checkAnswer(t, trigger));
    if (trigger.code !== '2.04') t.inconclusive(`Execute /1/${plan.serverIid}/8 (Registration Update Trigger, mandatory) was answered ${trigger.code}, so no Update could be asked for`);
    const update = await dm.expect('update', t.ixit.startupBoundS * 1000, t.signal);
    if (!update) t.fail(`no Update reached ${dm.uri} within ${t.ixit.startupBoundS} s (IXIT startupBoundS) of the 2.04 to Execute /1/${plan.serverIid}/8`);
    checkCon('Update', update);

    // DM -> device: Execute /1/y/4 (Disable, optional); device -> DM: De-register.
    const disable = await answered(t, dm.endpoint, `Execute /1/${plan.serverIid}/4`, () => dm.execute(register.remote, `/1/${plan.serverIid}/4`));
    answers.push(checkAnswer(t, disable));
    let deregister: DeviceRequest | undefined;
    if (disable.code === '2.04') {
      deregister = await dm.expect('deregister', t.ixit.startupBoundS * 1000, t.signal);
      if (!deregister) t.fail(`no De-register reached ${dm.uri} within ${t.ixit.startupBoundS} s (IXIT startupBoundS) of the 2.04 to Execute /1/${plan.serverIid}/4 (Disable)`);
      checkCon('De-register', deregister);
    } else {
      t.note(`Execute /1/${plan.serverIid}/4 (Disable, an optional resource) answered ${disable.code}: the De-register was not exercised`);
    }

    const sent = [req, register, update, ...(deregister ? [deregister] : [])].map((m) => `${m.msg.type} mid=${m.msg.mid} ${m.path}`);
    t.pass(
      `device requests ${sent.join(', ')} were Confirmable` +
        (deregister ? '' : ` (De-register not exercised: Disable answered ${disable.code})`) +
        `; harness CONs acknowledged with their MID and token: ${answers.join('; ')}`,
    );
  },
);
