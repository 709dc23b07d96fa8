/**
 * What a running case sees: its fake servers, the device's actions, the profile, and the
 * verdict vocabulary. Checks accumulate; fail/inconclusive/notApplicable end the case at
 * once. Every check carries what was expected, what was observed and, for timing, the
 * tolerance, so the verdict can say why.
 */
import type { CaseMeta, CheckEvent, DeviceIdentityEvent } from '../events/events.js';
import type { Profile } from '../profile/load.js';
import type { BootstrapServer } from '../servers/bootstrap-server.js';
import type { Lwm2mServer } from '../servers/lwm2m-server.js';
import type { EstServer } from '../est/est-server.js';
import type { DnsSdResponder } from '../est/dns-sd.js';
import type { EstCa } from '../pki/est-ca.js';
import { CaseStop } from './outcome.js';
import { CoapTimeoutError } from '../coap/endpoint.js';
import { DeviceControl, type DeviceEnvironment } from './device-control.js';
import { judgeTiming, type TimingCheck } from './timing-check.js';
import { freshPsk, type PskCredentials } from '../servers/security.js';
import { type CasePki, derOfCertificate, derOfPrivateKey } from '../pki/case-pki.js';
import { issueCertificate } from '../pki/certificates.js';
import type { LoopMonitor } from './loop-monitor.js';
import type { CoapParams, DeviceTimers } from './budget.js';
import { isMandatory, judgedLevel, type Level } from '../catalog/index.js';

/**
 * The requirement a check or a failure judges: a catalog row the case cites, at the row's
 * main level, or at another level the row carries (a "SHALL / SHOULD" row holds two).
 */
export type Req = string | { row: string; level: Level };

export interface CaseEnvironment extends DeviceEnvironment {
  bootstrapServer: BootstrapServer;
  lwm2mServer: Lwm2mServer;
  signal: AbortSignal;
  loop: LoopMonitor;
  /** The device's timers from the IXIT, computed once by the runner (the servers retransmit with timers.coap). */
  timers: DeviceTimers;
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
    this.timers = env.timers;
  }

  /** The device's CoAP transmission parameters (IXIT ixit.coap, RFC 7252 §4.8) and what follows from them, with a text for reasons. */
  get coap(): CoapParams {
    return this.timers.coap;
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
   * A timing check (judgeTiming): a miss the harness's own event-loop stalls can account
   * for is recorded as a held check and makes the case inconclusive instead.
   */
  checkTiming(c: TimingCheck): boolean {
    const j = judgeTiming(c, this.env.loop);
    const ok = this.recordCheck(c.req, c.name, j.ok, { expected: j.expected, observed: j.observed, tolerance: j.tolerance });
    if (!j.untrusted) return ok;
    this.inconclusives.push(j.untrusted);
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

export { HARNESS_STALL, fmtMs, type TimingCheck } from './timing-check.js';
export { DeviceControl, type ProvisionTarget, type FactoryServerAccount } from './device-control.js';
