/**
 * Steps several cases share, each named for the exchange it waits for. A step that does
 * not see the device act fails with a sentence naming the exchange and the window; a case
 * that only needs the step as a precondition wraps it in t.precondition().
 */
import type { CaseContext, Req } from '../harness/runner/context.js';
import type { DeviceRequest } from '../harness/servers/bootstrap-server.js';
import type { RegistrationMessage } from '../harness/servers/lwm2m-server.js';
import { type ServerAccount, instancesFromDiscover, provisionServerAccount, type PlanOutcome } from '../harness/servers/bootstrap-plan.js';
import { describeResult, type OperationResult } from '../harness/servers/operations.js';
import { CF } from '../harness/lwm2m/index.js';
import { CoapTimeoutError } from '../harness/coap/endpoint.js';
import { claims } from '../harness/profile/ics-registry.js';
import type { BootstrapServer } from '../harness/servers/bootstrap-server.js';
import type { DtlsTransport } from '../harness/dtls/dtls-transport.js';
import { cipherSuiteName, decodeDtlsDatagram, looksLikeDtls } from '../harness/recorder/dtls-records.js';
import { summariseHandshakeFailures } from '../harness/dtls/explain.js';
import { LWM2M_DEFAULT_CERTIFICATE_USAGE } from '../harness/dtls/client-options.js';
import { decodeCoap, describe } from '../harness/coap/message.js';
import { derOfCertificate } from '../harness/pki/case-pki.js';
import { X509Certificate } from 'node:crypto';

export const SSID = 101;

/** Window in which a started device must send its first message (IXIT startupBoundS plus its hold-off). */
export function startupWindowMs(t: CaseContext): number {
  return (t.ixit.startupBoundS + t.ixit.holdOffS) * 1000;
}

/**
 * The account the Bootstrap-Server writes for the fake LwM2M Server, timers from the IXIT;
 * for a coaps:// server, with fresh PSK credentials (Security Mode 0).
 */
export function serverAccount(t: CaseContext, extra: Partial<ServerAccount> = {}): ServerAccount {
  const psk = t.lwm2mServer.security?.mode === 'psk' ? { psk: t.freshServerPsk() } : {};
  return { serverUri: t.lwm2mServer.uri, ssid: SSID, lifetimeS: t.ixit.lifetimeS, binding: 'U', ...psk, ...extra };
}

export async function provisionAndStart(t: CaseContext): Promise<void> {
  await t.device.provision();
  await t.device.start();
}

/** `row`: the requirement a missing Bootstrap-Request breaks (default: the case's first row). */
export async function expectBootstrapRequest(t: CaseContext, withinMs: number, after: string, bs: BootstrapServer = t.bootstrapServer, row?: Req): Promise<DeviceRequest> {
  const req = await bs.expectBootstrapRequest(withinMs, t.signal);
  if (!req) t.fail(row ?? t.meta.requirements[0]!.id, `no Bootstrap-Request (POST /bs) reached the Bootstrap-Server at ${bs.uri} within ${withinMs / 1000} s of ${after}${packRequestsSeen(bs)}${dtlsTrouble(bs.dtls)}`);
  return req;
}

/** "; it sent 3 Bootstrap-Pack-Requests (GET /bspack), answered 4.04" when a device asked for a pack instead: a missing Bootstrap-Request reads differently then. */
export function packRequestsSeen(bs: BootstrapServer): string {
  const all = bs.bootstrapPackRequests.all;
  if (all.length === 0) return '';
  const codes = [...new Set(all.map((r) => r.answeredWith ?? 'nothing'))].join(', ');
  return `; it sent ${all.length} Bootstrap-Pack-Request${all.length > 1 ? 's' : ''} (GET /bspack) instead, answered ${codes}${all.every((r) => r.answeredWith === '4.04') ? ' (this case serves no pack)' : ''}`;
}

/** Bound on what the DTLS layer adds to a reason, however much went wrong (a flood must not make a 30 KB reason). */
export const DTLS_TROUBLE_MAX_CHARS = 2000;
/** Kinds of dropped datagram named in a reason; the rest are counted. */
const DROPPED_KINDS_SHOWN = 4;

/**
 * What the DTLS layer saw go wrong, appended to a "nothing arrived" reason: failed
 * handshakes explained from the wire (who sent which alert after which flight, and why),
 * summarised when there are many; dropped datagrams counted by kind. Bounded.
 */
export function dtlsTrouble(dtls: DtlsTransport | undefined): string {
  if (!dtls) return '';
  const parts: string[] = [];
  const failures = dtls.handshakeFailures.all;
  if (failures.length) parts.push(summariseHandshakeFailures(failures, dtls.failureContext, { maxChars: 1400 }));
  const dropped = droppedSummary(dtls.dropped.all);
  if (dropped) parts.push(dropped);
  if (!parts.length) return dtls.handshakes.all.length ? '' : ' (no DTLS handshake was attempted)';
  const text = ` — ${parts.join('; ')}`;
  return text.length <= DTLS_TROUBLE_MAX_CHARS ? text : `${text.slice(0, DTLS_TROUBLE_MAX_CHARS - 1)}…`;
}

/** Dropped datagrams by what they are (records differ only by sequence number, peers by port): counted, not listed. */
function droppedSummary(dropped: DtlsTransport['dropped']['all']): string {
  const kinds = new Map<string, { n: number; address: string; ports: Set<number>; seqs: string[] }>();
  for (const d of dropped) {
    const what = describePlaintext(d.bytes);
    const dtlsLike = what.startsWith('DTLS ');
    const key = dtlsLike ? `${what.replace(/, sequence \d+/, '')}\u0000${d.remote.address}\u0000${d.reason}` : `${what}\u0000${d.remote.address}`;
    let k = kinds.get(key);
    if (!k) kinds.set(key, (k = { n: 0, address: d.remote.address, ports: new Set(), seqs: [] }));
    k.n += 1;
    k.ports.add(d.remote.port);
    const seq = /sequence (\d+)/.exec(what)?.[1];
    if (seq !== undefined && k.seqs.length < 7 && !k.seqs.includes(seq)) k.seqs.push(seq);
  }
  const lines = [...kinds]
    .sort((a, b) => b[1].n - a[1].n)
    .map(([key, k]) => {
      const [what, , reason] = key.split('\u0000');
      const from = k.ports.size === 1 ? `${k.address}:${[...k.ports][0]}` : `${k.address} (${k.ports.size} source ports)`;
      const line = reason !== undefined ? `${what} from ${from} dropped: ${reason}` : `a datagram from ${k.ports.size === 1 ? k.address : from} was not DTLS (${what})`;
      const numbered = k.seqs.length ? `${line} (sequence ${k.seqs.length > 6 ? `${k.seqs.slice(0, 6).join(', ')}, …` : k.seqs.join(', ')})` : line;
      return k.n > 1 ? `${numbered} (${k.n} times)` : numbered;
    });
  if (lines.length <= DROPPED_KINDS_SHOWN) return lines.join('; ');
  const rest = [...kinds.values()].sort((a, b) => b.n - a.n).slice(DROPPED_KINDS_SHOWN);
  return `${lines.slice(0, DROPPED_KINDS_SHOWN).join('; ')}; and ${rest.reduce((a, k) => a + k.n, 0)} more dropped datagram(s) of ${rest.length} other kind(s)`;
}

/**
 * A datagram the DTLS layer did not take, for what it is: DTLS records (content type,
 * version, epoch, sequence number: an epoch above 0 is protected data of an association the
 * server no longer or never had), plaintext CoAP sent to a coaps:// port, or neither.
 */
export function describePlaintext(bytes: Buffer | undefined): string {
  if (!bytes) return 'contents not kept';
  if (looksLikeDtls(bytes)) {
    const d = decodeDtlsDatagram(bytes);
    const records = d.records.map((r) => `${r.contentType} record (${r.version}, epoch ${r.epoch}, sequence ${r.sequence}, ${r.length} bytes${r.encrypted ? ' encrypted' : ''})`);
    return `DTLS ${records.join(' + ')}${d.trailing ? ` [${d.trailing}]` : ''}`;
  }
  try {
    return `plaintext CoAP ${describe(decodeCoap(bytes))}`;
  } catch {
    return `${bytes.length} bytes, neither DTLS nor CoAP`;
  }
}

/** `opts.row`: the requirement a refused bootstrap step breaks (default: the case's first row). */
export async function runBootstrapPlan(t: CaseContext, req: DeviceRequest, account: ServerAccount, opts: { format?: number; row?: Req } = {}): Promise<PlanOutcome & { finishMonoNs: bigint }> {
  const plan = await provisionServerAccount(t.bootstrapServer, req.remote, account, opts);
  const pinned = account.certificate ?? account.est;
  if (pinned && account.serverUri === t.lwm2mServer.uri) {
    // What the device now holds for the LwM2M Server: a refused handshake is explained against it.
    t.lwm2mServer.dtls?.expectServerCertificate({ der: pinned.serverCertDer, usage: pinned.usage ?? LWM2M_DEFAULT_CERTIFICATE_USAGE, resource: `/0/${plan.securityIid}/4` });
  }
  if (account.psk) t.note(`Bootstrap-Server wrote PSK identity "${account.psk.identity}" for ${account.serverUri}`);
  if (plan.failedStep) t.fail(opts.row ?? t.meta.requirements[0]!.id, `bootstrap could not complete: ${describeResult(plan.failedStep)}${plan.failedStep.payloadError ? ` (${plan.failedStep.payloadError})` : ''}`);
  const finish = plan.steps[plan.steps.length - 1]!;
  return { ...plan, finishMonoNs: finish.response.monoNs };
}

/** `row`: the requirement a missing Register breaks (default: the case's first row). */
export async function expectRegister(t: CaseContext, withinMs: number, after: string, row?: Req): Promise<RegistrationMessage> {
  const reg = await t.lwm2mServer.expectRegister(withinMs, t.signal);
  if (!reg) t.fail(row ?? t.meta.requirements[0]!.id, `no Register (POST /rd) reached the LwM2M Server at ${t.lwm2mServer.uri} within ${withinMs / 1000} s of ${after}${dtlsTrouble(t.lwm2mServer.dtls)}`);
  return reg;
}

/** Checks at `row` that `m` (`what`: "Register", "Bootstrap-Request") carries ep = the provisioned Endpoint Client Name. */
export function checkEndpointName(t: CaseContext, row: Req, what: string, m: DeviceRequest): boolean {
  return t.check(row, `${what} carries ep = the provisioned Endpoint Client Name`, m.query.get('ep')?.[0] === t.endpoint, { expected: `ep=${t.endpoint}`, observed: describeRequest(m) });
}

export function describeRequest(m: DeviceRequest): string {
  const q = [...m.query.entries()].flatMap(([k, vs]) => vs.map((v) => (v === '' ? k : `${k}=${v}`)));
  const method = ({ '0.01': 'GET', '0.02': 'POST', '0.03': 'PUT', '0.04': 'DELETE' } as Record<string, string>)[m.msg.code] ?? m.msg.code;
  return `${m.msg.type} ${method} ${m.path}${q.length ? '?' + q.join('&') : ''} (mid ${m.msg.mid})`;
}

/**
 * Reads /3/0 from a registered device and notes who it says it is. Evidence for the
 * report only: a device that will not answer is noted, never failed, here.
 */
export async function noteDeviceIdentity(t: CaseContext, register: RegistrationMessage): Promise<void> {
  try {
    const r = await t.lwm2mServer.read(register.remote, '/3/0');
    if (r.code !== '2.05' || !r.records) {
      t.note(`DM-Read /3/0 answered ${r.code}${r.payloadError ? ` (${r.payloadError})` : ''}: device identity not recorded`);
      return;
    }
    const byId = new Map(r.records.map((rec) => [rec.path.resourceId, rec.value]));
    const field = (id: number) => (byId.has(id) ? String(byId.get(id)) : '?');
    const value = (id: number) => (byId.has(id) ? String(byId.get(id)) : null);
    const optional = (id: number) => (byId.has(id) ? String(byId.get(id)) : undefined);
    t.deviceIdentity({
      path: '/3/0',
      manufacturer: value(0),
      model: value(1),
      serial: value(2),
      firmware: value(3),
      deviceType: optional(17),
      hardwareVersion: optional(18),
      softwareVersion: optional(19),
    });
    t.note(`device identity (/3/0): manufacturer ${field(0)}, model ${field(1)}, serial ${field(2)}, firmware ${field(3)}`);
  } catch (e) {
    t.note(`DM-Read /3/0 not answered: ${(e as Error).message}`);
  }
}

/** The DTLS handshake a request arrived through, if its server is coaps://. */
export function handshakeOf(dtls: DtlsTransport | undefined, remote: { address: string; port: number }) {
  const all = dtls?.handshakes.all ?? [];
  for (let i = all.length - 1; i >= 0; i--) {
    const h = all[i]!;
    if (h.remote.address === remote.address && h.remote.port === remote.port) return h;
  }
  return undefined;
}

/**
 * Certificate mode: the account the Bootstrap-Server writes for the fake LwM2M Server —
 * a fresh operational certificate and key from the run CA (/0/x/3, /0/x/5) and the
 * server's certificate to pin (/0/x/4, Certificate Usage 3 = domain-issued certificate).
 */
export async function certificateServerAccount(t: CaseContext, opts: { serverCertPem?: string } = {}): Promise<{ account: ServerAccount; clientCertPem: string }> {
  const device = await t.freshDeviceCertificate();
  const serverCertPem = opts.serverCertPem ?? t.pki!.lwm2mServerCert.certPem;
  const account: ServerAccount = {
    ...serverAccount(t),
    certificate: { clientCertDer: device.certDer, clientKeyDer: device.keyDer, serverCertDer: derOfCertificate(serverCertPem), usage: 3 },
  };
  return { account, clientCertPem: device.certPem };
}

export function fingerprintOf(der: Buffer | undefined): string {
  return der ? new X509Certificate(der).fingerprint256 : '(no certificate)';
}

/**
 * Record formats the harness writes and reads, in the order cases try them: a case that
 * writes in one claimed format only takes the first, so the LwM2M 1.0/1.1 formats come
 * before LwM2M CBOR, which only a 1.2 client has.
 */
const RECORD_FORMAT_ICS: readonly { key: string; cf: number }[] = [
  { key: 'content-format.tlv', cf: CF.TLV },
  { key: 'content-format.senml-json', cf: CF.SENML_JSON },
  { key: 'content-format.senml-cbor', cf: CF.SENML_CBOR },
  { key: 'content-format.lwm2m-cbor', cf: CF.LWM2M_CBOR },
];

/**
 * The Bootstrap-Write formats the ICS claims. A profile that claims none gets TLV, the
 * format every bootstrap session of this suite writes with (`assumed` says so).
 */
export function claimedRecordFormats(t: CaseContext): { formats: number[]; assumed: boolean } {
  const formats = RECORD_FORMAT_ICS.filter((f) => claims(t.profile.ics, f.key)).map((f) => f.cf);
  return formats.length ? { formats, assumed: false } : { formats: [CF.TLV], assumed: true };
}

/** The lowest id of object `oid` a Bootstrap-Discover answer does not list: where a case writes an instance of its own. */
export function unusedInstanceId(discover: OperationResult, oid: number): number {
  const used = instancesFromDiscover(discover, oid);
  let id = 1;
  while (used.includes(id)) id++;
  return id;
}

/**
 * The Bootstrap-Server account in a Bootstrap-Discover answer: the /0 instance whose uri is
 * this Bootstrap-Server's, else the only /0 instance no Server instance is bound to by ssid.
 */
export function bootstrapAccountIid(discover: OperationResult, bsUri: string): number | undefined {
  const links = discover.links ?? [];
  const instance = (target: string, oid: number) => {
    const m = /^\/(\d+)\/(\d+)$/.exec(target);
    return m && Number(m[1]) === oid ? Number(m[2]) : undefined;
  };
  const security = links.filter((l) => instance(l.target, 0) !== undefined);
  const byUri = security.filter((l) => l.attributes.uri === bsUri);
  if (byUri.length === 1) return instance(byUri[0]!.target, 0);
  const boundSsids = new Set(links.filter((l) => instance(l.target, 1) !== undefined).map((l) => l.attributes.ssid));
  const unbound = security.filter((l) => l.attributes.ssid === undefined || !boundSsids.has(l.attributes.ssid));
  return unbound.length === 1 ? instance(unbound[0]!.target, 0) : undefined;
}

/**
 * The longest the registration retry rules (/1/x/17-20) can take to run out when each
 * Register attempt takes `attemptMs` to fail: R attempts and the back-offs between them
 * per sequence (plus the last back-off, which 1.xml res 19's "exhaustion of the Retry
 * Timer" lets a device wait out), S sequences, and S − 1 Sequence Delays between them.
 */
export function registrationRetryBudgetMs(s: { retryCount: number; retryTimerS: number; sequenceDelayTimerS: number; sequenceRetryCount: number }, attemptMs: number): number {
  const backoffsMs = s.retryTimerS * 1000 * (2 ** s.retryCount - 1);
  const sequenceMs = s.retryCount * attemptMs + backoffsMs;
  return s.sequenceRetryCount * sequenceMs + (s.sequenceRetryCount - 1) * s.sequenceDelayTimerS * 1000;
}

/**
 * How long the device may take to act on something the server did (an Execute, a Write,
 * an error answer): the profile's bound for the device to speak, IXIT startupBoundS.
 */
export function reactionWindowMs(t: CaseContext): number {
  return t.ixit.startupBoundS * 1000;
}

/** Scheduling slack on both ends when a window is a registration lifetime. */
export function lifetimeToleranceMs(lifetimeS: number): number {
  return Math.max(200, lifetimeS * 1000 * 0.02);
}

/** The next request of any kind the LwM2M Server receives from the device (Register, Update, De-register or another path). */
export function nextRegistrationMessage(t: CaseContext, withinMs: number): Promise<RegistrationMessage | undefined> {
  return t.lwm2mServer.expect(['register', 'update', 'deregister', 'other'], withinMs, t.signal);
}

/**
 * Waits for two things side by side until the first of them settles, then calls the other
 * off (both, if the case is stopped). Returns what each had brought by then; which came
 * first is for arrival times to say, not for the order the waiters woke in.
 */
export async function firstOf<A, B>(t: CaseContext, a: (signal: AbortSignal) => Promise<A | undefined>, b: (signal: AbortSignal) => Promise<B | undefined>): Promise<[A | undefined, B | undefined]> {
  const race = new AbortController();
  const endRace = () => race.abort();
  t.signal.addEventListener('abort', endRace);
  let first: A | undefined;
  let second: B | undefined;
  try {
    await Promise.race([a(race.signal).then((v) => (first = v)), b(race.signal).then((v) => (second = v))]);
  } finally {
    race.abort();
    t.signal.removeEventListener('abort', endRace);
  }
  return [first, second];
}

/** Signalling cipher suite values (RFC 5746 renegotiation_info, RFC 7507 fallback): not suites a client offers to use. */
const SIGNALLING_SUITES: ReadonlySet<number> = new Set([0x00ff, 0x5600]);

/**
 * /0/x/16 (LWM2M-TRANS-DTLS-05): waits for the device's handshake with the LwM2M Server
 * and checks its ClientHello proposed exactly the `written` suites. `bootstrapOffer` (the
 * ClientHello toward the Bootstrap-Server, whose account has no /0/x/16) shows whether the
 * device's own default list happens to be the same, which the reason then says.
 */
export async function expectProposedSuites(t: CaseContext, written: number[], bootstrapOffer: number[] | undefined, row?: Req): Promise<void> {
  const req = row ?? t.meta.requirements[0]!.id;
  const dtls = t.lwm2mServer.dtls!;
  const windowMs = t.ixit.startupBoundS * 1000;
  const register = await t.lwm2mServer.expectRegister(windowMs, t.signal);
  const hs = register ? handshakeOf(dtls, register.remote) : undefined;
  const offered = hs?.clientOfferedCiphers ?? dtls.handshakes.all[0]?.clientOfferedCiphers ?? dtls.handshakeFailures.all[0]?.clientOfferedCiphers ?? [];
  if (offered.length === 0) {
    t.inconclusive(`no ClientHello toward the LwM2M Server ${t.lwm2mServer.uri} was captured within ${windowMs / 1000} s of Bootstrap-Finish, so the proposed suites could not be judged${dtlsTrouble(dtls)}`);
  }
  const names = (ids: number[]) => ids.map(cipherSuiteName).join(', ') || 'none';
  const suites = offered.filter((s) => !SIGNALLING_SUITES.has(s));
  const extra = suites.filter((s) => !written.includes(s));
  const missing = written.filter((s) => !suites.includes(s));
  t.check(req, 'the ClientHello proposes no suite outside /0/x/16', extra.length === 0, {
    expected: `only ${names(written)} (written to /0/x/16)`,
    observed: `${names(suites)}${extra.length ? `; not written: ${names(extra)}` : ''}`,
  });
  t.check(req, 'the ClientHello proposes every suite of /0/x/16', missing.length === 0, {
    expected: names(written),
    observed: `${names(suites)}${missing.length ? `; missing: ${names(missing)}` : ''}`,
  });
  const bootstrapSuites = bootstrapOffer?.filter((s) => !SIGNALLING_SUITES.has(s));
  const sameAsDefault = bootstrapSuites !== undefined && bootstrapSuites.length === suites.length && bootstrapSuites.every((s) => suites.includes(s));
  if (sameAsDefault) t.note(`the ClientHello toward the Bootstrap-Server (no /0/x/16) proposed the same suites: the device's default list matches what was written, so this run cannot tell the two apart`);
  const reg = register ? `; then ${describeRequest(register)}` : `; no Register within ${windowMs / 1000} s (TC-SEC-02/05 judge the registration)`;
  t.pass(`the ClientHello toward the LwM2M Server proposed ${names(suites)}, exactly /0/x/16 as written${bootstrapSuites ? ` (toward the Bootstrap-Server, without /0/x/16: ${names(bootstrapSuites)})` : ''}${reg}`);
}

/** A feature a case only uses to reach what it judges, and the case(s) that judge that feature. */
export interface Tool {
  feature: string;
  judgedBy: string;
}

/**
 * Runs a step the case only uses as a tool (a bootstrap session, an Execute). A Confirmable
 * request of it the device never acknowledged broke the requirement of that feature, which
 * another case judges: here it leaves the case inconclusive, naming the feature and its judge.
 */
export async function usingTool<T>(t: CaseContext, tool: Tool, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    if (!(e instanceof CoapTimeoutError)) throw e;
    t.inconclusive(`${tool.feature} was not acknowledged (${e.message}), so this case could not reach what it judges; ${tool.judgedBy} judges ${tool.feature}`);
  }
}

/** t.precondition whose step is a tool: an unacknowledged request is inconclusive with the tool named, as a refused step is. */
export function toolPrecondition<T>(t: CaseContext, what: string, tool: Tool, step: () => Promise<T>): Promise<T> {
  return t.precondition(what, () => usingTool(t, tool, step));
}

/**
 * How a case's opening is judged. By default it is a precondition (`what` names it): a
 * refused step or a missing message makes the case inconclusive, for the case that owns
 * that step gives the fail. With `tool`, a request the device never acknowledged on the way
 * is named as the feature this case only uses and the case(s) that judge it. With `judge`,
 * the opening is the case's own subject: a refused step or a missing message fails that row.
 */
export interface OpeningOptions {
  what?: string;
  tool?: Tool;
  judge?: Req;
}

/** The options of an opening that runs a bootstrap session. */
export interface SessionOptions extends OpeningOptions {
  /** The Bootstrap-Writes' record format (default TLV). */
  format?: number;
  /** A Bootstrap-Request the case has already seen (and judged): the session answers it, with no new provisioning or start. */
  request?: DeviceRequest;
}

/** The options of bootstrapRequested. */
export interface RequestOptions extends OpeningOptions {
  /** The start a missing Bootstrap-Request is counted from, as its reason says it (default: device start, with the IXIT window). */
  after?: string;
}

export interface Opening {
  /** The device's Bootstrap-Request (its remote is where the Bootstrap-Server talks to). */
  request: DeviceRequest;
  plan: PlanOutcome;
  securityIid: number;
  serverIid: number;
}

export interface Registered extends Opening {
  register: RegistrationMessage;
  /** The location the fake LwM2M Server handed out. */
  location: string;
  finishMonoNs: bigint;
}

/**
 * Runs `step` as the opening options say: a precondition (default), a precondition whose
 * unacknowledged request names the tool, or the case's own judged step.
 */
function opening<T>(t: CaseContext, opts: OpeningOptions, defaultWhat: string, step: () => Promise<T>): Promise<T> {
  if (opts.judge !== undefined) return step();
  const what = opts.what ?? defaultWhat;
  return opts.tool ? toolPrecondition(t, what, opts.tool, step) : t.precondition(what, step);
}

/** Provision, start, and the device's Bootstrap-Request within its start-up window; `opts.request` when the case has it already. */
async function requestOf(t: CaseContext, opts: SessionOptions & RequestOptions): Promise<DeviceRequest> {
  if (opts.request) return opts.request;
  await provisionAndStart(t);
  return expectBootstrapRequest(t, startupWindowMs(t), opts.after ?? 'device start (IXIT startupBoundS + holdOffS)', t.bootstrapServer, opts.judge);
}

/**
 * The first exchange of every opening: provision, start and see the device's
 * Bootstrap-Request, for a case that judges that request or works on the device before the
 * bootstrap session (a Discover of the fresh device, a Delete, an account of its own).
 */
export function bootstrapRequested(t: CaseContext, opts: RequestOptions = {}): Promise<DeviceRequest> {
  return opening(t, opts, 'device starts and sends its Bootstrap-Request', () => requestOf(t, opts));
}

/**
 * The opening of a case that works on the device's configuration before Bootstrap-Finish:
 * provision, start, see the Bootstrap-Request and run Discover and the writes of `account`,
 * without Finish (the case sends it, or withholds it).
 */
export function bootstrapWrites(t: CaseContext, account: ServerAccount, opts: SessionOptions = {}): Promise<Opening> {
  return opening(t, opts, 'device bootstrapped up to the writes of an LwM2M Server account', async () => {
    const request = await requestOf(t, opts);
    const plan = await provisionServerAccount(t.bootstrapServer, request.remote, account, { skipFinish: true, ...(opts.format !== undefined ? { format: opts.format } : {}) });
    if (plan.failedStep) t.fail(opts.judge ?? t.meta.requirements[0]!.id, `bootstrap could not go on: ${describeResult(plan.failedStep)}${plan.failedStep.payloadError ? ` (${plan.failedStep.payloadError})` : ''}`);
    return { request, plan, securityIid: plan.securityIid, serverIid: plan.serverIid };
  });
}

/**
 * The opening most cases share: provision, start, bootstrap with `account` and see the
 * first Register accepted by the fake LwM2M Server. `until: 'finish'` stops after
 * Bootstrap-Finish, for a case that watches the registration itself (a refused Register,
 * the DTLS handshake before it).
 */
export function registered(t: CaseContext, account: ServerAccount, opts?: SessionOptions & { until?: 'register' }): Promise<Registered>;
export function registered(t: CaseContext, account: ServerAccount, opts: SessionOptions & { until: 'finish' }): Promise<Opening & { finishMonoNs: bigint }>;
export function registered(t: CaseContext, account: ServerAccount, opts: SessionOptions & { until?: 'register' | 'finish' } = {}): Promise<Registered | (Opening & { finishMonoNs: bigint })> {
  const finishOnly = opts.until === 'finish';
  return opening(t, opts, finishOnly ? 'device bootstrapped' : 'device bootstrapped and registered', async () => {
    const request = await requestOf(t, opts);
    const plan = await runBootstrapPlan(t, request, account, { ...(opts.format !== undefined ? { format: opts.format } : {}), ...(opts.judge !== undefined ? { row: opts.judge } : {}) });
    const done = { request, plan, securityIid: plan.securityIid, serverIid: plan.serverIid, finishMonoNs: plan.finishMonoNs };
    if (finishOnly) return done;
    const register = await expectRegister(t, t.timers.startupMs, 'Bootstrap-Finish', opts.judge);
    if (register.answeredWith !== '2.01') t.fail(opts.judge ?? t.meta.requirements[0]!.id, `the Register ${describeRequest(register)} was answered ${register.answeredWith ?? 'not at all'}, so there is no registration`);
    return { ...done, register, location: register.location };
  });
}
