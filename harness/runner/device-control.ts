/**
 * The device as a case drives it: the DUT adapter's actions (provision, start, stop,
 * reboot...) with the case's servers and credentials filled in, and the rule that a device
 * a case started is stopped when it ends.
 */
import type { DeviceIdentityEvent, CheckEvent, CaseMeta, NoteEvent } from '../events/events.js';
import type { Profile } from '../profile/load.js';
import type { BootstrapServer } from '../servers/bootstrap-server.js';
import type { ActionHooks, ActionParams, ActionSecrets, DutAction, DutAdapter } from '../dut/adapter.js';
import { CaseStop } from './outcome.js';
import { templateTakesServerAccount } from '../dut/template.js';
import type { PskCredentials } from '../servers/security.js';

/** What DeviceControl needs of the case's environment (CaseEnvironment holds it all). */
export interface DeviceEnvironment {
  meta: CaseMeta;
  profile: Profile;
  adapter: DutAdapter;
  actionParams: ActionParams;
  secrets: ActionSecrets;
  emit(e: CheckEvent | NoteEvent | DeviceIdentityEvent): void;
  pauseTimeout(awaiting?: string): void;
  resumeTimeout(): void;
  scrub(text: string): string;
}

/** Where to provision the device, when not (only) the case's own Bootstrap-Server. */
export interface ProvisionTarget {
  /** Another Bootstrap-Server (with psk its credentials); absent: the case's own, with its credentials. */
  bootstrapServer?: BootstrapServer;
  psk?: PskCredentials;
  /** A fresh Endpoint Client Name, for a device whose ICS says it can be provisioned. */
  endpoint?: string;
  /** A factory LwM2M Server account provisioned besides the Bootstrap-Server account (GEISA-ADM-BS-03). */
  serverAccount?: FactoryServerAccount;
}

export interface FactoryServerAccount {
  uri: string;
  ssid: number;
  lifetimeS: number;
  /** coaps:// only: Security Mode 0 credentials (made with CaseContext.freshServerPsk()). */
  psk?: PskCredentials;
}

export class DeviceControl {
  /** Started (or rebooted) in this case and not stopped since. */
  private running = false;

  constructor(private readonly env: DeviceEnvironment) {}

  supports(action: DutAction): boolean {
    return this.env.adapter.supports(action);
  }

  private hooks(): ActionHooks {
    return {
      note: (source, text) => this.env.emit({ type: 'note', caseId: this.env.meta.id, source, text: this.env.scrub(text), monoNs: process.hrtime.bigint().toString() }),
      pauseTimeout: (awaiting) => this.env.pauseTimeout(awaiting),
      resumeTimeout: () => this.env.resumeTimeout(),
    };
  }

  async act(action: DutAction, target?: ProvisionTarget): Promise<void> {
    if (!this.supports(action)) {
      throw new CaseStop('inconclusive', `the DUT profile defines no '${action}' action, which this case needs`);
    }
    const bs = target?.bootstrapServer;
    const account = target?.serverAccount;
    const params: ActionParams = {
      ...this.env.actionParams,
      ...(bs ? { bsUri: bs.uri, bsHost: bs.host, bsPort: bs.port } : {}),
      ...(target?.endpoint ? { endpoint: target.endpoint } : {}),
      ...(account ? { serverUri: account.uri, serverSsid: account.ssid, serverLifetime: account.lifetimeS } : {}),
    };
    const secrets: ActionSecrets = {
      ...(bs ? (target?.psk ? { pskIdentity: target.psk.identity, pskKey: target.psk.key } : {}) : this.env.secrets),
      ...(account?.psk ? { serverPskIdentity: account.psk.identity, serverPskKey: account.psk.key } : {}),
    };
    await this.env.adapter.run(action, params, secrets, this.hooks());
    if (action === 'start' || action === 'reboot') this.running = true;
    if (action === 'stop') this.running = false;
  }

  /**
   * At the end of a case that started the device: a device an operator powers (manual or
   * mixed adapter) is asked to be stopped, so the next case starts from its own
   * precondition and not from this case's accounts. An exec adapter's dispose() stops a
   * background start itself; the simulator's device is a process of the harness.
   */
  async stopAtCaseEnd(): Promise<void> {
    const kind = this.env.adapter.kind;
    if (!this.running || (kind !== 'manual' && kind !== 'mixed')) return;
    const note = (text: string) => this.env.emit({ type: 'note', caseId: this.env.meta.id, source: 'harness', text: this.env.scrub(text), monoNs: process.hrtime.bigint().toString() });
    if (!this.supports('stop')) {
      note("the profile defines no 'stop' action: the device keeps running with this case's configuration into the next case");
      return;
    }
    try {
      await this.act('stop');
    } catch (e) {
      note(`stopping the device at the end of the case failed: ${(e as Error).message}`);
    }
  }

  /** Out-of-band provisioning: the case's Bootstrap-Server, or the target given. */
  provision(target?: ProvisionTarget): Promise<void> {
    return this.act('provision', target);
  }

  /**
   * Whether provisioning can give the device a server account (ProvisionTarget.serverAccount):
   * the adapter says so, or else the profile's provision template names {serverUri}.
   */
  takesServerAccount(): boolean {
    const adapter = this.env.adapter;
    if (adapter.takesServerAccount) return adapter.takesServerAccount();
    const provision = this.env.profile.adapter.actions.provision;
    if (!provision) return false;
    return provision.type === 'exec' ? templateTakesServerAccount(provision.command, 'shell') : templateTakesServerAccount(provision.instruction, 'text');
  }

  start(): Promise<void> {
    return this.act('start');
  }

  stop(): Promise<void> {
    return this.act('stop');
  }

  /** A restart as the case needs it: stop then start when both exist, else the reboot action. */
  async restart(): Promise<void> {
    if (this.supports('stop') && this.supports('start')) {
      await this.stop();
      await this.start();
      return;
    }
    await this.act('reboot');
  }
}
