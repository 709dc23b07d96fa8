/*
 * Expected sequence (lifetime written longer than the CoAP give-up, so the registration is
 * still alive when the Update fails; the LwM2M Server accepts the Register and then drops
 * every Update: no ACK, no response):
 *   device -> DM   Register (2.01)
 *   DM -> device   Execute /1/x/8 (Registration Update Trigger), so the Update comes now
 *   device -> DM   CON POST /rd/<location> (Update), retransmitted, never answered
 *   device -> DM   Register                    once the device has given up on the Update,
 *                                               at most MAX_TRANSMIT_WAIT after it (IXIT CoAP parameters)
 *   and not a Bootstrap-Request instead, and not silence.
 * Catalog row LWM2M-CORE-RETRY-06 is implied, not quoted: judged at SHOULD level.
 */
import { defineCase } from '../../harness/runner/case.js';
import { fixedBudget } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { SILENT } from '../../harness/servers/policy.js';
import { describeResult } from '../../harness/servers/operations.js';
import type { RegistrationMessage } from '../../harness/servers/lwm2m-server.js';
import type { DeviceRequest } from '../../harness/servers/bootstrap-server.js';
import { describeRequest, expectBootstrapRequest, expectRegister, maxTransmitWaitMsOf, provisionAndStart, runBootstrapPlan, serverAccount, startupWindowMs } from '../steps.js';

export default defineCase(
  {
    id: 'TC-RETRY-05',
    title: 'A failed Update (no answer) is followed by a Register, not by bootstrap or silence',
    area: 'retry',
    requirements: [
      {
        id: 'LWM2M-CORE-RETRY-06',
        section: 'LwM2M Core 1.2 §6.2.2 (Update), §6.2.1.1; ETS int-105',
        quote: 'when an Update fails (CoAP timeout or error) the client falls back to Register, and from there to the retry rules; not straight to bootstrap, not silence',
      },
    ],
    budget: fixedBudget(360_000),
    tags: ['retry', 'registration', 'timing'],
  },
  async (t: CaseContext) => {
    const mtwMs = maxTransmitWaitMsOf(t);
    // The registration must outlive the Update's give-up, or a Register at expiry would hide the rule.
    const lifetimeS = Math.max(t.ixit.lifetimeS, Math.ceil((2 * mtwMs) / 1000));
    const account = serverAccount(t, { lifetimeS });
    const plan = await t.precondition('device bootstrapped and registered', async () => {
      await provisionAndStart(t);
      const req = await expectBootstrapRequest(t, startupWindowMs(t), 'device start');
      return runBootstrapPlan(t, req, account);
    });
    const register = await t.precondition('first Register accepted', () => expectRegister(t, t.ixit.startupBoundS * 1000, 'Bootstrap-Finish'));

    t.lwm2mServer.updatePolicy = SILENT;
    const retransmissions: bigint[] = [];
    t.lwm2mServer.endpoint.on('duplicate', (d: { msg: { code: string }; monoNs: bigint }) => {
      if (d.msg.code === '0.02') retransmissions.push(d.monoNs);
    });
    const trigger = await t.lwm2mServer.execute(register.remote, `/1/${plan.serverIid}/8`);
    t.note(`${describeResult(trigger)} (Registration Update Trigger, so the Update need not wait for the heartbeat)`);
    // The first Update the server leaves unanswered (an earlier, accepted heartbeat is not the one staged here).
    const update = await t.lwm2mServer.messages.next((m) => m.kind === 'update' && m.answeredWith === null, lifetimeS * 1000, t.signal);
    if (!update) {
      t.inconclusive(`no Update reached the LwM2M Server within the lifetime of ${lifetimeS} s after ${describeResult(trigger)}, so a failed Update could not be staged (the Update cases judge the heartbeat itself)`);
    }
    t.note(`the LwM2M Server drops ${describeRequest(update)} and its retransmissions (no ACK, no response)`);

    // Upper bound: the device gives up at most MAX_TRANSMIT_WAIT after the first transmission; +50 % +1 s slack.
    const windowMs = mtwMs * 1.5 + 1000;
    const after = `the Update ${describeRequest(update)} went unanswered`;
    // Whichever comes first decides; the other wait is called off.
    const race = new AbortController();
    const stop = () => race.abort();
    t.signal.addEventListener('abort', stop);
    const next = await Promise.race([
      t.lwm2mServer.expectRegister(windowMs, race.signal).then((m): { register: RegistrationMessage } | undefined => (m ? { register: m } : undefined)),
      t.bootstrapServer.expectBootstrapRequest(windowMs, race.signal).then((b): { bootstrap: DeviceRequest } | undefined => (b ? { bootstrap: b } : undefined)),
    ]);
    stop();
    t.signal.removeEventListener('abort', stop);
    const sinceUpdate = (ns: bigint) => fmtMs(CaseContext.elapsedMs(update.monoNs, ns));
    const retx = `${retransmissions.length} retransmission(s) of the Update seen`;
    if (next && 'bootstrap' in next) {
      t.fail(`after ${after}, the device went straight to the Bootstrap-Server: ${describeRequest(next.bootstrap)} ${sinceUpdate(next.bootstrap.monoNs)} after the Update (${retx}), with no Register first`);
    }
    if (!next) {
      t.fail(`after ${after}, neither a Register nor a Bootstrap-Request arrived within ${fmtMs(windowMs)} (MAX_TRANSMIT_WAIT ${fmtMs(mtwMs)} from the IXIT CoAP parameters, +50 % +1 s; ${retx})`);
    }
    const reg = next.register;
    t.check('Register carries ep = the provisioned Endpoint Client Name', reg.query.get('ep')?.[0] === t.endpoint, {
      expected: `ep=${t.endpoint}`,
      observed: describeRequest(reg),
    });
    const c = t.ixit.coap;
    const earliestGiveUpMs = c.ackTimeoutS * 1000 * (2 ** (c.maxRetransmit + 1) - 1);
    const gapMs = CaseContext.elapsedMs(update.monoNs, reg.monoNs);
    if (gapMs < earliestGiveUpMs) t.note(`the Register came ${fmtMs(gapMs)} after the Update, before the earliest CoAP give-up (${fmtMs(earliestGiveUpMs)} with ACK_RANDOM_FACTOR 1)`);
    t.pass(`after ${after} (${retx}), the device registered again: ${describeRequest(reg)} ${fmtMs(gapMs)} after the Update (window ${fmtMs(windowMs)} from MAX_TRANSMIT_WAIT ${fmtMs(mtwMs)}); no Bootstrap-Request before it`);
  },
);
