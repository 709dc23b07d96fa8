/**
 * How the harness acts on the device under test. A real device is driven by shell
 * commands (exec) or by an operator (manual); the bundled reference device by the
 * simulator adapter. Cases only ever see this interface.
 */
import type { DutAction } from '../profile/actions.js';

// Re-exported: adapters and cases meet the action vocabulary through this interface.
export type { DutAction };

/** Values an action may use. Secrets never go on a command line: see ActionSecrets. */
export interface ActionParams {
  /** Bootstrap-Server URI the device must be provisioned with, e.g. coap://192.0.2.1:5683 */
  bsUri: string;
  bsHost: string;
  bsPort: number;
  endpoint: string;
  /** Per-case scratch directory (the simulator keeps its state file here). */
  stateDir: string;
  /**
   * A factory-provisioned LwM2M Server account, when the case asks for one besides the
   * Bootstrap-Server account: its URI, Short Server ID and lifetime (s). Absent otherwise,
   * and then their placeholders expand to an empty word.
   */
  serverUri?: string;
  serverSsid?: number;
  serverLifetime?: number;
  /**
   * Certificate mode with EST, registration authority found by DNS-SD: the DNS server the
   * device queries (address:port, IPv6 as [addr]:port) and the domain it searches for
   * `_est-coaps._udp.<domain>`. Absent otherwise (empty placeholders): EST is on the
   * Bootstrap-Server.
   */
  estDnsServer?: string;
  estDomain?: string;
}

/** Certificate-mode material for provisioning: the device's certificate and key, and what it trusts. */
export interface CertificateSecrets {
  /** The device identity to install, when the harness plays the manufacturer (bundled device). */
  certPem?: string;
  /** Secret: reaches an exec action only as a 0600 file. */
  keyPem?: string;
  /** The Bootstrap-Server certificate or trust anchor the device checks the server against (/0/x/4). */
  trustPem: string;
  /** LwM2M Certificate Usage (/0/x/15) for the Bootstrap-Server account; 3 when absent. */
  usage?: number;
  /**
   * The trust anchor a device checks an EST registration authority found by DNS-SD against
   * (RFC 7030 §3.6.1, explicit TA database); with ActionParams.estDnsServer only.
   */
  estTrustPem?: string;
}

/** Handed to exec actions through environment variables or 0600 temporary files only. */
export interface ActionSecrets {
  pskIdentity?: string;
  pskKey?: Buffer;
  /** PSK of the factory-provisioned LwM2M Server account (ActionParams.serverUri, coaps://). */
  serverPskIdentity?: string;
  serverPskKey?: Buffer;
  certificates?: CertificateSecrets;
}

export interface ActionHooks {
  /** Evidence: adapter output and operator actions go into the case trace. */
  note(source: 'adapter' | 'operator', text: string): void;
  /** The case timeout stops running while an operator works; `awaiting` says what the operator was asked (for the live line). */
  pauseTimeout(awaiting?: string): void;
  resumeTimeout(): void;
}

export class AdapterError extends Error {
  constructor(
    readonly action: DutAction,
    readonly detail: string,
  ) {
    super(`DUT action '${action}' failed: ${detail}`);
    this.name = 'AdapterError';
  }
}

export interface DutAdapter {
  readonly kind: 'simulator' | 'exec' | 'manual' | 'mixed';
  /** True when the action is defined for this DUT (a missing optional action is not an error until used). */
  supports(action: DutAction): boolean;
  run(action: DutAction, params: ActionParams, secrets: ActionSecrets, hooks: ActionHooks): Promise<void>;
  /** True when the provision action passes a server account (ActionParams.serverUri) on to the device. */
  takesServerAccount?(): boolean;
  /** Stop everything the adapter started (processes, timers). Safe to call twice. */
  dispose(): Promise<void>;
}
