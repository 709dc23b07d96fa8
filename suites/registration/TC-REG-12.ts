/*
 * Expected sequence:
 *   (precondition) device registers at t0 with lt=L, location /rd/a/b
 *   DM -> device   CON PUT /1/y/3 = 60             (Default Maximum Period: no registration parameter)
 *   device -> DM   2.04
 *   device -> DM   CON POST /rd/a/b ...            Updates only, until t0 + 1.5 L
 * No Register while the registration is valid (none of GEISA's full re-registration
 * triggers happened: lifetime not expired, no state loss, same server URI and security,
 * no re-bootstrap). A Register after an expiry the device let happen is not judged here.
 */
import { defineCase } from '../../harness/runner/case.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { CF, parsePath } from '../../harness/lwm2m/index.js';
import { describeResult } from '../../harness/servers/operations.js';
import { describeRequest, lifetimeToleranceMs, nextRegistrationMessage, registered, serverAccount } from '../steps.js';
import { lifetimeSlackMs, registeredMs, toolRequest, toolRequestMs } from './timers.js';
import { bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';

const DEFAULT_MAXIMUM_PERIOD_S = 60;

export default defineCase(
  {
    id: 'TC-REG-12',
    title: 'No new Register while the registration is valid, also after a configuration Write',
    area: 'registration',
    requirements: [
      {
        id: 'GEISA-ADM-REG-05',
        section: 'GEISA adm/device-management.rst',
        quote: 'full re-registration SHALL only happen when the lifetime expired, the state was lost, the Server URI or security context changed, after re-bootstrap or a reachability change',
      },
    ],
    budget: (k) => registeredMs(k) + toolRequestMs(k) + k.lifetimeMs * 1.5 + lifetimeSlackMs(k.lifetimeMs),
    floor: (k) => bootstrapAndRegisterFloorMs(k) + k.lifetimeMs * 1.5 + lifetimeSlackMs(k.lifetimeMs),
    tags: ['registration'],
  },
  async (t: CaseContext) => {
    const account = serverAccount(t);
    const { register, serverIid, location } = await registered(t, account);
    const lifetimeNs = BigInt(account.lifetimeS) * 1_000_000_000n;
    const edgeMs = lifetimeToleranceMs(account.lifetimeS);

    const path = `/1/${serverIid}/3`;
    const write = await toolRequest(t, `a DM Write of ${path}`, 'TC-COAP-01 (Confirmable requests acknowledged)', () => t.lwm2mServer.write(register.remote, path, [{ path: parsePath(path), value: DEFAULT_MAXIMUM_PERIOD_S }], CF.TEXT));
    t.note(`${path} (Default Maximum Period) is a Server resource that is no registration parameter`);

    const endNs = register.monoNs + (lifetimeNs * 3n) / 2n + BigInt(Math.round(edgeMs * 1e6));
    let validUntilNs = register.monoNs + lifetimeNs;
    const updates: string[] = [];
    for (;;) {
      const leftMs = CaseContext.elapsedMs(process.hrtime.bigint(), endNs);
      const m = leftMs > 0 ? await nextRegistrationMessage(t, leftMs) : undefined;
      if (!m) break;
      const atMs = CaseContext.elapsedMs(register.monoNs, m.monoNs);
      if (m.kind === 'register') {
        const validForMs = CaseContext.elapsedMs(m.monoNs, validUntilNs);
        if (validForMs > edgeMs) {
          t.fail(
            'GEISA-ADM-REG-05',
            `Register ${describeRequest(m)} ${fmtMs(atMs)} after the first one, while the registration at ${location} was valid for ${fmtMs(validForMs)} more and no re-registration trigger had happened (${describeResult(write)}; Updates: ${updates.join(', ') || 'none'})`,
          );
        }
        t.inconclusive(`the device let its registration expire (no successful Update within the lifetime; TC-REG-02 judges that) and then registered again ${fmtMs(atMs)} after the first Register, which is allowed`);
      }
      if (m.kind === 'update' && m.answeredWith === '2.04') {
        updates.push(`${describeRequest(m)} at ${fmtMs(atMs)}`);
        validUntilNs = m.monoNs + lifetimeNs;
        continue;
      }
      t.inconclusive(`${describeRequest(m)} ${fmtMs(atMs)} after the Register was answered ${m.answeredWith}: not a plain renewal, so the registration cannot be followed further here`);
    }
    if (updates.length === 0) t.inconclusive(`the device sent nothing in ${fmtMs(account.lifetimeS * 1500)} after ${describeRequest(register)}, so its registration lapsed unrenewed (TC-REG-02 judges that)`);
    t.pass(`in ${fmtMs(account.lifetimeS * 1500)} after ${describeRequest(register)} and ${describeResult(write)} the device renewed its registration only with Updates (${updates.join(', ') || 'none'}) and sent no new Register`);
  },
);
