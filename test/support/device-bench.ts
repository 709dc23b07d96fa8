/**
 * A bench for the device's own tests: a temporary state directory, a scripted
 * Bootstrap-Server and LwM2M Server on OS-chosen ports, and the device run in-process
 * with short CoAP timers. Waits that find nothing fail with the device's log attached,
 * which is what one needs to see why.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Address } from '../../harness/coap/endpoint.js';
import { type TransmissionParams, exchangeLifetimeMs, maxTransmitWaitMs } from '../../harness/coap/params.js';
import { CF, encodeContent, parsePath, type ResourceRecord } from '../../harness/lwm2m/index.js';
import type { DefectName } from '../../fixtures/device/defects.js';
import { provisionDevice, type ProvisionedCertificate } from '../../fixtures/device/provision.js';
import { DtlsServer } from '../../harness/dtls/server.js';
import { DtlsTransport } from '../../harness/dtls/dtls-transport.js';
import type { Clock } from '../../fixtures/device/clock.js';
import { runDevice, type RunningDevice } from '../../fixtures/device/run.js';
import { type RegistrationDesk, type ScriptedPeer, type SeenRequest, isBootstrapRequest, openBootstrapServer, openLwm2mServer } from './scripted-peers.js';
import { DtlsPskPeer } from './scripted-dtls.js';

export const FAST_PARAMS: TransmissionParams = { ackTimeoutMs: 100, ackRandomFactor: 1.5, maxRetransmit: 2, nstart: 1 };
export const FAST_MAX_LATENCY_MS = 50;
/** EXCHANGE_LIFETIME of the bench's device. */
export const FAST_EXCHANGE_LIFETIME_MS = exchangeLifetimeMs(FAST_PARAMS, FAST_MAX_LATENCY_MS);
/** How long the bench's device waits for a CON to be answered before it gives up. */
export const FAST_MAX_TRANSMIT_WAIT_MS = maxTransmitWaitMs(FAST_PARAMS);
/** Generous bound for "promptly": scheduling, file writes and loopback, never a protocol timer. */
export const PROMPT_MS = 1500;

export interface AccountSpec {
  ssid?: number;
  lifetimeS: number;
  bootstrapOnFailure?: boolean;
  retryCount?: number;
  retryTimerS?: number;
  sequenceDelayS?: number;
  sequenceRetryCount?: number;
  disableTimeoutS?: number;
  securityIid?: number;
  serverIid?: number;
}

/** A PSK credential as the bench hands it out. */
export interface Psk {
  identity: string;
  key: Buffer;
}

/** A server account's Security instance: NoSec, or PSK (mode 0) when `psk` is given, with /0/x/16 if `ciphersuites` is. */
export function securityRecords(iid: number, serverUri: string, ssid: number, psk?: Psk, ciphersuites?: number[]): ResourceRecord[] {
  const p = (rid: number) => parsePath(`/0/${iid}/${rid}`);
  const records: ResourceRecord[] = [
    { path: p(0), value: serverUri },
    { path: p(1), value: false },
    { path: p(2), value: psk ? 0 : 3 },
    { path: p(3), value: psk ? Buffer.from(psk.identity, 'utf8') : Buffer.alloc(0) },
    { path: p(4), value: Buffer.alloc(0) },
    { path: p(5), value: psk ? Buffer.from(psk.key) : Buffer.alloc(0) },
    { path: p(10), value: ssid },
  ];
  ciphersuites?.forEach((suite, i) => records.push({ path: parsePath(`/0/${iid}/16/${i}`), value: suite }));
  return records;
}

/** A Security instance in Security Mode 2: the device's certificate and key, the server's certificate or trust anchor. */
export interface CertificateAccount {
  certDer: Buffer;
  keyDer: Buffer;
  serverCertDer: Buffer;
  /** /0/x/15; left out when undefined (LwM2M's default 3 applies). */
  certificateUsage?: number;
  ciphersuites?: number[];
}

export function certificateSecurityRecords(iid: number, serverUri: string, ssid: number, c: CertificateAccount): ResourceRecord[] {
  const p = (rid: number) => parsePath(`/0/${iid}/${rid}`);
  const records: ResourceRecord[] = [
    { path: p(0), value: serverUri },
    { path: p(1), value: false },
    { path: p(2), value: 2 },
    { path: p(3), value: c.certDer },
    { path: p(4), value: c.serverCertDer },
    { path: p(5), value: c.keyDer },
    { path: p(10), value: ssid },
  ];
  if (c.certificateUsage !== undefined) records.push({ path: p(15), value: c.certificateUsage });
  c.ciphersuites?.forEach((suite, i) => records.push({ path: parsePath(`/0/${iid}/16/${i}`), value: suite }));
  return records;
}

/** What a certificate-mode DTLS server presents and trusts (PEM). */
export interface ServerIdentity {
  certPem: string;
  keyPem: string;
  /** The CAs it verifies client certificates against (reported, never enforced). */
  caPem: string;
  /** Default: the LwM2M mandatory ECDHE-ECDSA-AES128-CCM8 alone. */
  cipherSuites?: string[];
}

export function serverRecords(iid: number, a: AccountSpec): ResourceRecord[] {
  const p = (rid: number) => parsePath(`/1/${iid}/${rid}`);
  const records: ResourceRecord[] = [
    { path: p(0), value: a.ssid ?? 101 },
    { path: p(1), value: a.lifetimeS },
    { path: p(6), value: false },
    { path: p(7), value: 'U' },
  ];
  const optional: [number, number | boolean | undefined][] = [
    [5, a.disableTimeoutS],
    [16, a.bootstrapOnFailure],
    [17, a.retryCount],
    [18, a.retryTimerS],
    [19, a.sequenceDelayS],
    [20, a.sequenceRetryCount],
  ];
  for (const [rid, v] of optional) if (v !== undefined) records.push({ path: p(rid), value: v });
  return records;
}

export interface BenchOptions {
  holdOffS?: number;
  defect?: DefectName;
  persistRegistration?: boolean;
  /**
   * Both scripted servers behind the scripted DTLS server (PSK, TLS_PSK_WITH_AES_128_CCM_8
   * only): the device is provisioned with `bsPsk` and bootstrapped onto `serverPsk`.
   */
  dtls?: boolean;
  dtlsHandshakeTimeoutMs?: number;
  /**
   * Both scripted servers behind the harness's OpenSSL DTLS server in certificate mode,
   * asking for the client's certificate; provision with provisionCertificate().
   */
  cert?: { bs: ServerIdentity; server: ServerIdentity };
  /** The time the device's own timers run on (a ManualClock for tests of the device's logic); real unless given. */
  clock?: Clock;
}

/**
 * Opens benches (`defaults` under each call's options) and closes every one opened during
 * a test after it, so a failed expectation never leaves a device or its servers running.
 * Call at the top level of a test file.
 */
export function benchPerTest(defaults: BenchOptions = {}): (opts?: BenchOptions) => Promise<DeviceBench> {
  const open: DeviceBench[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((b) => b.close()));
  });
  return async (opts = {}) => {
    const b = await DeviceBench.create({ ...defaults, ...opts });
    open.push(b);
    return b;
  };
}

/** The credentials a DTLS bench starts with; tests may change the bench's copies. */
export const BENCH_BS_PSK: Psk = { identity: 'bench-bs-identity', key: Buffer.from('00112233445566778899aabbccddeeff', 'hex') };
export const BENCH_SERVER_PSK: Psk = { identity: 'bench-dm-identity', key: Buffer.from('ffeeddccbbaa99887766554433221100', 'hex') };

export class DeviceBench {
  readonly endpoint = 'urn:dev:ops:bench-0001';
  readonly logs: string[] = [];
  private readonly logWaiters = new Set<() => void>();
  device: RunningDevice | undefined;
  startedNs = 0n;
  /** DTLS bench: what the Bootstrap-Server and the LwM2M Server accept (identity → key). */
  bsPsk: Psk = { ...BENCH_BS_PSK };
  serverPsk: Psk = { ...BENCH_SERVER_PSK };
  /** Where the last Bootstrap-Request came from: the device's DTLS session, on a DTLS bench. */
  private bsRequestFrom: Address | undefined;

  private constructor(
    readonly dir: string,
    readonly bs: ScriptedPeer,
    readonly server: ScriptedPeer,
    readonly desk: RegistrationDesk,
    private readonly opts: BenchOptions,
    /** The DTLS servers under bs and server (DTLS bench only). */
    readonly bsDtls?: DtlsPskPeer,
    readonly serverDtls?: DtlsPskPeer,
    /** The certificate-mode DTLS servers under bs and server (certificate bench only). */
    readonly bsCert?: DtlsTransport,
    readonly serverCert?: DtlsTransport,
  ) {}

  static async create(opts: BenchOptions = {}): Promise<DeviceBench> {
    const dir = await mkdtemp(join(tmpdir(), 'geisa-device-'));
    if (opts.cert) {
      const listen = (id: ServerIdentity, name: string) =>
        DtlsServer.listen({
          address: '127.0.0.1',
          cipherSuites: id.cipherSuites ?? ['ECDHE-ECDSA-AES128-CCM8'],
          certPem: id.certPem,
          keyPem: id.keyPem,
          caPem: id.caPem,
          requestClientCert: true,
          handshakeTimeoutMs: 5000,
        }).then((server) => DtlsTransport.over(server, name));
      const bsCert = await listen(opts.cert.bs, 'test-bootstrap-server');
      const serverCert = await listen(opts.cert.server, 'test-lwm2m-server');
      const bs = await openBootstrapServer(FAST_PARAMS, bsCert);
      const { peer, desk } = await openLwm2mServer(FAST_PARAMS, serverCert);
      return new DeviceBench(dir, bs, peer, desk, opts, undefined, undefined, bsCert, serverCert);
    }
    if (opts.dtls) {
      const holder: { bench?: DeviceBench } = {};
      const lookup = (which: 'bs' | 'server') => (identity: Buffer) => {
        const psk = which === 'bs' ? holder.bench!.bsPsk : holder.bench!.serverPsk;
        return identity.equals(Buffer.from(psk.identity, 'utf8')) ? psk.key : undefined;
      };
      const bsDtls = await DtlsPskPeer.open({ psk: lookup('bs') });
      const serverDtls = await DtlsPskPeer.open({ psk: lookup('server') });
      const bs = await openBootstrapServer(FAST_PARAMS, bsDtls);
      const { peer, desk } = await openLwm2mServer(FAST_PARAMS, serverDtls);
      holder.bench = new DeviceBench(dir, bs, peer, desk, opts, bsDtls, serverDtls);
      return holder.bench;
    }
    const bs = await openBootstrapServer(FAST_PARAMS);
    const { peer, desk } = await openLwm2mServer(FAST_PARAMS);
    return new DeviceBench(dir, bs, peer, desk, opts);
  }

  get stateFile(): string {
    return join(this.dir, 'device-state.json');
  }

  async provision(bsUri = this.bs.uri, psk: Psk | undefined = this.opts.dtls ? this.bsPsk : undefined): Promise<void> {
    await provisionDevice({
      stateFile: this.stateFile,
      bsUri,
      endpoint: this.endpoint,
      holdOffS: this.opts.holdOffS ?? 0,
      pskIdentity: psk?.identity,
      pskKeyHex: psk?.key.toString('hex'),
    });
  }

  /** Certificate-mode provisioning of the Bootstrap-Server account (the IDevID). */
  async provisionCertificate(certificate: ProvisionedCertificate, bsUri = this.bs.uri): Promise<void> {
    await provisionDevice({ stateFile: this.stateFile, bsUri, endpoint: this.endpoint, holdOffS: this.opts.holdOffS ?? 0, certificate });
  }

  async start(): Promise<RunningDevice> {
    this.startedNs = process.hrtime.bigint();
    this.device = await runDevice({
      stateFile: this.stateFile,
      coapParams: FAST_PARAMS,
      maxLatencyMs: FAST_MAX_LATENCY_MS,
      defect: this.opts.defect,
      persistRegistration: this.opts.persistRegistration,
      dtlsHandshakeTimeoutMs: this.opts.dtlsHandshakeTimeoutMs,
      clock: this.opts.clock,
      log: (line) => {
        this.logs.push(line);
        for (const w of [...this.logWaiters]) w();
        if (process.env.DEVICE_LOG) process.stderr.write(line + '\n');
      },
    });
    return this.device;
  }

  /** Power cut and power on, with the same state file. */
  async restart(): Promise<RunningDevice> {
    await this.device?.stop();
    return this.start();
  }

  /** Resolves with the first log line from `fromIndex` on matching `pattern`; fails after withinMs. */
  waitForLog(pattern: RegExp, withinMs: number, fromIndex = 0): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const line = this.logs.slice(fromIndex).find((l) => pattern.test(l));
        if (line === undefined) return;
        clearTimeout(timer);
        this.logWaiters.delete(check);
        resolve(line);
      };
      const timer = setTimeout(() => {
        this.logWaiters.delete(check);
        reject(new Error(`no device log line matching ${pattern} within ${withinMs} ms\ndevice log:\n${this.logs.join('\n')}`));
      }, withinMs);
      this.logWaiters.add(check);
      check();
    });
  }

  get deviceAddress(): Address {
    if (!this.device) throw new Error('device not started');
    return this.device.local;
  }

  /** Fails with the device log when nothing matching arrives in the window. */
  async must(peer: ScriptedPeer, match: (r: SeenRequest) => boolean, withinMs: number, what: string): Promise<SeenRequest> {
    const r = await peer.next(match, withinMs);
    if (!r) throw new Error(`${what}: nothing within ${withinMs} ms\ndevice log:\n${this.logs.join('\n')}`);
    return r;
  }

  async expectBootstrapRequest(withinMs = (this.opts.holdOffS ?? 0) * 1000 + PROMPT_MS): Promise<SeenRequest> {
    const req = await this.must(this.bs, isBootstrapRequest, withinMs, 'Bootstrap-Request');
    this.bsRequestFrom = req.remote;
    return req;
  }

  /** Where the Bootstrap-Server reaches the device: its DTLS session on a DTLS bench, else its socket. */
  get bsTarget(): Address {
    return (this.opts.dtls || this.opts.cert) && this.bsRequestFrom ? this.bsRequestFrom : this.deviceAddress;
  }

  async write(path: string, records: ResourceRecord[], format: number = CF.TLV): Promise<string> {
    const res = await this.bs.request(this.bsTarget, { method: 'PUT', path, contentFormat: format, payload: encodeContent(format, records, parsePath(path)) });
    return res.msg.code;
  }

  async finish(): Promise<string> {
    return (await this.bs.request(this.bsTarget, { method: 'POST', path: '/bs' })).msg.code;
  }

  /** Writes a Security and a Server instance for the bench's LwM2M Server, then Finish; returns each code. */
  async bootstrapOnto(account: AccountSpec, format: number = CF.TLV): Promise<string[]> {
    const secIid = account.securityIid ?? 1;
    const srvIid = account.serverIid ?? 0;
    const ssid = account.ssid ?? 101;
    return [
      await this.write(`/0/${secIid}`, securityRecords(secIid, this.server.uri, ssid, this.opts.dtls ? this.serverPsk : undefined), format),
      await this.write(`/1/${srvIid}`, serverRecords(srvIid, { ...account, ssid }), format),
      await this.finish(),
    ];
  }

  /** Provision, start, and see the first Bootstrap-Request. */
  async provisionAndStart(): Promise<SeenRequest> {
    await this.provision();
    await this.start();
    return this.expectBootstrapRequest();
  }

  async close(): Promise<void> {
    await this.device?.stop();
    await Promise.all([this.bs.close(), this.server.close()]);
    await rm(this.dir, { recursive: true, force: true });
  }
}
