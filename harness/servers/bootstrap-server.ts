/**
 * The fake LwM2M Bootstrap-Server. It answers the device's Bootstrap-Request according
 * to the case's policy and then lets the case drive the bootstrap operations one by one
 * (Discover, Delete, Write, Read, Finish), each response available to the case.
 */
import { type Address, CoapEndpoint, type DatagramTap, type InboundRequest } from '../coap/endpoint.js';
import { type CoapMessage, queryParams, uriPath } from '../coap/message.js';
import type { TransmissionParams } from '../coap/params.js';
import { Inbox } from './inbox.js';
import { DeviceOperations, type OperationResult } from './operations.js';
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
}

/** Opens the endpoint of a fake server, over DTLS when its security says so. */
export async function openServerEndpoint(name: string, opts: ServerOptions): Promise<{ endpoint: CoapEndpoint; dtls: DtlsTransport | undefined }> {
  const dtls = await secureTransport(opts.security, opts.listenAddress, opts.port, name, opts.tap);
  const endpoint = await CoapEndpoint.open({ name, address: opts.listenAddress, port: opts.port, params: opts.params, tap: opts.tap, ...(dtls ? { transport: dtls } : {}) });
  return { endpoint, dtls };
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

export function formatHostForUri(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export class BootstrapServer extends DeviceOperations {
  /** Bootstrap-Requests (POST /bs) from the device, in arrival order. */
  readonly bootstrapRequests = new Inbox<DeviceRequest>();
  /** Anything else the device sent here (a misdirected Register, say). */
  readonly otherRequests = new Inbox<DeviceRequest>();
  bootstrapRequestPolicy: AnswerPolicy = ACCEPT;

  private constructor(
    endpoint: CoapEndpoint,
    private readonly advertiseHost: string,
    /** The DTLS layer when this server is coaps://: its handshakes are evidence. */
    readonly dtls: DtlsTransport | undefined,
    readonly security: ServerSecurity | undefined,
  ) {
    super(endpoint, 'Bootstrap');
    endpoint.onRequest((r) => this.onRequest(r));
  }

  static async open(opts: ServerOptions, name = 'bootstrap-server'): Promise<BootstrapServer> {
    const { endpoint, dtls } = await openServerEndpoint(name, opts);
    return new BootstrapServer(endpoint, opts.advertiseHost, dtls, opts.security);
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

  /** Bootstrap-Finish: CON POST /bs from the Bootstrap-Server (LwM2M Core §6.1.7.7). */
  async finish(peer: Address): Promise<OperationResult> {
    const response = await this.endpoint.request(peer, { method: 'POST', path: '/bs' });
    return { what: 'Bootstrap-Finish', response, code: response.msg.code };
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
    seen.answeredWith = '4.04';
    r.respond('4.04');
    this.otherRequests.push(seen);
  }
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
