/**
 * What a running case sees: its fake servers, the device's actions, the profile, and the
 * verdict vocabulary. Checks accumulate; fail/inconclusive/notApplicable end the case at
 * once. Every check carries what was expected, what was observed and, for timing, the
 * tolerance, so the verdict can say why.
 */
import type { CaseMeta, CheckEvent, DeviceIdentityEvent, NoteEvent } from '../results/events.js';
import type { Profile } from '../profile/load.js';
import type { BootstrapServer } from '../servers/bootstrap-server.js';
import type { Lwm2mServer } from '../servers/lwm2m-server.js';
import type { EstServer } from '../est/est-server.js';
import type { DnsSdResponder } from '../est/dns-sd.js';
import type { EstCa } from '../pki/est-ca.js';
import type { ActionHooks, ActionParams, ActionSecrets, DutAction, DutAdapter } from '../dut/adapter.js';
import { CaseStop } from './outcome.js';
import { CoapTimeoutError } from '../coap/endpoint.js';
import { templateTakesServerAccount } from '../dut/template.js';
import { freshPsk, type PskCredentials } from '../servers/security.js';
import { type CasePki, derOfCertificate, derOfPrivateKey } from '../pki/case-pki.js';
import { issueCertificate } from '../pki/certificates.js';
import type { LoopMonitor } from './loop-monitor.js';
import { type DeviceTimers, deviceTimers } from './budget.js';
import { isMandatory, judgedLevel, type Level } from '../catalog/index.js';

/**
 * The requirement a check or a failure judges: a catalog row the case cites, at the row's
 * main level, or at another level the row carries (a "SHALL / SHOULD" row holds two).
 */
export type Req = string | { row: string; level: Level };

export interface CaseEnvironment {
  meta: CaseMeta;
  profile: Profile;
  bootstrapServer: BootstrapServer;
  lwm2mServer: Lwm2mServer;
  adapter: DutAdapter;
  actionParams: ActionParams;
  secrets: ActionSecrets;
  signal: AbortSignal;
  loop: LoopMonitor;
  emit(e: CheckEvent | NoteEvent | DeviceIdentityEvent): void;
  pauseTimeout(awaiting?: string): void;
  resumeTimeout(): void;
  scrub(text: string): string;
  /** A key the harness made: scrubbed from every datagram and text from now on. */
  registerSecret(key: Buffer): void;
  /** Certificate-mode cases: the run CA, the device's IDevID and the servers' certificates. */
  pki?: CasePki;
  /** Another Bootstrap-Server for this case (a second provisioning target); closed with the case. */
  openBootstrapServer(psk: PskCredentials | undefined): Promise<BootstrapServer>;
  /**
   * A separate EST registration authority and the DNS-SD responder that names it, closed
   * with the case; from then on provisioning hands the device the responder's address and
   * the domain ({estDnsServer}, {estDomain}) and the RA's trust anchor ($GEISA_EST_TRUST_FILE).
   */
  openEstRegistrationAuthority(opts: EstRaOptions): Promise<EstRegistrationAuthority>;
}

export interface EstRaOptions {
  ca: EstCa;
  /** The domain the device searches for `_est-coaps._udp.<domain>`. */
  domain: string;
  blockSize?: number;
}

export interface EstRegistrationAuthority {
  server: EstServer;
  dns: DnsSdResponder;
  /** host:port the device is told to query (the harness's advertised host, the responder's port). */
  dnsServer: string;
  domain: string;
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

export interface TimingCheck {
  /** The row judged (see Req). */
  req: Req;
  name: string;
  /** The exchange judged, e.g. "gap between Register #1 and #2". */
  observedMs: number;
  minMs: number;
  maxMs: number;
  toleranceMs: number;
  /** Where the window comes from, e.g. "Retry Timer 1 s × 2^(k−1), /1/x/18". */
  window: string;
  /**
   * The two monotonic timestamps (process.hrtime.bigint()) the observed interval lies
   * between. A miss is then weighed against the stalls around that interval only; without
   * it, against every stall of the case.
   */
  span?: { fromNs: bigint; toNs: bigint };
}

export class DeviceControl {
  /** Started (or rebooted) in this case and not stopped since. */
  private running = false;

  constructor(private readonly env: CaseEnvironment) {}

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

export class CaseContext {
  readonly device: DeviceControl;
  readonly failures: string[] = [];
  readonly inconclusives: string[] = [];
  readonly advisories: string[] = [];
  /** The row and level behind the first entry of failures / inconclusives. */
  decidedBy: { requirement: string; level: Level } | undefined;
  passReason: string | undefined;
  checkCount = 0;
  /** The device's timers from the IXIT: every window a case waits is computed from these. */
  readonly timers: DeviceTimers;

  constructor(private readonly env: CaseEnvironment) {
    this.device = new DeviceControl(env);
    this.timers = deviceTimers(env.profile.ixit);
  }

  get meta(): CaseMeta {
    return this.env.meta;
  }
  get profile(): Profile {
    return this.env.profile;
  }
  get ixit(): Profile['ixit'] {
    return this.env.profile.ixit;
  }
  get bootstrapServer(): BootstrapServer {
    return this.env.bootstrapServer;
  }
  get lwm2mServer(): Lwm2mServer {
    return this.env.lwm2mServer;
  }
  get signal(): AbortSignal {
    return this.env.signal;
  }
  get endpoint(): string {
    return this.env.actionParams.endpoint;
  }

  /** Whether a check of a mandatory row has failed so far (a case may stop gathering evidence). */
  hasFailed(): boolean {
    return this.failures.length > 0;
  }

  /** Makes fresh DM-account PSK credentials, known to the LwM2M Server and never reported. */
  freshServerPsk(): PskCredentials {
    const creds = freshPsk('dm');
    this.env.registerSecret(creds.key);
    const security = this.lwm2mServer.security;
    if (security?.mode === 'psk') security.table.set(creds.identity, creds.key);
    return creds;
  }

  /** A second Bootstrap-Server (new port; coaps:// with these credentials when given). */
  openBootstrapServer(psk?: PskCredentials): Promise<BootstrapServer> {
    if (psk) this.env.registerSecret(psk.key);
    return this.env.openBootstrapServer(psk);
  }

  /** An EST registration authority found by DNS-SD, for this case only (CaseEnvironment.openEstRegistrationAuthority). */
  openEstRegistrationAuthority(opts: EstRaOptions): Promise<EstRegistrationAuthority> {
    return this.env.openEstRegistrationAuthority(opts);
  }

  /** Certificate-mode cases: the case's PKI (run CA, IDevID, server certificates). */
  get pki(): CasePki | undefined {
    return this.env.pki;
  }

  /**
   * A fresh operational certificate for the device, issued by the run CA, for the
   * Bootstrap-Server to write into a certificate-mode account; its key is never reported.
   */
  async freshDeviceCertificate(): Promise<{ certDer: Buffer; keyDer: Buffer; certPem: string }> {
    const pki = this.env.pki;
    if (!pki) throw new Error('freshDeviceCertificate() needs a certificate-mode case');
    const c = await issueCertificate(pki.runCa, { commonName: this.endpoint, usage: 'client' });
    const keyDer = derOfPrivateKey(c.keyPem);
    this.env.registerSecret(keyDer);
    return { certDer: derOfCertificate(c.certPem), keyDer, certPem: c.certPem };
  }

  /** The Bootstrap-Server credentials the device was provisioned with (DTLS cases). */
  get bootstrapPsk(): PskCredentials | undefined {
    const s = this.env.secrets;
    return s.pskIdentity !== undefined && s.pskKey ? { identity: s.pskIdentity, key: s.pskKey } : undefined;
  }

  note(text: string): void {
    this.env.emit({ type: 'note', caseId: this.meta.id, source: 'harness', text: this.env.scrub(text), monoNs: process.hrtime.bigint().toString() });
  }

  /** Who the device says it is (/3/0), for the reports' run metadata; never part of a verdict. */
  deviceIdentity(identity: Omit<DeviceIdentityEvent, 'type' | 'caseId' | 'monoNs'>): void {
    const scrub = (v: string | null | undefined) => (v === null || v === undefined ? v : this.env.scrub(v));
    const event: DeviceIdentityEvent = { type: 'device-identity', caseId: this.meta.id, path: identity.path, manufacturer: null, model: null, serial: null, firmware: null, monoNs: '' };
    for (const k of ['manufacturer', 'model', 'serial', 'firmware', 'deviceType', 'hardwareVersion', 'softwareVersion'] as const) {
      const v = scrub(identity[k]);
      if (v !== undefined) (event as unknown as Record<string, string | null>)[k] = v;
    }
    event.monoNs = process.hrtime.bigint().toString();
    this.env.emit(event);
  }

  /**
   * The row and level a check of `req` is judged at. The row must be one the case cites:
   * a check against a row the case does not name is a defect of the case.
   */
  judged(req: Req): { requirement: string; level: Level } {
    const row = typeof req === 'string' ? req : req.row;
    if (!this.meta.requirements.some((r) => r.id === row)) {
      throw new Error(`case ${this.meta.id} judges row ${row}, which its metadata does not cite (${this.meta.requirements.map((r) => r.id).join(', ')})`);
    }
    return { requirement: row, level: judgedLevel(row, typeof req === 'object' ? req.level : undefined) };
  }

  /**
   * Where a miss of a row at a level goes: SHALL/MUST (and a MAY the ICS claims) fail the
   * case, SHOULD (and an unclaimed MAY) gives an advisory, OPEN gives inconclusive with the clause.
   */
  private effectOf(level: Level): 'fail' | 'advisory' | 'inconclusive' {
    if (isMandatory(level)) return 'fail';
    if (level === 'MAY') return this.meta.ics ? 'fail' : 'advisory';
    if (level === 'SHOULD') return 'advisory';
    return 'inconclusive';
  }

  private clauseOf(requirement: string): string {
    const ref = this.meta.requirements.find((r) => r.id === requirement);
    return ref ? `${requirement}, ${ref.section}` : requirement;
  }

  private recordMiss(judged: { requirement: string; level: Level }, text: string): void {
    const effect = this.effectOf(judged.level);
    if (effect === 'fail') {
      if (this.failures.length === 0) this.decidedBy = judged;
      this.failures.push(text);
    } else if (effect === 'advisory') {
      this.advisories.push(`${judged.level} not met (${judged.requirement}, advisory): ${text}`);
    } else {
      if (this.failures.length === 0 && this.inconclusives.length === 0) this.decidedBy = judged;
      this.inconclusives.push(`${text}; ${this.clauseOf(judged.requirement)} leaves this open, so it is neither passed nor failed`);
    }
  }

  /**
   * Records a check of the row `req` names. A failed check is judged at that row's level
   * (see effectOf); the case goes on, to gather evidence.
   */
  check(req: Req, name: string, ok: boolean, detail: CheckDetail): boolean {
    return this.recordCheck(req, name, ok, detail);
  }

  private recordCheck(req: Req, name: string, ok: boolean, detail: CheckDetail): boolean {
    const judged = this.judged(req);
    this.checkCount += 1;
    const event: CheckEvent = {
      type: 'check',
      caseId: this.meta.id,
      name,
      requirement: judged.requirement,
      level: judged.level,
      ok,
      expected: this.env.scrub(detail.expected),
      observed: this.env.scrub(detail.observed),
      monoNs: process.hrtime.bigint().toString(),
    };
    if (detail.tolerance !== undefined) event.tolerance = detail.tolerance;
    this.env.emit(event);
    if (!ok) {
      const tol = detail.tolerance ? ` (tolerance ${detail.tolerance})` : '';
      this.recordMiss(judged, `${name}: expected ${event.expected}, observed ${event.observed}${tol}`);
    }
    return ok;
  }

  /**
   * A timing check. Outside the window it misses, unless the harness's own event loop
   * stalled while the interval was measured and the stalls could account for the miss:
   * then the observation cannot be trusted and the result is inconclusive. A miss beyond
   * the tolerance plus all the stalling that can have moved the interval (the stalls
   * around its span, or every stall of the case when no span is given) is a miss anyway:
   * no stalling can have moved the observation that far.
   */
  checkTiming(c: TimingCheck): boolean {
    const ok = c.observedMs >= c.minMs - c.toleranceMs && c.observedMs <= c.maxMs + c.toleranceMs;
    const expected = `${fmtMs(c.minMs)} to ${fmtMs(c.maxMs)} (${c.window})`;
    const observed = fmtMs(c.observedMs);
    const tolerance = `±${fmtMs(c.toleranceMs)}`;
    if (ok) return this.recordCheck(c.req, c.name, true, { expected, observed, tolerance });
    const miss = c.observedMs < c.minMs ? c.minMs - c.observedMs : c.observedMs - c.maxMs;
    // Without a span, a stall no longer than the tolerance moves nothing beyond it (the
    // old rule, kept for checks that cannot name their interval).
    const stalled = c.span ? this.env.loop.stallMsBetween(c.span.fromNs, c.span.toNs) : this.env.loop.maxDelayMs() > c.toleranceMs ? this.env.loop.totalStallMs() : 0;
    const where = c.span ? 'while this interval was measured' : 'during the case';
    if (stalled === 0) return this.recordCheck(c.req, c.name, false, { expected, observed, tolerance });
    if (miss > c.toleranceMs + stalled) {
      return this.recordCheck(c.req, c.name, false, { expected, observed: `${observed} (off by ${fmtMs(miss)}: more than the tolerance plus all ${fmtMs(stalled)} the harness's event loop stalled ${where})`, tolerance });
    }
    this.recordCheck(c.req, c.name, true, { expected, observed: `${observed} (not judged: harness event loop stalled ${fmtMs(stalled)} ${where})`, tolerance });
    this.inconclusives.push(`${c.name}: observed ${observed} outside ${expected}, (tolerance ${tolerance}), but ${HARNESS_STALL} ${fmtMs(stalled)} ${where}, which can account for the miss`);
    return false;
  }

  /**
   * The device did something the spec leaves open (or where GEISA and LwM2M disagree):
   * the verdict becomes inconclusive with the clause, never fail. The case goes on.
   */
  specOpen(clause: string, observed: string): void {
    this.note(`spec open (${clause}): ${observed}`);
    this.inconclusives.push(`${observed}; ${clause} leaves this open, so it is neither passed nor failed`);
  }

  /**
   * Ends the case now: the device broke the row `req` names. Judged at that row's level:
   * a SHOULD row ends the case with a pass and the advisory, an OPEN row with inconclusive.
   */
  fail(req: Req, reason: string): never {
    const judged = this.judged(req);
    const text = this.env.scrub(reason);
    const effect = this.effectOf(judged.level);
    if (effect === 'fail') {
      if (this.failures.length === 0) this.decidedBy = judged;
      throw new CaseStop('fail', text);
    }
    this.recordMiss(judged, text);
    throw new CaseStop(effect === 'advisory' ? 'stopped' : 'inconclusive', effect === 'advisory' ? `${judged.level} not met (${judged.requirement}, advisory, not a fail): ${text}` : this.inconclusives[this.inconclusives.length - 1]!);
  }

  inconclusive(reason: string): never {
    throw new CaseStop('inconclusive', this.env.scrub(reason));
  }

  notApplicable(reason: string): never {
    throw new CaseStop('not-applicable', reason);
  }

  pass(reason: string): void {
    this.passReason = this.env.scrub(reason);
  }

  advisory(text: string): void {
    this.advisories.push(this.env.scrub(text));
  }

  /**
   * Runs a step the case needs before it can judge anything. If the device does not get
   * there, this case cannot say whether its own requirement holds: inconclusive, not fail
   * (the case that owns that step's requirement gives the fail).
   */
  async precondition<T>(what: string, step: () => Promise<T>): Promise<T> {
    const failuresBefore = this.failures.length;
    const demote = () => {
      this.inconclusives.push(...this.failures.splice(failuresBefore).map((f) => `precondition not reached (${what}): ${f}`));
      if (this.failures.length === 0) this.decidedBy = undefined;
    };
    try {
      const value = await step();
      demote();
      return value;
    } catch (e) {
      demote();
      if (e instanceof CaseStop && (e.verdict === 'fail' || e.verdict === 'stopped')) throw new CaseStop('inconclusive', `precondition not reached (${what}): ${e.reason}`);
      // A harness request the device never acknowledged on the way: the requirement of that
      // exchange is another case's to judge; this one cannot say anything about its own.
      if (e instanceof CoapTimeoutError) throw new CaseStop('inconclusive', this.env.scrub(`precondition not reached (${what}): the device never acknowledged a request on the way (${e.message})`));
      throw e;
    }
  }

  /** ms between two monotonic timestamps. */
  static elapsedMs(fromNs: bigint, toNs: bigint): number {
    return Number(toNs - fromNs) / 1e6;
  }
}

export interface CheckDetail {
  expected: string;
  observed: string;
  tolerance?: string;
}

/**
 * Words every verdict reason uses when the harness's own event loop stalled past a timing
 * tolerance; the self-test matrix finds stalled cells by them and runs them again, alone.
 */
export const HARNESS_STALL = "the harness's event loop stalled";

export function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(3)} s` : `${ms.toFixed(1)} ms`;
}
