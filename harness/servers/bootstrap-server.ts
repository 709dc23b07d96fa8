/**
 * The fake LwM2M Bootstrap-Server. It answers the device's Bootstrap-Request according
 * to the case's policy and then lets the case drive the bootstrap operations one by one
 * (Discover, Delete, Write, Read, Finish), each response available to the case. A case
 * may also arm a Bootstrap-Pack (LwM2M 1.2), served to `GET /bspack` in one response or
 * block-wise (RFC 7959 Block2); unarmed, a Bootstrap-Pack-Request is answered 4.04.
 */
import { type Address, CoapEndpoint, type DatagramTap, type InboundRequest } from '../coap/endpoint.js';
import { type CoapMessage, type CoapOption, OPTION, encodeUint, queryParams, uintOption, uriPath } from '../coap/message.js';
import { CF, ROOT_PATH, contentFormatName, encodeContent, type ResourceRecord } from '../lwm2m/index.js';
import type { TransmissionParams } from '../coap/params.js';
import { Inbox } from '../coap/inbox.js';
import { DeviceOperations, type OperationNote, type OperationResult } from './operations.js';
import { ACCEPT, type AnswerPolicy } from './policy.js';
import type { DtlsTransport } from '../dtls/dtls-transport.js';
import { type ServerSecurity, secureTransport } from './security.js';

export interface ServerOptions {
  listenAddress: string;
  /** Host the device is told to contact (differs from listenAddress when listening on 0.0.0.0). */
  advertiseHost: string;
  port: number;
  params: TransmissionParams;
  tap?: DatagramTap;
  /** Plain CoAP unless DTLS-PSK is asked for. */
  security?: ServerSecurity;
  /** Where each operation the server runs on the device is noted (the case's evidence). */
  note?: OperationNote;
}

/** Opens the endpoint of a fake server, over DTLS when its security says so. */
export async function openServerEndpoint(name: string, opts: ServerOptions): Promise<{ endpoint: CoapEndpoint; dtls: DtlsTransport | undefined }> {
  const dtls = await secureTransport(opts.security, opts.listenAddress, opts.port, name, opts.tap);
  const endpoint = await CoapEndpoint.open({ name, address: opts.listenAddress, port: opts.port, params: opts.params, tap: opts.tap, ...(dtls ? { transport: dtls } : {}) });
  return { endpoint, dtls };
}

/** A service sharing a fake server's endpoint (the EST resources): it answers what it claims. */
export interface MountedService {
  /** Answers `r` and returns true when the request is for it; false leaves it to the server. */
  handle(r: InboundRequest): boolean;
}

/** A request the device sent to a fake server, as received. */
export interface DeviceRequest {
  msg: CoapMessage;
  remote: Address;
  monoNs: bigint;
  path: string;
  query: Map<string, string[]>;
  /** The code the fake server answered with, or null if it stayed silent. */
  answeredWith: string | null;
}

/** A Bootstrap-Pack-Request (GET /bspack) as received, with what the server served. */
export interface BootstrapPackRequest extends DeviceRequest {
  /** The Accept option of the request, if any. */
  accept: number | undefined;
  /** The Block2 option of the request: the block asked for and its size (RFC 7959 §2.2). */
  block2: { num: number; size: number } | undefined;
  /** What was served: the pack's format, its whole size, and the block sent (absent when refused). */
  served?: { contentFormat: number; totalBytes: number; offset: number; bytes: number; more: boolean };
}

/**
 * The pack's format when the request has no Accept: SenML CBOR, the compact one of the
 * two formats a pack comes in, and the one LwM2M 1.2 clients ask for in practice.
 */
export const DEFAULT_PACK_FORMAT = CF.SENML_CBOR;
const PACK_FORMATS: readonly number[] = [CF.SENML_CBOR, CF.SENML_JSON];
/** Block size when the request asks for none (RFC 7959 SZX 6; a device may ask for less). */
export const DEFAULT_PACK_BLOCK_SIZE = 1024;

export function formatHostForUri(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export class BootstrapServer extends DeviceOperations {
  /** Bootstrap-Requests (POST /bs) from the device, in arrival order. */
  readonly bootstrapRequests = new Inbox<DeviceRequest>();
  /** Bootstrap-Pack-Requests (GET /bspack), every block of them, in arrival order; armed or not. */
  readonly bootstrapPackRequests = new Inbox<BootstrapPackRequest>();
  /** Anything else the device sent here (a misdirected Register, say). */
  readonly otherRequests = new Inbox<DeviceRequest>();
  bootstrapRequestPolicy: AnswerPolicy = ACCEPT;
  /** The armed pack: its records, and each format encoded once so every block comes from the same bytes. */
  private pack: { records: ResourceRecord[]; encoded: Map<number, Buffer>; blockSize: number } | undefined;
  /** EST resources served on this endpoint (Certificate mode with EST), when a case mounts them. */
  private est: MountedService | undefined;

  private constructor(
    endpoint: CoapEndpoint,
    private readonly advertiseHost: string,
    /** The DTLS layer when this server is coaps://: its handshakes are evidence. */
    readonly dtls: DtlsTransport | undefined,
    readonly security: ServerSecurity | undefined,
    note: OperationNote | undefined,
  ) {
    super(endpoint, 'Bootstrap', note);
    endpoint.onRequest((r) => this.onRequest(r));
  }

  static async open(opts: ServerOptions, name = 'bootstrap-server'): Promise<BootstrapServer> {
    const { endpoint, dtls } = await openServerEndpoint(name, opts);
    return new BootstrapServer(endpoint, opts.advertiseHost, dtls, opts.security, opts.note);
  }

  get uri(): string {
    return `${this.endpoint.scheme}://${formatHostForUri(this.advertiseHost)}:${this.endpoint.local.port}`;
  }

  get host(): string {
    return this.advertiseHost;
  }

  get port(): number {
    return this.endpoint.local.port;
  }

  /** Waits for the next Bootstrap-Request; undefined when none arrived within the window. */
  expectBootstrapRequest(withinMs: number, signal?: AbortSignal): Promise<DeviceRequest | undefined> {
    return this.bootstrapRequests.next(() => true, withinMs, signal);
  }

  /**
   * Serves `records` (absolute paths, /0 and /1 instances) as the Bootstrap-Pack to every
   * later GET /bspack, in SenML CBOR or SenML JSON as the request's Accept asks.
   * `blockSize`: the largest block sent when the request asks for none or a larger one.
   */
  armBootstrapPack(records: ResourceRecord[], opts: { blockSize?: number } = {}): void {
    const blockSize = opts.blockSize ?? DEFAULT_PACK_BLOCK_SIZE;
    if (![16, 32, 64, 128, 256, 512, 1024].includes(blockSize)) throw new Error(`pack block size ${blockSize} is not a power of two from 16 to 1024 (RFC 7959)`);
    const encoded = new Map(PACK_FORMATS.map((cf) => [cf, encodeContent(cf, records, ROOT_PATH)]));
    this.pack = { records, encoded, blockSize };
  }

  /**
   * Serves `service` (the EST-coaps resources) on this endpoint besides the bootstrap
   * interface: what LwM2M Transport §5.2.4 describes, certificates provisioned "from the
   * LwM2M Bootstrap-Server". Requests it does not claim are answered as before.
   */
  mountEst(service: MountedService): void {
    this.est = service;
  }

  disarmBootstrapPack(): void {
    this.pack = undefined;
  }

  /** The pack as it is served in `cf` (for evidence: its size), if armed. */
  packBytes(cf: number = DEFAULT_PACK_FORMAT): Buffer | undefined {
    return this.pack?.encoded.get(cf);
  }

  /** Waits for the next Bootstrap-Pack-Request that starts a transfer (no Block2, or block 0). */
  expectBootstrapPackRequest(withinMs: number, signal?: AbortSignal): Promise<BootstrapPackRequest | undefined> {
    return this.bootstrapPackRequests.next((r) => (r.block2?.num ?? 0) === 0, withinMs, signal);
  }

  /** Bootstrap-Finish: CON POST /bs from the Bootstrap-Server (LwM2M Core §6.1.7.7). */
  async finish(peer: Address): Promise<OperationResult> {
    const response = await this.endpoint.request(peer, { method: 'POST', path: '/bs' });
    return this.noted({ what: 'Bootstrap-Finish', response, code: response.msg.code });
  }

  close(): Promise<void> {
    return this.endpoint.close();
  }

  private onRequest(r: InboundRequest): void {
    const path = uriPath(r.msg);
    const seen: DeviceRequest = { msg: r.msg, remote: r.remote, monoNs: r.monoNs, path, query: queryParams(r.msg), answeredWith: null };
    if (r.msg.code === '0.02' && path === '/bs') {
      answer(r, seen, this.bootstrapRequestPolicy, '2.04');
      this.bootstrapRequests.push(seen);
      return;
    }
    if (r.msg.code === '0.01' && path === '/bspack') {
      this.bootstrapPackRequests.push(this.servePack(r, seen));
      return;
    }
    if (this.est?.handle(r)) return;
    seen.answeredWith = '4.04';
    r.respond('4.04');
    this.otherRequests.push(seen);
  }

  /** LwM2M 1.2 Bootstrap-Pack-Request: the armed pack in the accepted format, block-wise when larger than a block. */
  private servePack(r: InboundRequest, seen: DeviceRequest): BootstrapPackRequest {
    const accept = uintOption(r.msg, OPTION.ACCEPT);
    const rawBlock = uintOption(r.msg, OPTION.BLOCK2);
    const szx = rawBlock === undefined ? undefined : rawBlock & 7;
    const block2 = rawBlock === undefined ? undefined : { num: rawBlock >> 4, size: szx === 7 ? 0 : 2 ** (szx! + 4) };
    const req: BootstrapPackRequest = { ...seen, accept, block2 };
    const refuse = (code: string) => {
      req.answeredWith = code;
      r.respond(code);
      return req;
    };
    if (!this.pack) return refuse('4.04');
    if (szx === 7) return refuse('4.00');
    const cf = accept ?? DEFAULT_PACK_FORMAT;
    const payload = this.pack.encoded.get(cf);
    // RFC 7252 §5.10.4: a representation in the accepted format cannot be produced.
    if (!payload) return refuse('4.06');
    const size = Math.min(block2?.size ?? this.pack.blockSize, this.pack.blockSize);
    if (!block2 && payload.length <= size) {
      req.served = { contentFormat: cf, totalBytes: payload.length, offset: 0, bytes: payload.length, more: false };
      req.answeredWith = '2.05';
      r.respond('2.05', { contentFormat: cf, payload });
      return req;
    }
    const num = block2 ? (block2.num * block2.size) / size : 0;
    const offset = num * size;
    // RFC 7959 §2.2: a block beyond the end of the representation.
    if (offset >= payload.length) return refuse('4.02');
    const chunk = payload.subarray(offset, offset + size);
    const more = offset + chunk.length < payload.length;
    const options: CoapOption[] = [{ number: OPTION.BLOCK2, value: encodeUint((num << 4) | (more ? 8 : 0) | (Math.log2(size) - 4)) }];
    // RFC 7959 §4: Size2 tells the client the whole size with the first block.
    if (num === 0) options.push({ number: OPTION.SIZE2, value: encodeUint(payload.length) });
    req.served = { contentFormat: cf, totalBytes: payload.length, offset, bytes: chunk.length, more };
    req.answeredWith = '2.05';
    r.respond('2.05', { contentFormat: cf, payload: chunk, options });
    return req;
  }
}

/** "GET /bspack (Accept 112 (application/senml+cbor), Block2 1/128)" for a report. */
export function describePackRequest(p: BootstrapPackRequest): string {
  const parts = [p.accept === undefined ? 'no Accept' : `Accept ${contentFormatName(p.accept)}`];
  if (p.block2) parts.push(`Block2 ${p.block2.num}/${p.block2.size}`);
  return parts.join(', ');
}

/** Applies an answer policy to one request; `okCode` is what "accept" means for it. */
export function answer(r: InboundRequest, seen: DeviceRequest, policy: AnswerPolicy, okCode: string, okOptions?: Parameters<InboundRequest['respond']>[1]): void {
  switch (policy.kind) {
    case 'accept':
      seen.answeredWith = okCode;
      r.respond(okCode, okOptions);
      return;
    case 'reject':
      seen.answeredWith = policy.code;
      r.respond(policy.code);
      return;
    case 'silent':
      return;
    case 'delay':
      seen.answeredWith = okCode;
      setTimeout(() => r.respond(okCode, okOptions), policy.delayMs).unref();
      return;
  }
}
