/*
 * Expected sequence:
 *   (precondition) device registers at /rd/a/b
 *   DM -> device   CON POST /1/y/4            (Execute Disable)
 *   device -> DM   2.04 Changed
 *   device -> DM   CON DELETE /rd/a/b         (De-register) within the IXIT reaction bound
 *   DM -> device   2.02 Deleted
 * Disable is optional in the Server object (1.xml resource 4): a device that answers the
 * Execute 4.04 or 4.05 does not implement it and this case cannot judge it.
 */
import { defineCase } from '../../harness/runner/case.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { describeResult } from '../../harness/servers/operations.js';
import { describeRequest, nextRegistrationMessage, reactionWindowMs, registered, serverAccount } from '../steps.js';
import { registeredMs, toolRequestMs } from './timers.js';
import { bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';

/** Lifetime long enough that no heartbeat falls into the window. */
const LONG_LIFETIME_S = 86400;

export default defineCase(
  {
    id: 'TC-REG-11',
    title: 'Execute Disable (/1/x/4) is answered 2.04 and followed by a De-register (CON DELETE) to the location',
    area: 'registration',
    requirements: [
      {
        id: 'LWM2M-CORE-REG-10',
        section: 'LwM2M Core 1.2 §6.2.3; OMA 1.xml resource 4',
        quote: 'De-register is CON DELETE to the registration location, answered 2.02; on Disable the client de-registers and stays offline for the Disable Timeout',
      },
    ],
    budget: (k) => registeredMs(k) + toolRequestMs(k) + k.startupMs,
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['registration'],
  },
  async (t: CaseContext) => {
    const account = serverAccount(t, { lifetimeS: LONG_LIFETIME_S });
    const { register, serverIid, location } = await registered(t, account);
    t.lwm2mServer.messages.drain();

    const disable = await t.lwm2mServer.execute(register.remote, `/1/${serverIid}/4`);
    if (disable.code === '4.04' || disable.code === '4.05') t.notApplicable(`${describeResult(disable)}: the device does not implement Disable (optional resource /1/x/4)`);
    if (disable.code !== '2.04') t.fail('LWM2M-CORE-REG-10', `${describeResult(disable)}; Disable is answered 2.04 Changed when executed`);

    const windowMs = reactionWindowMs(t);
    const next = await nextRegistrationMessage(t, windowMs);
    if (!next) t.fail('LWM2M-CORE-REG-10', `no De-register (DELETE ${location}) reached ${t.lwm2mServer.uri} within ${windowMs / 1000} s (IXIT startupBoundS) of ${describeResult(disable)}`);
    const afterMs = CaseContext.elapsedMs(disable.response.monoNs, next.monoNs);
    if (next.msg.code !== '0.04') t.fail('LWM2M-CORE-REG-10', `after ${describeResult(disable)} the device sent ${describeRequest(next)}, not a De-register (DELETE ${location})`);
    t.check('LWM2M-CORE-REG-10', 'De-register is Confirmable', next.msg.type === 'CON', { expected: 'CON', observed: describeRequest(next) });
    t.check('LWM2M-CORE-REG-10', 'De-register targets the registration location', next.path === location, { expected: `DELETE ${location}`, observed: describeRequest(next) });
    t.pass(`${describeResult(disable)} and De-register ${describeRequest(next)} followed ${fmtMs(afterMs)} later, answered ${next.answeredWith}`);
  },
);
