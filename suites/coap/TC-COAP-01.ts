/*
 * Expected sequence (every device request CON; every harness CON answered either with a
 * piggy-backed response in an ACK of the same MID and token, or with an empty ACK of the
 * same MID and then a separate response echoing the token):
 *   device -> BS   CON POST /bs?ep=...                         (Bootstrap-Request)
 *   BS -> device   CON DELETE /1, GET / (Discover), PUT /0/x, PUT /1/y, POST /bs (Finish)
 *   device -> BS   ACK 2.02 / 2.05 / 2.04 ... (or empty ACK + separate response)
 *   device -> DM   CON POST /rd?ep=...                         (Register, lt = IXIT lifetimeS)
 *   DM -> device   CON GET /3/0                                (DM Read of the Device object)
 *   device -> DM   ACK 2.05 (or empty ACK + separate 2.05)     never silence: a CON with no
 *                                                              ACK and no RST for the whole
 *                                                              MAX_TRANSMIT_WAIT fails here
 *   device -> DM   CON POST /rd/a/b                            (heartbeat Update, before the
 *                                                              lifetime expires: mandatory,
 *                                                              needs no optional feature)
 *   DM -> device   CON POST /1/y/4                             (Execute Disable, optional resource)
 *   device -> DM   ACK 2.04, then CON DELETE /rd/a/b           (De-register)
 *
 * Features this case only uses: the heartbeat Update (TC-REG-02 judges it) and Disable
 * (TC-REG-11 judges it). When they do not work, the message they should have produced is
 * not exercised: inconclusive or a note, never a fail of the message layer.
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, exchangesMs, bootstrapAndRegisterFloorMs, heartbeatFloorMs } from '../../harness/runner/budget.js';
import { type CaseContext, fmtMs } from '../../harness/runner/context.js';
import type { DeviceRequest } from '../../harness/servers/bootstrap-server.js';
import { describeRequest, expectBootstrapRequest, expectRegister, lifetimeToleranceMs, provisionAndStart, runBootstrapPlan, serverAccount, startupWindowMs } from '../steps.js';
import { answered, checkAnswer } from './wire.js';

export default defineCase(
  {
    id: 'TC-COAP-01',
    title: 'Device requests are Confirmable; the device acknowledges every CON request it receives (same MID, token echoed), never leaving one unanswered',
    area: 'coap',
    requirements: [
      {
        id: 'COAP-01',
        section: 'RFC 7252 §4.2, §5.2.1, §5.2.2, §5.3.2; LwM2M Transport 1.2 §6',
        quote:
          'A Confirmable message always elicits exactly one return message of type Acknowledgement or type Reset ... The Acknowledgement message MUST echo the Message ID of the Confirmable message ... the token MUST be echoed by the server in its response',
      },
    ],
    // Bootstrap (Delete /1 and the session) and Register; the Read and the Disable; the
    // heartbeat Update within the lifetime; the De-register within the startup bound.
    budget: (k) => bootstrapAndRegisterMs(k, 9) + exchangesMs(k, 2) + k.lifetimeMs + lifetimeToleranceMs(k.lifetimeMs / 1000) + k.startupMs,
    floor: (k) => bootstrapAndRegisterFloorMs(k) + heartbeatFloorMs(k.lifetimeMs),
    tags: ['coap', 'bootstrap', 'registration'],
  },
  async (t: CaseContext) => {
    const answers: string[] = [];
    const checkCon = (name: string, m: DeviceRequest) => t.check('COAP-01', `${name} is Confirmable`, m.msg.type === 'CON', { expected: 'CON', observed: `${m.msg.type} in ${describeRequest(m)}` });

    // By hand, not registered(): each message of the opening is judged here (CON-ness, and every harness CON acknowledged).
    await provisionAndStart(t);
    const req = await expectBootstrapRequest(t, startupWindowMs(t), 'device start (IXIT startupBoundS + holdOffS)');
    checkCon('Bootstrap-Request', req);

    // BS -> device: Delete, Discover, Write, Write, Finish; each a CON the device must acknowledge.
    const bs = t.bootstrapServer;
    const del = await answered(t, bs.endpoint, 'Bootstrap-Delete /1', () => bs.delete(req.remote, '/1'));
    answers.push(checkAnswer(t, del));
    // The IXIT lifetime: the heartbeat Update comes by itself within it, no optional feature needed.
    const account = serverAccount(t);
    const plan = await answered(t, bs.endpoint, 'the bootstrap session', () => runBootstrapPlan(t, req, account));
    for (const step of plan.steps) answers.push(checkAnswer(t, step));

    const register = await expectRegister(t, t.timers.startupMs, 'Bootstrap-Finish');
    checkCon('Register', register);
    if (register.answeredWith !== '2.01') t.inconclusive(`the Register was answered ${register.answeredWith ?? 'not at all'}, so there is no registration to exchange messages with`);

    // DM -> device: Read /3/0 (mandatory object, mandatory operation). Silence fails COAP-01 here.
    const dm = t.lwm2mServer;
    const read = await answered(t, dm.endpoint, 'DM-Read /3/0', () => dm.read(register.remote, '/3/0'));
    answers.push(checkAnswer(t, read));

    // device -> DM: the heartbeat Update, before the lifetime written at bootstrap expires.
    const toleranceMs = lifetimeToleranceMs(account.lifetimeS);
    const leftMs = account.lifetimeS * 1000 + toleranceMs - Number(process.hrtime.bigint() - register.monoNs) / 1e6;
    const update = await dm.expect('update', Math.max(0, leftMs), t.signal);
    if (!update) {
      t.inconclusive(
        `no Update reached ${dm.uri} within the lifetime of ${account.lifetimeS} s (+${fmtMs(toleranceMs)}) after ${describeRequest(register)}, so no Update was there to see as Confirmable; ` +
          `the heartbeat Update is this case's tool (TC-REG-02 judges it). Harness CONs so far acknowledged: ${answers.join('; ')}`,
      );
    }
    checkCon('Update', update);

    // DM -> device: Execute /1/y/4 (Disable, optional); device -> DM: De-register.
    const disablePath = `/1/${plan.serverIid}/4`;
    const disable = await answered(t, dm.endpoint, `Execute ${disablePath}`, () => dm.execute(register.remote, disablePath));
    answers.push(checkAnswer(t, disable));
    let deregister: DeviceRequest | undefined;
    let deregisterNote = '';
    if (disable.code === '2.04') {
      deregister = await dm.expect('deregister', t.timers.startupMs, t.signal);
      if (deregister) checkCon('De-register', deregister);
      // Disable is this case's tool; TC-REG-11 judges a 2.04 with no De-register.
      else deregisterNote = ` (De-register not exercised: none reached ${dm.uri} within ${fmtMs(t.timers.startupMs)} of the 2.04 to Execute ${disablePath}; TC-REG-11 judges that)`;
    } else {
      deregisterNote = ` (De-register not exercised: Disable, an optional resource, answered ${disable.code})`;
    }
    if (deregisterNote) t.note(deregisterNote.trim());

    const sent = [req, register, update, ...(deregister ? [deregister] : [])].map((m) => `${m.msg.type} mid=${m.msg.mid} ${m.path}`);
    t.pass(`device requests ${sent.join(', ')} were Confirmable${deregisterNote}; harness CONs acknowledged with their MID and token: ${answers.join('; ')}`);
  },
);
