/*
 * Expected sequence:
 *   (precondition) device bootstrapped onto the fake LwM2M Server and registered once
 *   operator/adapter: restart the device (stop + start, or reboot)
 *   device -> DM   CON POST /rd?ep=<endpoint>...            (a fresh Register) within IXIT startupBoundS
 *              or  CON POST /<location>                     (a device that persisted its registration; GEISA O-3)
 *   or, from a device that did not keep what the Bootstrap-Server wrote:
 *   device -> BS   CON POST /bs?ep=<endpoint>               within startupBoundS + holdOffS
 *   BS -> device   Discover /, Write /0/x, Write /1/y, Finish   (Discover shows whether it still held the account)
 *   device -> DM   CON POST /rd?ep=<endpoint>...            within IXIT startupBoundS of the Finish
 * Persistence is not required: neither LwM2M Core 1.2 nor GEISA has a SHALL/MUST that
 * bootstrapped accounts survive a power cycle (GEISA adm/device-management.rst counts
 * "state lost" among the reasons for a full re-registration), so a renewed bootstrap is an
 * advisory and the Register after it is still required. A device that still holds the
 * account and bootstraps without trying to register breaks Core §6.1.4 (LWM2M-CORE-BS-03).
 */
import { defineCase } from '../../harness/runner/case.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import type { DeviceRequest } from '../../harness/servers/bootstrap-server.js';
import type { RegistrationMessage } from '../../harness/servers/lwm2m-server.js';
import type { OperationResult } from '../../harness/servers/operations.js';
import { checkEndpointName, describeRequest, expectRegister, registered, runBootstrapPlan, serverAccount, SSID } from '../steps.js';
import { registeredMs } from './timers.js';
import { bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';

/** Whichever comes first: a Register/Update within `registerMs`, a Bootstrap-Request within `bootstrapMs`. */
async function firstAfterRestart(t: CaseContext, registerMs: number, bootstrapMs: number): Promise<RegistrationMessage | DeviceRequest | undefined> {
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  t.signal.addEventListener('abort', onAbort);
  try {
    const settle = <T>(seen: T | undefined): T | undefined => {
      if (seen) stop.abort();
      return seen;
    };
    const register = t.lwm2mServer.expect(['register', 'update'], registerMs, stop.signal).then(settle);
    const bootstrap = t.bootstrapServer.expectBootstrapRequest(bootstrapMs, stop.signal).then(settle);
    const [reg, bs] = await Promise.all([register, bootstrap]);
    // Both may have landed in the same turn: the earlier one is what the device did first.
    if (reg && bs) return reg.monoNs <= bs.monoNs ? reg : bs;
    return reg ?? bs;
  } finally {
    t.signal.removeEventListener('abort', onAbort);
  }
}

function isRegistrationMessage(m: RegistrationMessage | DeviceRequest): m is RegistrationMessage {
  return 'kind' in m;
}

/** The LwM2M Server account the Bootstrap-Discover shows the device still holding, if any. */
function heldAccount(discover: OperationResult | undefined, serverUri: string): string | undefined {
  const links = discover?.links ?? [];
  const server = links.find((l) => /^\/1\/\d+$/.test(l.target) && String(l.attributes.ssid) === String(SSID));
  const security = links.find((l) => /^\/0\/\d+$/.test(l.target) && l.attributes.uri === serverUri);
  const held = [server, security]
    .filter((l) => l !== undefined)
    .map(
      (l) =>
        `<${l!.target}>${Object.entries(l!.attributes)
          .map(([k, v]) => (v === true ? `;${k}` : `;${k}=${v}`))
          .join('')}`,
    );
  return held.length ? held.join(', ') : undefined;
}

export default defineCase(
  {
    id: 'TC-REG-01',
    title: 'Registration on startup of a device that holds a server account',
    area: 'registration',
    requirements: [
      { id: 'GEISA-ADM-REG-01', section: 'GEISA adm/registration.rst', quote: 'the device SHALL attempt to register with the EMS on startup' },
      { id: 'LWM2M-CORE-BS-03', section: 'LwM2M Core 1.2 §6.1.4', quote: 'a client holding LwM2M Server accounts first tries to register before bootstrapping' },
      { id: 'GEISA-ADM-REG-05', section: 'GEISA adm/device-management.rst', quote: 'devices that persist registration state need not re-register after reboot' },
      { id: 'LWM2M-CORE-REG-02', section: 'LwM2M Transport 1.2 §6.4.3', quote: 'the client uses exactly the location the server returned for Update' },
    ],
    // Twice the opening: once before the restart, and once more for a device that bootstraps again after it.
    budget: (k) => 2 * registeredMs(k),
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['registration', 'restart'],
  },
  async (t: CaseContext) => {
    const account = serverAccount(t);
    await registered(t, account, { what: 'device bootstrapped and registered once' });
    t.lwm2mServer.messages.drain();
    t.bootstrapServer.bootstrapRequests.drain();

    const restartedAt = process.hrtime.bigint();
    await t.device.restart();
    const registerMs = t.timers.startupMs;
    const bootstrapMs = t.timers.firstRequestMs;
    const first = await firstAfterRestart(t, registerMs, bootstrapMs);
    if (!first) {
      t.fail(
        'GEISA-ADM-REG-01',
        `after restart the device sent neither Register nor Update to ${t.lwm2mServer.uri} within ${fmtMs(registerMs)} (IXIT startupBoundS), nor a Bootstrap-Request to ${t.bootstrapServer.uri} within ${fmtMs(bootstrapMs)} (startupBoundS + holdOffS)`,
      );
    }

    let renewed = '';
    let reg: RegistrationMessage;
    if (isRegistrationMessage(first)) reg = first;
    else {
      const bsRequest = first;
      const plan = await t.precondition('the renewed bootstrap after the restart completes (TC-BS-01 judges bootstrap)', () => runBootstrapPlan(t, bsRequest, account));
      const held = heldAccount(plan.steps[0], account.serverUri);
      if (held) {
        t.fail(
          'LWM2M-CORE-BS-03',
          `after restart the device sent a Bootstrap-Request ${describeRequest(bsRequest)} ${fmtMs(CaseContext.elapsedMs(restartedAt, bsRequest.monoNs))} after the restart, without trying to register, although its Bootstrap-Discover shows it still holds the server account (${held})`,
        );
      }
      t.advisory(
        `after the restart the device had lost what the Bootstrap-Server wrote (its Bootstrap-Discover lists no account for ${account.serverUri}) and bootstrapped again with ${describeRequest(bsRequest)}; no LwM2M 1.2 or GEISA SHALL requires bootstrapped accounts to survive a restart, but the Bootstrap-Server must then serve it after every power cycle`,
      );
      renewed = ` after a renewed bootstrap (${describeRequest(bsRequest)}, served again)`;
      reg = await expectRegister(t, registerMs, 'the Bootstrap-Finish of the renewed bootstrap', 'GEISA-ADM-REG-01');
    }

    const afterMs = CaseContext.elapsedMs(restartedAt, reg.monoNs);
    if (reg.kind === 'register') {
      checkEndpointName(t, 'GEISA-ADM-REG-01', 'Register after restart', reg);
      t.pass(`after restart the device registered afresh${renewed}: ${describeRequest(reg)}, ${fmtMs(afterMs)} after the restart`);
    } else {
      t.check('LWM2M-CORE-REG-02', 'Update after restart targets a location this server handed out', reg.knownLocation, {
        expected: `one of ${t.lwm2mServer.locations.join(', ') || '(none)'}`,
        observed: describeRequest(reg),
      });
      t.pass(`after restart the device resumed its persisted registration with an Update: ${describeRequest(reg)}, ${fmtMs(afterMs)} after the restart`);
    }
  },
);
