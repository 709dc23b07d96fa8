/**
 * The bundled reference device as a DUT. It is driven with the same words a vendor's
 * simulator would get from exec actions — `device provision` writes its state file, `device
 * run` starts it — but in a device host process (device-host.ts) that serves one case after
 * another, instead of two new processes per case: that start-up was most of a run's CPU.
 * Each case still gets a fresh state directory, hence a factory-fresh device, with its own
 * sockets and timers, and a host no other running case uses. The exec adapter keeps its own proof against the same device:
 * fixtures/profiles/reference-device-exec.yaml.
 */
import { claims } from '../profile/ics-registry.js';
import type { Profile } from '../profile/load.js';
import { AdapterError, type ActionHooks, type ActionParams, type ActionSecrets, type DutAction, type DutAdapter } from './adapter.js';
import { DeviceHostError, giveBackDeviceHost, takeDeviceHost, type DeviceHost, type HostCall } from './device-host.js';
import { shellQuote } from './template.js';
import { actionEnv, createSecretDir, removeSecretDir, secretScrubber, writeSecretFiles } from './secrets.js';
import { type VariantOptions, variantArgs } from '../../fixtures/device/variants.js';

/** The device's variants (fixtures/device/variants.ts) are options here too. */
export interface SimulatorOptions extends VariantOptions {
  /** One of the reference device's defects (fixtures/device/defects.ts), or none. */
  defect?: string | null;
}

/** As the exec profile's timeouts: provisioning and start-up are quick; this only bounds a hang. */
const ACTION_BOUND_MS = 30_000;

let devicesMade = 0;

export function createSimulatorAdapter(profile: Profile, opts: SimulatorOptions = {}): SimulatorAdapter {
  return new SimulatorAdapter(profile, opts);
}

export class SimulatorAdapter implements DutAdapter {
  readonly kind = 'simulator' as const;
  /** This adapter's device in the host: one per case. */
  private readonly device = `device-${process.pid}-${++devicesMade}`;
  private readonly host: DeviceHost;
  private readonly ownsHost: boolean;
  private running = false;
  private disposed = false;
  /** Device output keeps flowing after its action returned; it goes to the latest case. */
  private latestHooks: ActionHooks | undefined;

  constructor(
    private readonly profile: Profile,
    private readonly opts: SimulatorOptions = {},
    host?: DeviceHost,
  ) {
    // A host of its own while the case runs (see takeDeviceHost); a test may hand one in.
    this.ownsHost = host === undefined;
    this.host = host ?? takeDeviceHost();
    if (host) host.acquire();
    this.host.onOutput(this.device, (o) => {
      if ('line' in o) this.latestHooks?.note('adapter', `[start] ${o.line}`);
      else {
        this.running = false;
        this.latestHooks?.note('adapter', `[start] ${o.ended}`);
      }
    });
  }

  /** provision passes a factory server account on, as the exec simulator's template does. */
  takesServerAccount(): boolean {
    return true;
  }

  supports(action: DutAction): boolean {
    return action === 'provision' || action === 'start' || action === 'stop' || action === 'changeAddress';
  }

  async run(action: DutAction, params: ActionParams, secrets: ActionSecrets, hooks: ActionHooks): Promise<void> {
    if (this.disposed) throw new AdapterError(action, 'the adapter has already been disposed');
    this.latestHooks = hooks;
    switch (action) {
      case 'provision':
        return this.provision(params, secrets, hooks);
      case 'start':
        if (this.running) {
          hooks.note('adapter', '[start] the device is still running; stopping it first');
          await this.stop(hooks);
        }
        await this.call(action, { op: 'run', device: this.device, args: this.runArgs(params) }, hooks, 'run');
        this.running = true;
        return;
      case 'stop':
        return this.stop(hooks);
      case 'changeAddress': {
        const local = await this.call(action, { op: 'changeAddress', device: this.device }, hooks);
        hooks.note('adapter', `[changeAddress] the device now sends from ${local}`);
        return;
      }
      default:
        throw new AdapterError(action, 'the bundled reference device has no such action (a case composes it from stop and start)');
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    try {
      // Asked even when no start has returned: a start still in flight (a case that ended
      // mid-action) would leave a device behind, talking to whatever next listens on its ports.
      await this.host.call({ op: 'stop', device: this.device }, ACTION_BOUND_MS);
    } catch (e) {
      this.latestHooks?.note('adapter', `[stop] ${(e as Error).message}`);
    } finally {
      this.running = false;
      // Nothing is noted once the caller has closed the case.
      this.host.onOutput(this.device, undefined);
      if (this.ownsHost) giveBackDeviceHost(this.host);
      else this.host.release();
    }
  }

  private async provision(params: ActionParams, secrets: ActionSecrets, hooks: ActionHooks): Promise<void> {
    const args = [
      ...['--state', this.statePath(params), '--bs-uri', params.bsUri, '--endpoint', params.endpoint, '--hold-off', String(this.profile.ixit.holdOffS)],
      ...['--server-uri', params.serverUri ?? '', '--server-ssid', params.serverSsid?.toString() ?? '', '--server-lifetime', params.serverLifetime?.toString() ?? ''],
      ...['--est-dns-server', params.estDnsServer ?? '', '--est-domain', params.estDomain ?? ''],
      // Like the hold-off from the IXIT, a feature the profile's ICS claims is provisioned into the device.
      ...(claims(this.profile.ics, 'bootstrap.pack-request') ? ['--bootstrap-pack'] : []),
    ];
    // Certificates and keys are read from 0600 files, as an exec action would; the folder lives as long as the action.
    const secretDir = secrets.pskKey || secrets.serverPskKey || secrets.certificates ? await createSecretDir() : undefined;
    try {
      if (secretDir) await writeSecretFiles(secretDir, secrets);
      const all = actionEnv('provision', params, secrets, secretDir);
      const env = Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[0].startsWith('GEISA_') && e[1] !== undefined));
      await this.call('provision', { op: 'provision', device: this.device, args, env }, hooks, 'provision', secrets);
    } finally {
      if (secretDir) await removeSecretDir(secretDir);
    }
  }

  private runArgs(params: ActionParams): string[] {
    const coap = this.profile.ixit.coap;
    return [
      ...['--state', this.statePath(params)],
      ...['--ack-timeout-ms', String(Math.round(coap.ackTimeoutS * 1000)), '--ack-random-factor', String(coap.ackRandomFactor), '--max-retransmit', String(coap.maxRetransmit)],
      ...(coap.maxLatencyS !== undefined ? ['--max-latency-ms', String(Math.round(coap.maxLatencyS * 1000))] : []),
      ...(this.opts.defect ? ['--defect', this.opts.defect] : []),
      ...variantArgs(this.opts).flatMap(([flag, value]) => (value === undefined ? [flag!] : [flag!, value])),
    ];
  }

  private statePath(params: ActionParams): string {
    return `${params.stateDir}/device-state.json`;
  }

  private async stop(hooks: ActionHooks): Promise<void> {
    if (!this.running) {
      hooks.note('adapter', '[stop] the device is not running');
      return;
    }
    hooks.note('adapter', '[stop] power cut: the device stops without a De-register');
    this.running = false;
    await this.call('stop', { op: 'stop', device: this.device }, hooks);
  }

  /** One host request; `shown` notes the command line it stands for (scrubbed of any key). */
  private async call(action: DutAction, request: HostCall, hooks: ActionHooks, shown?: 'provision' | 'run', secrets: ActionSecrets = {}): Promise<string> {
    const scrubKey = secretScrubber(secrets.pskKey, secrets.certificates?.keyPem);
    const scrubServerKey = secretScrubber(secrets.serverPskKey);
    const scrub = (text: string) => scrubServerKey(scrubKey(text));
    if (shown && 'args' in request) hooks.note('adapter', `[${action}] $ geisa-adm device ${shown} ${request.args.map(wordForNote).join(' ')}`);
    try {
      const text = await this.host.call(request, ACTION_BOUND_MS);
      if (shown === 'provision') hooks.note('adapter', `[provision] ${scrub(text)}`);
      if (shown === 'run') hooks.note('adapter', `[start] READY ${text}`);
      return text;
    } catch (e) {
      const why = e instanceof DeviceHostError ? e.message : String(e);
      throw new AdapterError(action, scrub(why));
    }
  }
}

/** As a shell would need it: an empty word (an empty placeholder) shows as ''. No key is ever an argument. */
function wordForNote(w: string): string {
  return /^[\w@%+=:,./-]+$/.test(w) ? w : shellQuote(w);
}
