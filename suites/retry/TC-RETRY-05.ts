/*
 * Expected sequence (lifetime written longer than twice the CoAP give-up, so the
 * registration is still alive when the Update fails; the LwM2M Server accepts the Register
 * and then drops every Update: no ACK, no response):
 *   device -> DM   Register (2.01)
 *   DM -> device   Execute /1/x/8 (Registration Update Trigger), so the Update need not
 *                  wait for the heartbeat; only a shortcut: if the device ignores it, the
 *                  heartbeat Update (before the lifetime runs out) serves as well
 *   device -> DM   CON POST /rd/<location> (Update), retransmitted, never answered
 *   device -> DM   Register                    once the device has given up on the Update,
 *                                               at most MAX_TRANSMIT_WAIT after it (IXIT CoAP parameters)
 *   and not a Bootstrap-Request instead, and not silence.
 * Catalog row LWM2M-CORE-RETRY-06 is implied, not quoted: judged at SHOULD level.
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, type DeviceTimers, bootstrapAndRegisterFloorMs, leastGiveUpMs } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { SILENT } from '../../harness/servers/policy.js';
import { describeResult } from '../../harness/servers/operations.js';
import { checkEndpointName, describeRequest, firstOf, registered, serverAccount } from '../steps.js';
import { slowDeviceBoundMs } from './windows.js';

const ROW = 'LWM2M-CORE-RETRY-06';

/** The registration must outlive the Update's give-up, or a Register at expiry would hide the rule. */
const lifetimeSOf = (k: DeviceTimers) => Math.max(k.lifetimeMs / 1000, Math.ceil((2 * k.maxTransmitWaitMs) / 1000));
/** Upper bound for the Register: the device gives up at most MAX_TRANSMIT_WAIT after the first transmission; +50 % +1 s. */
const giveUpWindowMs = (k: DeviceTimers) => slowDeviceBoundMs(k.maxTransmitWaitMs);

export default defineCase(
  {
    id: 'TC-RETRY-05',
    title: 'A failed Update (no answer) is followed by a Register, not by bootstrap or silence',
    area: 'retry',
    requirements: [
      {
        id: ROW,
        section: 'LwM2M Core 1.2 §6.2.2 (Update), §6.2.1.1; ETS int-105',
        quote: 'when an Update fails (CoAP timeout or error) the client falls back to Register, and from there to the retry rules; not straight to bootstrap, not silence',
      },
    ],
    // The Update comes at the latest as the heartbeat, before the lifetime runs out.
    budget: (k) => bootstrapAndRegisterMs(k) + lifetimeSOf(k) * 1000 + giveUpWindowMs(k),
    floor: (k) => bootstrapAndRegisterFloorMs(k) + leastGiveUpMs(k),
    tags: ['retry', 'registration', 'timing'],
  },
  async (t: CaseContext) => {
    const k = t.timers;
    const mtwMs = k.maxTransmitWaitMs;
    const lifetimeS = lifetimeSOf(k);
    const account = serverAccount(t, { lifetimeS });
    const { register, serverIid } = await registered(t, account, { what: 'device bootstrapped and its first Register accepted (TC-REG-01 judges it)', tool: { feature: 'the bootstrap session', judgedBy: 'TC-BS-*' } });

    t.lwm2mServer.updatePolicy = SILENT;
    const retransmissions: bigint[] = [];
    t.lwm2mServer.endpoint.on('duplicate', (d: { msg: { code: string }; monoNs: bigint }) => {
      if (d.msg.code === '0.02') retransmissions.push(d.monoNs);
    });
    // The first Update the server leaves unanswered, whether the trigger or the heartbeat brought it.
    const updateSeen = t.lwm2mServer.messages.next((m) => m.kind === 'update' && m.answeredWith === null, lifetimeS * 1000, t.signal);
    const triggerPath = `/1/${serverIid}/8`;
    let trigger = `Execute ${triggerPath} (Registration Update Trigger) not answered yet`;
    // The Execute may be given up on after the case has ended: its outcome is noted only while the case runs.
    let running = true;
    // A shortcut only: the Update judged here may as well be the heartbeat; TC-REG-07 judges the trigger.
    void t.lwm2mServer.execute(register.remote, triggerPath).then(
      (r) => {
        trigger = `${describeResult(r)} (Registration Update Trigger, so the Update need not wait for the heartbeat)`;
        if (running) t.note(trigger);
      },
      (e: Error) => {
        trigger = `Execute ${triggerPath} (Registration Update Trigger) failed: ${e.message}`;
        if (running) t.note(`${trigger}; waiting for the heartbeat Update instead (TC-REG-07 judges the trigger)`);
      },
    );
    const update = await updateSeen;
    running = false;
    if (!update) {
      t.inconclusive(
        `no Update reached the LwM2M Server within the lifetime of ${lifetimeS} s after ${describeRequest(register)} (${trigger}), so a failed Update could not be staged (TC-REG-07 judges the Registration Update Trigger, the Update cases the heartbeat)`,
      );
    }
    t.note(`the LwM2M Server drops ${describeRequest(update)} and its retransmissions (no ACK, no response)`);

    const windowMs = giveUpWindowMs(k);
    const after = `the Update ${describeRequest(update)} went unanswered`;
    // Whichever comes first decides; the other wait is called off.
    const [reg, bootstrap] = await firstOf(
      t,
      (signal) => t.lwm2mServer.expectRegister(windowMs, signal),
      (signal) => t.bootstrapServer.expectBootstrapRequest(windowMs, signal),
    );
    const sinceUpdate = (ns: bigint) => fmtMs(CaseContext.elapsedMs(update.monoNs, ns));
    const retx = `${retransmissions.length} retransmission(s) of the Update seen`;
    if (bootstrap && (!reg || bootstrap.monoNs < reg.monoNs)) {
      t.fail(ROW, `after ${after}, the device went straight to the Bootstrap-Server: ${describeRequest(bootstrap)} ${sinceUpdate(bootstrap.monoNs)} after the Update (${retx}), with no Register first`);
    }
    if (!reg) {
      t.fail(ROW, `after ${after}, neither a Register nor a Bootstrap-Request arrived within ${fmtMs(windowMs)} (MAX_TRANSMIT_WAIT ${fmtMs(mtwMs)} from the IXIT CoAP parameters, +50 % +1 s; ${retx})`);
    }
    checkEndpointName(t, ROW, 'Register', reg);
    const c = k.coap;
    const earliestGiveUpMs = c.ackTimeoutMs * (2 ** (c.maxRetransmit + 1) - 1);
    const gapMs = CaseContext.elapsedMs(update.monoNs, reg.monoNs);
    if (gapMs < earliestGiveUpMs) t.note(`the Register came ${fmtMs(gapMs)} after the Update, before the earliest CoAP give-up (${fmtMs(earliestGiveUpMs)} with ACK_RANDOM_FACTOR 1)`);
    t.pass(`after ${after} (${retx}), the device registered again: ${describeRequest(reg)} ${fmtMs(gapMs)} after the Update (window ${fmtMs(windowMs)} from MAX_TRANSMIT_WAIT ${fmtMs(mtwMs)}); no Bootstrap-Request before it`);
  },
);
