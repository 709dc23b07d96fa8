/*
 * Expected sequence:
 *   device -> BS   CON POST /bs?ep=<endpoint>; BS: Discover, Write /0/x, Write /1/y, Finish
 *   device -> DM   CON POST /rd?ep=...                  2.01
 *   DM -> device   CON POST /bs (a Bootstrap-Finish, but from the LwM2M Server, outside any bootstrap session)
 *   device -> DM   4.00, 4.01 or 4.04 — never 2.04
 * The catalog row is inferred (Leshan's client answers 4.00): judged at SHOULD level.
 * What the guard asks is that the device does not act on the POST /bs. A Reset, or no
 * answer at all for MAX_TRANSMIT_WAIT, is the device not acting on it: the guard holds
 * (pass). Whether a Confirmable request must be acknowledged is RFC 7252 §4.2, which the
 * CoAP cases (TC-COAP-*) judge, not this one.
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import { type CaseContext, fmtMs } from '../../harness/runner/context.js';
import { CoapResetError, CoapTimeoutError } from '../../harness/coap/endpoint.js';
import { describeResult } from '../../harness/servers/operations.js';
import { describeRequest, registered, serverAccount } from '../steps.js';

const REFUSALS = ['4.00', '4.01', '4.04'];

export default defineCase(
  {
    id: 'TC-BS-16',
    title: 'A Bootstrap-Finish from the LwM2M Server, outside a bootstrap session, is refused',
    area: 'bootstrap',
    requirements: [
      {
        id: 'LWM2M-CORE-BS-18',
        section: "LwM2M Core 1.2 §6.1.7 (Bootstrap interface operations are the Bootstrap-Server's); Leshan BootstrapHandler (inferred row)",
        quote: 'Bootstrap-Finish is an operation of the LwM2M Bootstrap-Server; one from a non-bootstrap peer or outside a bootstrap session is rejected',
      },
    ],
    // Bootstrap and Register, then the POST /bs, which a device may leave unanswered for MAX_TRANSMIT_WAIT.
    budget: (k) => bootstrapAndRegisterMs(k, 4) + k.maxTransmitWaitMs,
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['bootstrap', 'device-management'],
  },
  async (t: CaseContext) => {
    const { register } = await registered(t, serverAccount(t), { tool: { feature: 'the bootstrap session and the Register', judgedBy: 'TC-BS-01' } });

    // DM -> device: POST /bs, as a Bootstrap-Server would end a session
    let response;
    try {
      response = await t.lwm2mServer.endpoint.request(register.remote, { method: 'POST', path: '/bs' });
    } catch (e) {
      if (!(e instanceof CoapTimeoutError || e instanceof CoapResetError)) throw e;
      const what = e instanceof CoapResetError ? 'answered with a CoAP Reset' : `left unanswered for MAX_TRANSMIT_WAIT ${fmtMs(t.timers.maxTransmitWaitMs)}`;
      t.note(`POST /bs from the LwM2M Server ${what}: ${e.message}`);
      t.pass(
        `registered with ${describeRequest(register)}; POST /bs from the LwM2M Server ${what}: the device did not take it as a Bootstrap-Finish ` +
          '(whether a Confirmable request must be acknowledged is RFC 7252 §4.2, judged by the CoAP cases, not here)',
      );
      return;
    }
    const seen = describeResult({ what: 'POST /bs from the LwM2M Server', response, code: response.msg.code });
    t.check('LWM2M-CORE-BS-18', 'POST /bs from the LwM2M Server is refused (4.00, 4.01 or 4.04)', REFUSALS.includes(response.msg.code), {
      expected: `one of ${REFUSALS.join(', ')}: Bootstrap-Finish is not an operation of the LwM2M Server`,
      observed: response.msg.code === '2.04' ? `${seen}: the device took it as a Bootstrap-Finish` : seen,
    });
    t.pass(`registered with ${describeRequest(register)}; ${seen}`);
  },
);
