/*
 * Expected sequence (factory bootstrap, GEISA ADM-BS-03; LwM2M Core 1.2 §6.1.4):
 *   adapter: provision the Bootstrap-Server account AND an LwM2M Server account
 *            (this harness's LwM2M Server, Short Server ID, lifetime L), then start
 *   device -> DM   CON POST /rd?ep=<endpoint>...       (the first thing it sends)
 *   and no CON POST /bs to the Bootstrap-Server before it: a device that holds a valid
 *   server account registers with it first and bootstraps only if that fails.
 * LWM2M-CORE-BS-03 (the same rule after a restart) is judged by TC-REG-01.
 */
import { defineCase } from '../../harness/runner/case.js';
import { exchangesMs } from '../../harness/runner/budget.js';
import { CaseContext, type FactoryServerAccount } from '../../harness/runner/context.js';
import { checkEndpointName, describeRequest, dtlsTrouble, firstOf, noteDeviceIdentity, SSID, startupWindowMs } from '../steps.js';

export default defineCase(
  {
    id: 'TC-BS-18',
    title: 'Factory-bootstrapped device registers with its pre-provisioned server account, no Bootstrap-Request first',
    area: 'bootstrap',
    requirements: [
      {
        id: 'GEISA-ADM-BS-03',
        section: 'GEISA adm/bootstrap.rst',
        quote:
          'GESIA ADM conformant devices MAY support other bootstrapping methods. [...] Using Factory Bootstrap, devices are provisioned during manufacturing with ' +
          'security credentials and Management Server (edge management system) information. Upon initial field installation, devices will automatically connect ' +
          'directly to their Management Server (Edge Management System/EMS) to perform registration.',
      },
    ],
    ics: 'bootstrap.factory',
    // The device's first request, then one DM-Read of /3/0 (evidence only).
    budget: (k) => k.firstRequestMs + exchangesMs(k, 1),
    floor: () => 0,
    tags: ['bootstrap', 'registration'],
  },
  async (t: CaseContext) => {
    if (!t.device.takesServerAccount()) {
      t.inconclusive(
        "the DUT profile's provision action cannot be given a server account: name {serverUri} (with {serverSsid} and {serverLifetime}) in its command or instruction, " +
          'or read $GEISA_SERVER_URI in the command, so the harness can provision the factory LwM2M Server account this case needs',
      );
    }
    const security = t.lwm2mServer.security;
    if (security?.mode === 'certificate') t.inconclusive('a factory server account in certificate mode is not provisioned by this case; it provisions NoSec or PSK accounts only');
    const account: FactoryServerAccount = {
      uri: t.lwm2mServer.uri,
      ssid: SSID,
      lifetimeS: t.ixit.lifetimeS,
      ...(security?.mode === 'psk' ? { psk: t.freshServerPsk() } : {}),
    };
    t.note(`factory server account: ${account.uri}, Short Server ID ${account.ssid}, lifetime ${account.lifetimeS} s${account.psk ? `, PSK identity "${account.psk.identity}"` : ', NoSec'}`);

    const startedAt = process.hrtime.bigint();
    await t.device.provision({ serverAccount: account });
    await t.device.start();

    // device -> DM: Register, or (wrongly) device -> BS: Bootstrap-Request; whichever comes first.
    const windowMs = startupWindowMs(t);
    const [register, bootstrapRequest] = await firstOf(
      t,
      (signal) => t.lwm2mServer.expectRegister(windowMs, signal),
      (signal) => t.bootstrapServer.expectBootstrapRequest(windowMs, signal),
    );
    // Arrival times decide the order, not which waiter woke first.
    const earlyBootstrap = t.bootstrapServer.bootstrapRequests.all.find((r) => r.monoNs > startedAt && (!register || r.monoNs < register.monoNs)) ?? bootstrapRequest;
    if (earlyBootstrap && (!register || earlyBootstrap.monoNs < register.monoNs)) {
      t.fail(
        'GEISA-ADM-BS-03',
        `with a valid LwM2M Server account for ${account.uri} provisioned, the device's first request was the Bootstrap-Request ${describeRequest(earlyBootstrap)} ` +
          `to ${t.bootstrapServer.uri}${register ? ` (its Register ${describeRequest(register)} came ${CaseContext.elapsedMs(earlyBootstrap.monoNs, register.monoNs).toFixed(1)} ms later)` : ''}; ` +
          'expected a Register (POST /rd) to the provisioned server first',
      );
    }
    if (!register) {
      t.fail(
        'GEISA-ADM-BS-03',
        `neither a Register (POST /rd) reached the provisioned LwM2M Server at ${account.uri} nor a Bootstrap-Request reached ${t.bootstrapServer.uri} ` +
          `within ${windowMs / 1000} s of device start (IXIT startupBoundS + holdOffS)${dtlsTrouble(t.lwm2mServer.dtls)}`,
      );
    }

    checkEndpointName(t, 'GEISA-ADM-BS-03', 'Register', register);
    const lt = register.query.get('lt')?.[0];
    if (lt !== String(account.lifetimeS)) {
      t.note(`Register ${lt === undefined ? 'carries no lt (86400 s assumed)' : `carries lt=${lt}`}, not the factory account's lifetime ${account.lifetimeS} s (not judged: the provisioning tool may not set it)`);
    }
    if (register.answeredWith === '2.01') await noteDeviceIdentity(t, register);
    t.pass(`factory-bootstrapped: the device's first request was the Register ${describeRequest(register)} to ${account.uri}, with no Bootstrap-Request before it`);
  },
);
