/**
 * Runs one case: fresh fake servers on ports of the run's block (or OS-chosen, or the profile's), a fresh device
 * adapter, the case body under a pausable timeout, then teardown that always runs. The
 * verdict is computed here from what the body recorded, worst first.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CaseMeta, ResultEvent, Verdict, VerdictEvent } from '../events/events.js';
import type { Profile } from '../profile/load.js';
import { claims, icsEntry } from '../profile/ics-registry.js';
import type { DutAdapter } from '../dut/adapter.js';
import { AdapterError } from '../dut/adapter.js';
import { BootstrapServer } from '../servers/bootstrap-server.js';
import { Lwm2mServer } from '../servers/lwm2m-server.js';
import { EVIDENCE_LIMITS, WireRecorder } from '../recorder/wire-recorder.js';
import { CoapTimeoutError } from '../coap/endpoint.js';
import type { ConformanceCase } from './case.js';
import { CaseContext } from './context.js';
import { CaseStop } from './outcome.js';
import { LoopMonitor } from './loop-monitor.js';
import { PausableTimeout } from './timeout.js';
import { caseBudgetMs, deviceTimers } from './budget.js';
import type { Level } from '../catalog/index.js';
import { freshPsk, NOSEC, PskTable, type PskCredentials, type ServerSecurity } from '../servers/security.js';
import { type CasePki, derOfCertificate, derOfPrivateKey, makeCasePki } from '../pki/case-pki.js';
import { isIP } from 'node:net';
import type { ActionParams, ActionSecrets } from '../dut/adapter.js';
import { EstServer } from '../est/est-server.js';
import { DnsSdResponder } from '../est/dns-sd.js';
import type { EstRaOptions, EstRegistrationAuthority } from './context.js';
import type { PortLane, PortSource } from './port-block.js';

export interface CaseRunOptions {
  profile: Profile;
  createAdapter: (stateDir: string) => DutAdapter;
  emit: (e: ResultEvent) => void;
  /** Aborted on SIGINT/SIGTERM: the case stops waiting and tears down. */
  signal: AbortSignal;
  /** Scratch space for per-case device state; removed afterwards. */
  workDir?: string;
  /** Told each fake server of the case once it listens (the fuzzer aims at them). */
  onServerOpen?: (server: { name: string; address: string; port: number; scheme: 'coap' | 'coaps' }) => void;
  /** The run's port block (port-block.ts); absent: OS-chosen ports. A port the profile fixes is used as it is. */
  ports?: PortSource;
  /** The case's bound paused while an operator acts (what is awaited), then resumed (undefined): for the live line. */
  onPause?: (awaiting: string | undefined) => void;
}

/** Decides applicability from the ICS before anything is started. */
export function applicability(meta: CaseMeta, profile: Profile): { verdict: Verdict; reason: string } | undefined {
  if (!meta.ics) return undefined;
  const entry = icsEntry(meta.ics);
  const declared = profile.ics[meta.ics];
  if (entry?.status === 'mandatory' && declared === false) {
    return { verdict: 'fail', reason: `the ICS declares mandatory feature '${meta.ics}' as not supported (${entry.requirement})` };
  }
  if (!claims(profile.ics, meta.ics)) {
    return { verdict: 'not-applicable', reason: `the ICS does not claim optional feature '${meta.ics}'` };
  }
  return undefined;
}

/** Malformed datagrams noted one by one per endpoint before the notes stop. */
const MALFORMED_NOTES = 5;

export async function runCase(c: ConformanceCase, opts: CaseRunOptions): Promise<VerdictEvent> {
  const budgetMs = caseBudgetMs(c.budget, opts.profile.ixit);
  const meta: CaseMeta = { ...c.meta, timeoutMs: budgetMs };
  const started = process.hrtime.bigint();
  let t: CaseContext | undefined;
  let recorder: WireRecorder | undefined;
  const emitVerdict = (verdict: Verdict, reason: string, advisory?: string): VerdictEvent => {
    // The held-back end of any flood goes into the evidence before the verdict that closes it.
    recorder?.flush();
    const end = process.hrtime.bigint();
    const event: VerdictEvent = { type: 'verdict', caseId: meta.id, verdict, reason, durationMs: Number(end - started) / 1e6, monoNs: end.toString() };
    if (advisory) event.advisory = advisory;
    if ((verdict === 'fail' || verdict === 'inconclusive') && t?.decidedBy) {
      event.requirement = t.decidedBy.requirement;
      event.level = t.decidedBy.level;
    }
    opts.emit(event);
    return event;
  };
  opts.emit({ type: 'case-start', caseId: meta.id, meta, at: new Date().toISOString(), monoNs: started.toString() });

  const gate = applicability(meta, opts.profile);
  if (gate) return emitVerdict(gate.verdict, gate.reason);

  const harnessNote = (text: string) => opts.emit({ type: 'note', caseId: meta.id, source: 'harness', text, monoNs: process.hrtime.bigint().toString() });
  recorder = new WireRecorder((e) => opts.emit(e), EVIDENCE_LIMITS, harnessNote);
  recorder.startCase(meta.id);
  const psk = opts.profile.secrets.bootstrapPsk;
  if (psk) recorder.scrubber.add(psk.key);
  const scrub = (text: string) => recorder!.scrubber.scrubText(text);

  const stateDir = mkdtempSync(join(opts.workDir ?? tmpdir(), `geisa-${meta.id}-`));
  const loop = new LoopMonitor();
  const caseAbort = new AbortController();
  const onOuterAbort = () => caseAbort.abort();
  opts.signal.addEventListener('abort', onOuterAbort);
  const timeout = new PausableTimeout(budgetMs);
  let bs: BootstrapServer | undefined;
  let dm: Lwm2mServer | undefined;
  let adapter: DutAdapter | undefined;
  const extraServers: BootstrapServer[] = [];
  const estRas: { close(): Promise<void> }[] = [];
  try {
    const h = opts.profile.harness;
    // The harness retransmits with the DUT's declared parameters: both ends share the link,
    // and a silent device is then detected within its own MAX_TRANSMIT_WAIT.
    const timers = deviceTimers(opts.profile.ixit);
    const { ackTimeoutMs, ackRandomFactor, maxRetransmit, nstart } = timers.coap;
    const params = { ackTimeoutMs, ackRandomFactor, maxRetransmit, nstart };
    // Each operation a fake server runs on the device is noted in the case's evidence, as t.note would.
    const note = (text: string) => harnessNote(scrub(text));
    const common = { listenAddress: h.listenAddress, advertiseHost: h.advertiseHost, params, tap: recorder.tap, note };
    const laneOf = (s: ServerSecurity): PortLane => (s.mode === 'nosec' ? 'plain' : 'dtls');
    const onPort = <S extends { close(): Promise<void> }>(fixed: number, lane: PortLane, open: (port: number) => Promise<S>): Promise<S> => (fixed !== 0 || !opts.ports ? open(fixed) : opts.ports.withPort(lane, open));
    // DTLS cases: the device is provisioned with fresh Bootstrap-Server credentials (or the
    // fixed ones a profile declares), the LwM2M Server learns what the Bootstrap-Server writes.
    let bootstrapPsk: PskCredentials | undefined;
    let bsSecurity: ServerSecurity = NOSEC;
    let dmSecurity: ServerSecurity = NOSEC;
    if (meta.security === 'psk') {
      bootstrapPsk = psk ?? freshPsk('bs');
      recorder.scrubber.add(bootstrapPsk.key);
      const bsTable = new PskTable();
      bsTable.set(bootstrapPsk.identity, bootstrapPsk.key);
      bsSecurity = { mode: 'psk', table: bsTable };
      dmSecurity = { mode: 'psk', table: new PskTable() };
    }
    let pki: CasePki | undefined;
    if (meta.security === 'certificate') {
      const declaredCa = opts.profile.certificates.manufacturerCaPem;
      if (opts.profile.adapter.kind !== 'simulator' && !declaredCa) {
        // A real device's IDevID can only be judged against its manufacturer's CA.
        return emitVerdict('inconclusive', `certificate-mode case: the profile ${opts.profile.source} declares no certificates.manufacturerCaFile to verify the device's IDevID against`);
      }
      pki = await makeCasePki(opts.profile.dut.endpoint, h.advertiseHost, opts.profile.adapter.kind === 'simulator' ? undefined : declaredCa);
      if (pki.idevid) recorder.scrubber.add(derOfPrivateKey(pki.idevid.keyPem));
      // EST cases serve EST on the Bootstrap-Server, where a device re-enrolls (sren) with the
      // LDevID the run CA issued: its handshake must verify there too, not only the IDevID's.
      const bsClientCas = meta.tags.includes('est') ? `${pki.manufacturerCaPem.trim()}\n${pki.runCa.certPem.trim()}\n` : pki.manufacturerCaPem;
      bsSecurity = { mode: 'certificate', certPem: pki.bootstrapServerCert.certPem, keyPem: pki.bootstrapServerCert.keyPem, trustedClientCaPem: bsClientCas };
      dmSecurity = { mode: 'certificate', certPem: pki.lwm2mServerCert.certPem, keyPem: pki.lwm2mServerCert.keyPem, trustedClientCaPem: pki.runCa.certPem };
    }
    bs = await onPort(h.bootstrapPort, laneOf(bsSecurity), (port) => BootstrapServer.open({ ...common, port, security: bsSecurity }));
    // The device is provisioned with this certificate under Certificate Usage 3 (secrets below): a refusal is explained against it.
    if (pki) bs.dtls?.expectServerCertificate({ der: derOfCertificate(pki.bootstrapServerCert.certPem), usage: 3, resource: "its Bootstrap-Server account's /0/x/4 (provisioned)" });
    dm = await onPort(h.serverPort, laneOf(dmSecurity), (port) => Lwm2mServer.open({ ...common, port, security: dmSecurity }));
    const told = (ep: { name: string; local: { address: string; port: number }; scheme: 'coap' | 'coaps' }) => opts.onServerOpen?.({ name: ep.name, address: ep.local.address, port: ep.local.port, scheme: ep.scheme });
    told(bs.endpoint);
    told(dm.endpoint);
    for (const ep of [bs.endpoint, dm.endpoint]) {
      // One note per malformed datagram up to a few; a flood is counted by the recorder.
      let noted = 0;
      ep.on('malformed', (m: { error: Error; remote: { address: string; port: number } }) => {
        noted += 1;
        if (noted <= MALFORMED_NOTES) t?.note(`malformed datagram from ${m.remote.address}:${m.remote.port} at ${ep.name}, not taken as a message: ${m.error.message}`);
        if (noted === MALFORMED_NOTES + 1) t?.note(`more malformed datagrams at ${ep.name}: not noted one by one (the wire recorder counts them and says how many it elided)`);
      });
    }
    adapter = opts.createAdapter(stateDir);
    const secrets: ActionSecrets = bootstrapPsk
      ? { pskIdentity: bootstrapPsk.identity, pskKey: bootstrapPsk.key }
      : pki
        ? { certificates: { ...(pki.idevid ? { certPem: pki.idevid.certPem, keyPem: pki.idevid.keyPem } : {}), trustPem: pki.bootstrapServerCert.certPem, usage: 3 } }
        : {};
    // Mutable: an EST registration authority opened by the case adds where to discover it (and what to trust there).
    const actionParams: ActionParams = { bsUri: bs.uri, bsHost: bs.host, bsPort: bs.port, endpoint: opts.profile.dut.endpoint, stateDir };
    const openEstRegistrationAuthority = async (o: EstRaOptions): Promise<EstRegistrationAuthority> => {
      if (!pki) throw new Error('an EST registration authority needs the case PKI (a certificate-mode case)');
      // The SRV target's A/AAAA record carries the advertised host: it must be an address.
      if (isIP(h.advertiseHost) === 0) throw new Error(`the DNS-SD responder names the EST server by address, but harness.advertiseHost ${JSON.stringify(h.advertiseHost)} is not an IP address`);
      const server = await onPort(0, 'dtls', (port) => EstServer.open({ ...common, port, ca: o.ca, manufacturerCaPem: pki.manufacturerCaPem, name: 'est-server', ...(o.blockSize ? { blockSize: o.blockSize } : {}) }));
      estRas.push(server);
      told(server.endpoint);
      const dns = await onPort(0, 'plain', (port) => DnsSdResponder.start({ address: h.listenAddress, port, domain: o.domain, targetAddresses: [h.advertiseHost], estPort: server.port }));
      estRas.push(dns);
      const dnsServer = isIP(h.advertiseHost) === 6 ? `[${h.advertiseHost}]:${dns.local.port}` : `${h.advertiseHost}:${dns.local.port}`;
      actionParams.estDnsServer = dnsServer;
      actionParams.estDomain = o.domain;
      if (secrets.certificates) secrets.certificates.estTrustPem = o.ca.certPem;
      return { server, dns, dnsServer, domain: o.domain };
    };
    const env = {
      meta,
      profile: opts.profile,
      bootstrapServer: bs,
      lwm2mServer: dm,
      adapter,
      actionParams,
      openEstRegistrationAuthority,
      secrets,
      pki,
      registerSecret: (key: Buffer) => recorder.scrubber.add(key),
      openBootstrapServer: async (p: PskCredentials | undefined) => {
        const table = new PskTable();
        if (p) table.set(p.identity, p.key);
        const security: ServerSecurity = p ? { mode: 'psk', table } : NOSEC;
        const extra = await onPort(0, laneOf(security), (port) => BootstrapServer.open({ ...common, port, security }, `bootstrap-server-${extraServers.length + 2}`));
        extraServers.push(extra);
        told(extra.endpoint);
        return extra;
      },
      signal: caseAbort.signal,
      loop,
      timers,
      emit: opts.emit,
      pauseTimeout: (awaiting?: string) => {
        timeout.pause();
        opts.onPause?.(awaiting ?? 'an operator action');
      },
      resumeTimeout: () => {
        timeout.resume();
        opts.onPause?.(undefined);
      },
      scrub,
    };
    t = new CaseContext(env);
    loop.start();
    const ctx = t;
    const outcome = await Promise.race([
      c.run(ctx).then(() => undefined),
      timeout.expired.then(
        () => new CaseStop('error', `case exceeded its budget of ${budgetMs / 1000} s for this profile's timers (harness/runner/budget.ts): the harness's own bound, not the device's; each wait inside has its own window`),
      ),
      // The case's own signal follows the run's (listener removed in finally), so no
      // listener of ours outlives the case on the run-wide signal.
      new Promise<CaseStop>((resolve) => {
        const stop = () => resolve(new CaseStop('error', 'run interrupted'));
        if (opts.signal.aborted) stop();
        else caseAbort.signal.addEventListener('abort', () => opts.signal.aborted && stop(), { once: true });
      }),
    ]);
    if (outcome instanceof CaseStop) throw outcome;
    return finalVerdict(ctx, emitVerdict);
  } catch (e) {
    if (e instanceof CaseStop) {
      if (e.reason === 'run interrupted') throw e;
      // Failed checks recorded before an early stop still count: worst wins.
      if (t?.hasFailed() && e.verdict !== 'error') return emitVerdict('fail', t.failures[0]!, advisoriesOf(t));
      if (e.verdict === 'stopped') return emitVerdict('pass', e.reason, advisoriesOf(t));
      if (e.verdict === 'error' || e.verdict === 'not-applicable') return emitVerdict(e.verdict, e.reason, advisoriesOf(t));
      return emitVerdict(e.verdict, e.reason, advisoriesOf(t));
    }
    if (e instanceof AdapterError) return emitVerdict('error', scrub(e.message));
    if (e instanceof CoapTimeoutError && t) {
      // A harness request the device never acknowledged: the observation of the case's own
      // requirement (the device did not take part in the exchange it judges), at its level.
      // Whether the message layer itself is right is TC-COAP-01's to judge.
      try {
        t.fail(meta.requirements[0]!.id, `the device never acknowledged a request of this exchange (${e.message})`);
      } catch (stop) {
        if (stop instanceof CaseStop && stop.verdict === 'stopped') return emitVerdict('pass', stop.reason, advisoriesOf(t));
        if (stop instanceof CaseStop) return emitVerdict(t.hasFailed() || stop.verdict === 'fail' ? 'fail' : 'inconclusive', t.failures[0] ?? stop.reason, advisoriesOf(t));
      }
    }
    return emitVerdict('error', scrub(`harness error: ${(e as Error)?.message ?? String(e)}`));
  } finally {
    // Before the case's signal is aborted: the operator may be asked to stop the device.
    if (t && !opts.signal.aborted) await t.device.stopAtCaseEnd();
    caseAbort.abort();
    opts.signal.removeEventListener('abort', onOuterAbort);
    timeout.cancel();
    loop.stop();
    await adapter?.dispose().catch(() => {});
    await bs?.close();
    await dm?.close();
    for (const extra of extraServers) await extra.close();
    for (const ra of estRas) await ra.close().catch(() => {});
    // What arrived between the verdict and the closing of the sockets.
    recorder.flush();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/**
 * The verdict from what the checks recorded, each already judged at its own row's level:
 * a missed SHALL/MUST fails; an open point makes it inconclusive; a missed SHOULD leaves
 * a pass with the advisory.
 */
function finalVerdict(t: CaseContext, emit: (v: Verdict, r: string, a?: string) => VerdictEvent): VerdictEvent {
  if (t.hasFailed()) return emit('fail', t.failures[0]!, advisoriesOf(t));
  if (t.inconclusives.length > 0) return emit('inconclusive', t.inconclusives[0]!, advisoriesOf(t));
  const n = t.advisories.length;
  if (t.passReason) return emit('pass', n ? `${t.passReason} (with ${n === 1 ? 'an advisory' : `${n} advisories`}, not a fail)` : t.passReason, advisoriesOf(t));
  return emit('pass', n ? `advisory, not a fail: ${t.advisories[0]}` : `all ${t.checkCount} checks held`, advisoriesOf(t));
}

function advisoriesOf(t: CaseContext | undefined): string | undefined {
  return t?.advisories.length ? t.advisories.join(' ') : undefined;
}

export type { Level };
