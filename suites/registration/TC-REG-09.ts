/*
 * Expected sequence:
 *   (precondition) device registers at /rd/a/b
 *   device -> DM   CON POST /rd/a/b           (heartbeat Update, within the lifetime)
 *   DM -> device   4.04 Not Found             (the server no longer knows the registration)
 *   device -> DM   CON POST /rd?ep=...        (a full Register) within the IXIT reaction bound
 */
import { defineCase } from '../../harness/runner/case.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { reject } from '../../harness/servers/policy.js';
import { describeRequest, lifetimeToleranceMs, nextRegistrationMessage, reactionWindowMs, registered, serverAccount } from '../steps.js';
import { lifetimeWindowMs, registeredMs } from './timers.js';
import { bootstrapAndRegisterFloorMs, heartbeatFloorMs } from '../../harness/runner/budget.js';

export default defineCase(
  {
    id: 'TC-REG-09',
    title: 'An Update answered 4.04 Not Found is followed promptly by a full Register',
    area: 'registration',
    requirements: [{ id: 'LWM2M-CORE-REG-08', section: 'LwM2M Core 1.2 §6.2.2; ETS LightweightM2M-1.1-int-105', quote: 'when an Update is answered 4.04 (the server has no such registration) the client performs a full Register' }],
    budget: (k) => registeredMs(k) + lifetimeWindowMs(k) + k.startupMs,
    floor: (k) => bootstrapAndRegisterFloorMs(k) + heartbeatFloorMs(k.lifetimeMs),
    tags: ['registration'],
  },
  async (t: CaseContext) => {
    const account = serverAccount(t);
    const { register, location } = await registered(t, account);
    t.lwm2mServer.updatePolicy = reject('4.04');

    const toleranceMs = lifetimeToleranceMs(account.lifetimeS);
    const update = await nextRegistrationMessage(t, account.lifetimeS * 1000 + toleranceMs);
    if (!update || update.kind !== 'update') {
      t.inconclusive(
        `expected an Update to ${location} within the lifetime of ${account.lifetimeS} s (+${fmtMs(toleranceMs)}) after ${describeRequest(register)} to answer 4.04, observed ${update ? describeRequest(update) : 'nothing'}; TC-REG-02 judges that`,
      );
    }
    t.note(`Update ${describeRequest(update)} answered ${update.answeredWith}`);

    const windowMs = reactionWindowMs(t);
    const next = await nextRegistrationMessage(t, windowMs);
    if (!next) t.fail('LWM2M-CORE-REG-08', `no Register reached ${t.lwm2mServer.uri} within ${windowMs / 1000} s (IXIT startupBoundS) of the 4.04 to ${describeRequest(update)}`);
    const afterMs = CaseContext.elapsedMs(update.monoNs, next.monoNs);
    if (next.kind !== 'register') {
      t.fail('LWM2M-CORE-REG-08', `${fmtMs(afterMs)} after its Update ${describeRequest(update)} was answered 4.04 the device sent ${describeRequest(next)} instead of a Register`);
    }
    t.pass(`Update ${describeRequest(update)} answered 4.04 was followed ${fmtMs(afterMs)} later by Register ${describeRequest(next)} (bound ${windowMs / 1000} s)`);
  },
);
