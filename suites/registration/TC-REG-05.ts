/*
 * Expected sequence:
 *   (precondition) device registers; DM answers 2.01 with a random multi-segment location,
 *                  Location-Path "rd", "<4 hex>", "<6 hex>"  (e.g. /rd/a1b2/c3d4e5)
 *   device -> DM   CON POST /rd/a1b2/c3d4e5              (Update before the lifetime ends)
 *   DM -> device   CON POST /1/y/4                       (Execute Disable)
 *   device -> DM   2.04, then CON DELETE /rd/a1b2/c3d4e5 (De-register)
 * Both must use exactly the path of the 2.01: all its Location-Path options, in order.
 * Disable is optional in the Server object: without it only the Update is judged.
 */
import { defineCase } from '../../harness/runner/case.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { describeResult } from '../../harness/servers/operations.js';
import { describeRequest, lifetimeToleranceMs, nextRegistrationMessage, reactionWindowMs, registered, serverAccount } from '../steps.js';
import { lifetimeWindowMs, registeredMs, toolRequest, toolRequestMs } from './timers.js';
import { bootstrapAndRegisterFloorMs, heartbeatFloorMs } from '../../harness/runner/budget.js';

export default defineCase(
  {
    id: 'TC-REG-05',
    title: 'Update and De-register go to exactly the multi-segment location the server returned',
    area: 'registration',
    requirements: [
      {
        id: 'LWM2M-CORE-REG-02',
        section: 'LwM2M Transport 1.2 §6.4.3, Core §6.2.2-6.2.3',
        quote: 'the server answers 2.01 Created with the location in Location-Path (possibly several segments); the client uses exactly that location for Update and De-register',
      },
    ],
    budget: (k) => registeredMs(k) + lifetimeWindowMs(k) + toolRequestMs(k) + k.startupMs,
    floor: (k) => bootstrapAndRegisterFloorMs(k) + heartbeatFloorMs(k.lifetimeMs),
    tags: ['registration'],
  },
  async (t: CaseContext) => {
    const account = serverAccount(t);
    const { register, serverIid, location } = await registered(t, account);
    t.note(`the server handed out the location ${location} (${location.split('/').filter(Boolean).length} Location-Path options)`);

    const lifetimeMs = account.lifetimeS * 1000;
    const toleranceMs = lifetimeToleranceMs(account.lifetimeS);
    const update = await nextRegistrationMessage(t, lifetimeMs + toleranceMs);
    if (!update) t.inconclusive(`no message followed ${describeRequest(register)} within the lifetime of ${account.lifetimeS} s (+${fmtMs(toleranceMs)}); TC-REG-02 judges the missing Update`);
    if (update.kind === 'register') {
      t.inconclusive(`the device sent a new Register ${describeRequest(update)} instead of an Update, so no Update location can be judged here (TC-REG-02 judges that)`);
    }
    t.check('LWM2M-CORE-REG-02', 'Update goes to the location of the 2.01, all segments in order', update.msg.code === '0.02' && update.path === location, {
      expected: `POST ${location}`,
      observed: `${describeRequest(update)}${update.kind === 'other' ? ' (not under /rd: answered 4.04)' : ''}`,
    });
    if (t.hasFailed()) t.fail('LWM2M-CORE-REG-02', `the Update after ${describeRequest(register)} went to ${update.path}, not to the location ${location} the server returned`);

    const disable = await toolRequest(t, `Execute Disable /1/${serverIid}/4`, 'TC-REG-11', () => t.lwm2mServer.execute(update.remote, `/1/${serverIid}/4`));
    if (disable.code === '4.04' || disable.code === '4.05') {
      t.pass(`Update ${describeRequest(update)} used exactly the location ${location}; the De-register location was not judged because the device does not implement Disable (${describeResult(disable)})`);
      return;
    }
    if (disable.code !== '2.04') t.inconclusive(`${describeResult(disable)}, so no De-register can be expected; the Update used the location ${location} correctly`);

    const windowMs = reactionWindowMs(t);
    const dereg = await nextRegistrationMessage(t, windowMs);
    if (!dereg || dereg.msg.code !== '0.04') {
      t.pass(
        `Update ${describeRequest(update)} used exactly the location ${location}; no De-register followed Disable within ${windowMs / 1000} s (${dereg ? `next was ${describeRequest(dereg)}` : 'nothing arrived'}), so its location was not judged here (TC-REG-11 judges the missing De-register)`,
      );
      return;
    }
    t.check('LWM2M-CORE-REG-02', 'De-register goes to the location of the 2.01, all segments in order', dereg.path === location, { expected: `DELETE ${location}`, observed: describeRequest(dereg) });
    t.pass(`Update ${describeRequest(update)} and De-register ${describeRequest(dereg)} both used exactly the location ${location} the server returned`);
  },
);
