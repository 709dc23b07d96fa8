/*
 * Expected sequence (query parameters in any order; pct optional):
 *   device -> BS   CON POST /bs?ep=<endpoint>
 *   BS -> device   2.04, then Discover /, Write /0/x, Write /1/y (lifetime L), Finish
 *   device -> BS   2.05, 2.04, 2.04, 2.04
 *   device -> DM   CON POST /rd?ep=<endpoint>&lt=L...   (only after Finish)
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import { CaseContext } from '../../harness/runner/context.js';
import { bootstrapRequested, checkEndpointName, describeRequest, expectRegister, noteDeviceIdentity, runBootstrapPlan, serverAccount } from '../steps.js';

const ALLOWED_PCT = ['110', '112', '11542', '11544'];

export default defineCase(
  {
    id: 'TC-BS-01',
    title: 'Client-initiated bootstrap, then registration at the server it was given',
    area: 'bootstrap',
    requirements: [
      { id: 'GEISA-ADM-BS-01', section: 'GEISA adm/bootstrap.rst', quote: 'GEISA ADM conformant devices SHALL support Client Initiated bootstrapping' },
      { id: 'LWM2M-CORE-BS-01', section: 'LwM2M Core 1.2 §6.1.7.1', quote: 'Bootstrap-Request: CON POST /bs with Uri-Query ep={Endpoint Client Name}' },
      { id: 'LWM2M-CORE-BS-15', section: 'LwM2M Core 1.2 §6.1.4', quote: 'after Bootstrap-Finish the client registers with the LwM2M Server(s) it was given' },
      { id: 'LWM2M-CORE-BS-11', section: 'OMA 1.xml res 1 (Lifetime)', quote: 'the Lifetime written into /1/x/1 is the registration lifetime' },
    ],
    ics: 'bootstrap.client-initiated',
    // The bootstrap session, the Register, then one DM-Read of /3/0 (evidence only).
    budget: (k) => bootstrapAndRegisterMs(k, 9),
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['bootstrap', 'registration'],
  },
  async (t: CaseContext) => {
    // device -> BS: CON POST /bs?ep=<endpoint>
    const req = await bootstrapRequested(t, { judge: 'GEISA-ADM-BS-01' });
    const seen = describeRequest(req);
    t.check('LWM2M-CORE-BS-01', 'Bootstrap-Request is Confirmable', req.msg.type === 'CON', { expected: 'CON', observed: `${req.msg.type} in ${seen}` });
    checkEndpointName(t, 'LWM2M-CORE-BS-01', 'Bootstrap-Request', req);
    const pct = req.query.get('pct');
    if (pct) {
      t.check(
        'LWM2M-CORE-BS-01',
        'pct, when present, names a format LwM2M allows for bootstrap',
        pct.every((v) => ALLOWED_PCT.includes(v)),
        { expected: `pct in {${ALLOWED_PCT.join(', ')}}`, observed: `pct=${pct.join(',')}` },
      );
    }

    // By hand, not registered(): the session and the Register are judged at two rows, and a Register the server refused is still judged here.
    // BS -> device: Discover, Write /0/x, Write /1/y, Finish
    const account = serverAccount(t);
    const plan = await runBootstrapPlan(t, req, account);

    // device -> DM: Register, after Finish, with the written lifetime
    const register = await expectRegister(t, t.timers.startupMs, 'Bootstrap-Finish', 'LWM2M-CORE-BS-15');
    const early = t.lwm2mServer.messages.all.filter((m) => m.kind === 'register' && m.monoNs < plan.finishMonoNs);
    t.check('LWM2M-CORE-BS-15', 'no Register before Bootstrap-Finish completed', early.length === 0, {
      expected: 'first Register after the 2.04 to Bootstrap-Finish',
      observed: early.length === 0 ? 'none before Finish' : `Register ${describeRequest(early[0]!)} arrived ${CaseContext.elapsedMs(early[0]!.monoNs, plan.finishMonoNs).toFixed(1)} ms before the Finish response`,
    });
    checkEndpointName(t, 'LWM2M-CORE-BS-15', 'Register', register);
    t.check('LWM2M-CORE-BS-11', 'Register carries lt = the Lifetime written to /1/x/1', register.query.get('lt')?.[0] === String(account.lifetimeS), {
      expected: `lt=${account.lifetimeS}`,
      observed: register.query.has('lt') ? `lt=${register.query.get('lt')![0]}` : 'no lt (defaults to 86400)',
    });
    if (register.answeredWith === '2.01') await noteDeviceIdentity(t, register);
    t.pass(`bootstrap ${seen} completed and the device registered at ${t.lwm2mServer.uri} with ${describeRequest(register)}`);
  },
);
