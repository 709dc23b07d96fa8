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
import { provisionDevice } from '../../fixtures/device/provision.js';
import { runDevice, type RunningDevice } from '../../fixtures/device/run.js';
import { type RegistrationDesk, type ScriptedPeer, type SeenRequest, isBootstrapRequest, openBootstrapServer, openLwm2mServer } from './scripted-peers.js';

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

export function securityRecords(iid: number, serverUri: string, ssid: number): ResourceRecord[] {
  const p = (rid: number) => parsePath(`/0/${iid}/${rid}`);
  return [
    { path: p(0), value: serverUri },
    { path: p(1), value: false },
    { path: p(2), value: 3 },
    { path: p(3), value: Buffer.alloc(0) },
    { path: p(4), value: Buffer.alloc(0) },
    { path: p(5), value: Buffer.alloc(0) },
    { path: p(10), value: ssid },
  ];
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
}

export class DeviceBench {
  readonly endpoint = 'urn:dev:ops:bench-0001';
  readonly logs: string[] = [];
  private readonly logWaiters = new Set<() => void>();
  device: RunningDevice | undefined;
  startedNs = 0n;

  private constructor(
    readonly dir: string,
    readonly bs: ScriptedPeer,
    readonly server: ScriptedPeer,
    readonly desk: RegistrationDesk,
    private readonly opts: BenchOptions,
  ) {}

  static async create(opts: BenchOptions = {}): Promise<DeviceBench> {
    const dir = await mkdtemp(join(tmpdir(), 'geisa-device-'));
    const bs = await openBootstrapServer(FAST_PARAMS);
    const { peer, desk } = await openLwm2mServer(FAST_PARAMS);
    return new DeviceBench(dir, bs, peer, desk, opts);
  }

  get stateFile(): string {
    return join(this.dir, 'device-state.json');
  }

  async provision(): Promise<void> {
    await provisionDevice({ stateFile: this.stateFile, bsUri: this.bs.uri, endpoint: this.endpoint, holdOffS: this.opts.holdOffS ?? 0 });
  }

  async start(): Promise<RunningDevice> {
    this.startedNs = process.hrtime.bigint();
    this.device = await runDevice({
      stateFile: this.stateFile,
      coapParams: FAST_PARAMS,
      maxLatencyMs: FAST_MAX_LATENCY_MS,
      defect: this.opts.defect,
      persistRegistration: this.opts.persistRegistration,
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

  expectBootstrapRequest(withinMs = (this.opts.holdOffS ?? 0) * 1000 + PROMPT_MS): Promise<SeenRequest> {
    return this.must(this.bs, isBootstrapRequest, withinMs, 'Bootstrap-Request');
  }

  async write(path: string, records: ResourceRecord[], format: number = CF.TLV): Promise<string> {
    const res = await this.bs.request(this.deviceAddress, { method: 'PUT', path, contentFormat: format, payload: encodeContent(format, records, parsePath(path)) });
    return res.msg.code;
  }

  async finish(): Promise<string> {
    return (await this.bs.request(this.deviceAddress, { method: 'POST', path: '/bs' })).msg.code;
  }

  /** Writes a Security and a Server instance for the bench's LwM2M Server, then Finish; returns each code. */
  async bootstrapOnto(account: AccountSpec, format: number = CF.TLV): Promise<string[]> {
    const secIid = account.securityIid ?? 1;
    const srvIid = account.serverIid ?? 0;
    const ssid = account.ssid ?? 101;
    return [
      await this.write(`/0/${secIid}`, securityRecords(secIid, this.server.uri, ssid), format),
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
