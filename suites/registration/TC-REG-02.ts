/*
 * Expected sequence:
 *   (precondition) bootstrap writes Lifetime L into /1/x/1; device registers (2.01, location /rd/a/b)
 *   device -> DM   CON POST /rd/a/b          before t(Register) + L   (SHALL)
 *                                            ideally near L/2          (SHOULD: advisory only)
 */
import { defineCase } from '../../harness/runner/case.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { describeRequest, registered, serverAccount } from '../steps.js';
import { lifetimeSlackMs, lifetimeWindowMs, registeredMs } from './timers.js';
import { bootstrapAndRegisterFloorMs, heartbeatFloorMs } from '../../harness/runner/budget.js';

export default defineCase(
  {
    id: 'TC-REG-02',
    title: 'Registration Update before the lifetime written at bootstrap expires',
    area: 'registration',
    requirements: [
      { id: 'GEISA-ADM-REG-04', section: 'GEISA adm/device-management.rst', quote: 'the device SHALL send an Update before the Registration Lifetime expires; it should do so at 50 % of the lifetime' },
      { id: 'GEISA-ADM-REG-02', section: 'GEISA adm/registration.rst', quote: 'Registration Update is used as the periodic heartbeat' },
      { id: 'LWM2M-CORE-REG-02', section: 'LwM2M Transport 1.2 §6.4.3', quote: 'the client uses exactly the location the server returned for Update' },
    ],
    budget: (k) => registeredMs(k) + lifetimeWindowMs(k),
    floor: (k) => bootstrapAndRegisterFloorMs(k) + heartbeatFloorMs(k.lifetimeMs),
    tags: ['registration', 'timing'],
  },
  async (t: CaseContext) => {
    const account = serverAccount(t);
    const { register } = await registered(t, account, { what: 'device bootstrapped and registered' });
    const location = t.lwm2mServer.locations[t.lwm2mServer.locations.length - 1];
    if (register.answeredWith !== '2.01' || !location) t.inconclusive(`the first Register was not accepted (${register.answeredWith ?? 'no answer'}), so there is no registration to update`);

    const lifetimeMs = account.lifetimeS * 1000;
    // Tolerance covers scheduling on both ends; the window itself is the written lifetime.
    const toleranceMs = lifetimeSlackMs(lifetimeMs);
    const update = await t.lwm2mServer.expect(['update', 'register'], lifetimeMs + toleranceMs, t.signal);
    if (!update) {
      t.fail('GEISA-ADM-REG-04', `no Registration Update reached ${t.lwm2mServer.uri} within the lifetime of ${account.lifetimeS} s after ${describeRequest(register)} (tolerance ${fmtMs(toleranceMs)})`);
    }
    if (update.kind === 'register') {
      t.fail('GEISA-ADM-REG-02', `the device sent a new Register ${describeRequest(update)} instead of an Update while its registration (lt=${account.lifetimeS} s) was still valid`);
    }
    const afterMs = CaseContext.elapsedMs(register.monoNs, update.monoNs);
    t.check('LWM2M-CORE-REG-02', 'Update targets the location the server returned', update.location === location, { expected: location, observed: describeRequest(update) });
    t.checkTiming({
      req: 'GEISA-ADM-REG-04',
      name: 'first Update before the lifetime expires',
      observedMs: afterMs,
      span: { fromNs: register.monoNs, toNs: update.monoNs },
      minMs: 0,
      maxMs: lifetimeMs,
      toleranceMs,
      window: `Lifetime ${account.lifetimeS} s written to /1/x/1, measured from the Register`,
    });
    // The SHOULD names 50 %; 40–60 % is how near counts as "at", so a miss is an advisory only.
    const atHalf = t.checkTiming({
      req: { row: 'GEISA-ADM-REG-04', level: 'SHOULD' },
      name: 'first Update at 50 % of the lifetime',
      observedMs: afterMs,
      span: { fromNs: register.monoNs, toNs: update.monoNs },
      minMs: lifetimeMs * 0.4,
      maxMs: lifetimeMs * 0.6,
      toleranceMs,
      window: `GEISA: should at 50 % of the ${account.lifetimeS} s lifetime, accepted 40–60 %`,
    });
    if (!atHalf) t.note(`first Update came at ${((afterMs / lifetimeMs) * 100).toFixed(0)} % of the lifetime; GEISA says it should come at 50 %`);
    t.pass(`Update ${describeRequest(update)} arrived ${fmtMs(afterMs)} after the Register, before the ${account.lifetimeS} s lifetime (tolerance ${fmtMs(toleranceMs)})`);
  },
);
