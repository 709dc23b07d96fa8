/*
 * Expected sequence:
 *   (precondition) device registers with lt=L at location /rd/a/b
 *   device -> DM   CON POST /rd/a/b                   heartbeat: no Uri-Query, empty payload
 *   DM -> device   2.04, then CON PUT /1/y/1 = L2     (DM Write of the Lifetime, text/plain)
 *   device -> DM   2.04
 *   device -> DM   CON POST /rd/a/b?lt=L2             only lt (nothing else changed), empty payload
 */
import { defineCase } from '../../harness/runner/case.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { CF, parsePath } from '../../harness/lwm2m/index.js';
import { describeResult } from '../../harness/servers/operations.js';
import type { RegistrationMessage } from '../../harness/servers/lwm2m-server.js';
import { describeRequest, lifetimeToleranceMs, nextRegistrationMessage, reactionWindowMs, registered, serverAccount } from '../steps.js';
import { lifetimeSlackMs, lifetimeWindowMs, registeredMs, toolRequest, toolRequestMs } from './timers.js';
import { bootstrapAndRegisterFloorMs, heartbeatFloorMs } from '../../harness/runner/budget.js';

function queryText(m: RegistrationMessage): string {
  const q = [...m.query.entries()].flatMap(([k, vs]) => vs.map((v) => (v === '' ? k : `${k}=${v}`)));
  return q.length ? q.join('&') : '(none)';
}

export default defineCase(
  {
    id: 'TC-REG-06',
    title: 'Update carries only the registration parameters that changed, and no payload when the objects did not',
    area: 'registration',
    requirements: [
      {
        id: 'LWM2M-CORE-REG-05',
        section: 'LwM2M Core 1.2 §6.2.2',
        quote: 'Update is CON POST to the location with only the parameters that changed (lt, b, sms, Q); the object list only if it changed; nothing changed means no parameters and no payload',
      },
      { id: 'GEISA-ADM-REG-02', section: 'GEISA adm/registration.rst', quote: 'Registration Update is used as the periodic heartbeat (no payload when nothing changed)' },
    ],
    // Heartbeat within the lifetime; the Write; then the change, at once or with the next heartbeat.
    budget: (k) => registeredMs(k) + lifetimeWindowMs(k) + toolRequestMs(k) + Math.max(k.startupMs, k.lifetimeMs) + lifetimeSlackMs(k.lifetimeMs),
    floor: (k) => bootstrapAndRegisterFloorMs(k) + heartbeatFloorMs(k.lifetimeMs),
    tags: ['registration'],
  },
  async (t: CaseContext) => {
    const account = serverAccount(t);
    const { register, serverIid, location } = await registered(t, account);

    const toleranceMs = lifetimeToleranceMs(account.lifetimeS);
    const heartbeat = await nextRegistrationMessage(t, account.lifetimeS * 1000 + toleranceMs);
    if (!heartbeat || heartbeat.kind !== 'update' || !heartbeat.knownLocation) {
      t.inconclusive(
        `expected a heartbeat Update to ${location} within the lifetime of ${account.lifetimeS} s (+${fmtMs(toleranceMs)}) after ${describeRequest(register)}, observed ${heartbeat ? describeRequest(heartbeat) : 'nothing'}; TC-REG-02 and TC-REG-05 judge that`,
      );
    }
    t.check('LWM2M-CORE-REG-05', 'heartbeat Update (nothing changed) has no Uri-Query', heartbeat.query.size === 0, { expected: 'no parameters', observed: `${describeRequest(heartbeat)}: ${queryText(heartbeat)}` });
    t.check('GEISA-ADM-REG-02', 'heartbeat Update (nothing changed) has an empty payload', heartbeat.msg.payload.length === 0, {
      expected: 'empty payload',
      observed: `${heartbeat.msg.payload.length} bytes: ${heartbeat.msg.payload.toString('utf8').slice(0, 120)}`,
    });

    const newLifetimeS = account.lifetimeS * 2;
    const lifetimePath = `/1/${serverIid}/1`;
    const write = await toolRequest(t, `a DM Write of the Lifetime ${lifetimePath}`, 'TC-COAP-01 (Confirmable requests acknowledged)', () =>
      t.lwm2mServer.write(heartbeat.remote, lifetimePath, [{ path: parsePath(lifetimePath), value: newLifetimeS }], CF.TEXT),
    );
    if (write.code !== '2.04') t.inconclusive(`${describeResult(write)}: the Lifetime did not change, so no Update with lt can be expected`);
    const writtenAt = write.response.monoNs;

    // The device may send the change at once or with its next heartbeat, due L/2 after the last one.
    const windowMs = Math.max(reactionWindowMs(t), account.lifetimeS * 1000) + toleranceMs;
    let update: RegistrationMessage | undefined;
    do update = await nextRegistrationMessage(t, windowMs - CaseContext.elapsedMs(writtenAt, process.hrtime.bigint()));
    while (update && update.monoNs < writtenAt);
    if (!update) t.fail('LWM2M-CORE-REG-05', `no Update followed the ${describeResult(write)} (Lifetime ${account.lifetimeS} → ${newLifetimeS} s) within ${fmtMs(windowMs)}`);
    if (update.kind !== 'update') t.fail('LWM2M-CORE-REG-05', `after the Lifetime was written the device sent ${describeRequest(update)}, not an Update to ${location}`);
    const lt = update.query.get('lt');
    t.check('LWM2M-CORE-REG-05', 'first Update after the Lifetime Write carries lt with the new value', lt?.length === 1 && lt[0] === String(newLifetimeS), {
      expected: `lt=${newLifetimeS}`,
      observed: `${describeRequest(update)}: ${queryText(update)}`,
    });
    const others = [...update.query.keys()].filter((k) => k !== 'lt');
    t.check('LWM2M-CORE-REG-05', 'that Update carries no parameter that did not change', others.length === 0, { expected: 'lt only', observed: `${describeRequest(update)}: ${queryText(update)}` });
    t.check('LWM2M-CORE-REG-05', 'that Update has an empty payload (the object list did not change)', update.msg.payload.length === 0, {
      expected: 'empty payload',
      observed: `${update.msg.payload.length} bytes: ${update.msg.payload.toString('utf8').slice(0, 120)}`,
    });
    t.pass(`heartbeat ${describeRequest(heartbeat)} had no parameters and no payload; after the Lifetime Write the Update ${describeRequest(update)} carried only lt=${newLifetimeS} and no payload`);
  },
);
