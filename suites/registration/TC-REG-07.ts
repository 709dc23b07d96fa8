/*
 * Expected sequence:
 *   (precondition) bootstrap writes Lifetime 86400 s (so no heartbeat can fall into the
 *                  window below); device registers at /rd/a/b
 *   DM -> device   CON POST /1/y/8                 (Execute Registration Update Trigger)
 *   device -> DM   2.04
 *   device -> DM   CON POST /rd/a/b                (Update) within the IXIT reaction bound
 */
import { defineCase } from '../../harness/runner/case.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { describeResult } from '../../harness/servers/operations.js';
import { describeRequest, nextRegistrationMessage, reactionWindowMs, registered, serverAccount } from '../steps.js';
import { registeredMs, toolRequestMs } from './timers.js';
import { bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';

/** LwM2M's default lifetime: the heartbeat is half a day away. */
const LONG_LIFETIME_S = 86400;

export default defineCase(
  {
    id: 'TC-REG-07',
    title: 'Execute Registration Update Trigger (/1/x/8) is answered 2.04 and followed by an Update',
    area: 'registration',
    requirements: [{ id: 'LWM2M-CORE-REG-06', section: 'OMA 1.xml resource 8; LwM2M Core 1.2 §6.2.2', quote: 'Registration Update Trigger (mandatory): if executed, the LwM2M Client MUST perform an Update Registration to the server' }],
    budget: (k) => registeredMs(k) + toolRequestMs(k) + k.startupMs,
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['registration'],
  },
  async (t: CaseContext) => {
    const account = serverAccount(t, { lifetimeS: LONG_LIFETIME_S });
    const { register, serverIid, location } = await registered(t, account);
    t.lwm2mServer.messages.drain();

    const trigger = await t.lwm2mServer.execute(register.remote, `/1/${serverIid}/8`);
    t.check('LWM2M-CORE-REG-06', 'Execute /1/x/8 (mandatory resource) is answered 2.04 Changed', trigger.code === '2.04', { expected: '2.04', observed: describeResult(trigger) });
    if (trigger.code !== '2.04') t.fail('LWM2M-CORE-REG-06', `${describeResult(trigger)}: the device did not accept the Registration Update Trigger`);

    const windowMs = reactionWindowMs(t);
    const next = await nextRegistrationMessage(t, windowMs);
    if (!next) t.fail('LWM2M-CORE-REG-06', `no Update reached ${t.lwm2mServer.uri} within ${windowMs / 1000} s (IXIT startupBoundS) of ${describeResult(trigger)}; the lifetime is ${LONG_LIFETIME_S} s, so no heartbeat was due`);
    const afterMs = CaseContext.elapsedMs(trigger.response.monoNs, next.monoNs);
    if (next.kind === 'register') {
      t.fail('LWM2M-CORE-REG-06', `after the Registration Update Trigger the device sent a new Register ${describeRequest(next)}, not an Update to its valid registration at ${location}`);
    }
    t.check('LWM2M-CORE-REG-06', 'the message after the trigger is an Update to the registration location', next.kind === 'update' && next.path === location, {
      expected: `POST ${location}`,
      observed: describeRequest(next),
    });
    t.pass(`${describeResult(trigger)} and the Update ${describeRequest(next)} followed ${fmtMs(afterMs)} later (bound ${windowMs / 1000} s)`);
  },
);
