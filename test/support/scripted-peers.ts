/**
 * Minimal scripted CoAP peers for the device's own tests: a Bootstrap-Server and an
 * LwM2M Server made directly from CoapEndpoint, each recording what the device sent and
 * answering by a rule the test can change between steps. They deliberately know nothing
 * of the suite's fake servers, so the device is tested against the protocol, not them.
 */
import { randomBytes } from 'node:crypto';
import { type Address, CoapEndpoint, type InboundRequest, type InboundResponse, type OutboundRequest } from '../../harness/coap/endpoint.js';
import { type CoapMessage, type CoapOption, OPTION, queryParams, uriPath } from '../../harness/coap/message.js';
import type { TransmissionParams } from '../../harness/coap/params.js';
import type { DatagramTransport } from '../../harness/coap/transport.js';
import { Inbox } from '../../harness/coap/inbox.js';

export interface SeenRequest {
  msg: CoapMessage;
  remote: Address;
  monoNs: bigint;
  path: string;
  query: Map<string, string[]>;
}

export interface Reply {
  code: string;
  options?: CoapOption[];
  payload?: Buffer;
  contentFormat?: number;
}

/** Decides the answer to one request; null leaves it unanswered (a silent server). */
export type Answerer = (req: SeenRequest) => Reply | null;

export class ScriptedPeer {
  readonly inbox = new Inbox<SeenRequest>();

  private constructor(
    readonly endpoint: CoapEndpoint,
    public answer: Answerer,
  ) {
    endpoint.onRequest((r) => this.onRequest(r));
  }

  /** On plain UDP, or on `transport` (e.g. a DTLS server: the peer then speaks coaps://). */
  static async open(name: string, params: TransmissionParams, answer: Answerer, transport?: DatagramTransport): Promise<ScriptedPeer> {
    return new ScriptedPeer(await CoapEndpoint.open({ name, params, transport }), answer);
  }

  get uri(): string {
    return `${this.endpoint.scheme}://${this.endpoint.local.address}:${this.endpoint.local.port}`;
  }

  get local(): Address {
    return this.endpoint.local;
  }

  /** The next request (after those already taken) matching `match`, or undefined after withinMs. */
  next(match: (r: SeenRequest) => boolean, withinMs: number): Promise<SeenRequest | undefined> {
    return this.inbox.next(match, withinMs);
  }

  request(remote: Address, req: OutboundRequest): Promise<InboundResponse> {
    return this.endpoint.request(remote, req);
  }

  close(): Promise<void> {
    return this.endpoint.close();
  }

  private onRequest(r: InboundRequest): void {
    const seen: SeenRequest = { msg: r.msg, remote: r.remote, monoNs: r.monoNs, path: uriPath(r.msg), query: queryParams(r.msg) };
    const reply = this.answer(seen);
    if (reply) r.respond(reply.code, { options: reply.options, payload: reply.payload, contentFormat: reply.contentFormat });
    this.inbox.push(seen);
  }
}

export const isBootstrapRequest = (r: SeenRequest): boolean => r.msg.code === '0.02' && r.path === '/bs';
export const isRegister = (r: SeenRequest): boolean => r.msg.code === '0.02' && r.path === '/rd';
export const isUpdate = (r: SeenRequest): boolean => r.msg.code === '0.02' && r.path.startsWith('/rd/');
export const isDeregister = (r: SeenRequest): boolean => r.msg.code === '0.04' && r.path.startsWith('/rd/');

/** Accepts every Bootstrap-Request. */
export function openBootstrapServer(params: TransmissionParams, transport?: DatagramTransport): Promise<ScriptedPeer> {
  return ScriptedPeer.open('test-bootstrap-server', params, (r) => (isBootstrapRequest(r) ? { code: '2.04' } : { code: '4.04' }), transport);
}

/** Hands out a fresh two-segment location per Register and accepts Updates and De-registers to it. */
/** What the desk does with a Register or an Update: its usual answer, another code, or nothing. */
export type DeskPolicy = 'accept' | 'silent' | { code: string };

export class RegistrationDesk {
  readonly locations: string[] = [];
  registerPolicy: DeskPolicy = 'accept';
  updatePolicy: DeskPolicy = 'accept';

  readonly answer: Answerer = (r) => {
    if (isRegister(r)) {
      if (this.registerPolicy === 'silent') return null;
      if (this.registerPolicy !== 'accept') return { code: this.registerPolicy.code };
      const location = ['rd', randomBytes(2).toString('hex'), randomBytes(3).toString('hex')];
      this.locations.push('/' + location.join('/'));
      return { code: '2.01', options: location.map((s) => ({ number: OPTION.LOCATION_PATH, value: Buffer.from(s) })) };
    }
    if (isUpdate(r) || isDeregister(r)) {
      if (!this.locations.includes(r.path)) return { code: '4.04' };
      if (isDeregister(r)) return { code: '2.02' };
      if (this.updatePolicy === 'silent') return null;
      return this.updatePolicy === 'accept' ? { code: '2.04' } : { code: this.updatePolicy.code };
    }
    return { code: '4.04' };
  };
}

export async function openLwm2mServer(params: TransmissionParams, transport?: DatagramTransport): Promise<{ peer: ScriptedPeer; desk: RegistrationDesk }> {
  const desk = new RegistrationDesk();
  const peer = await ScriptedPeer.open('test-lwm2m-server', params, desk.answer, transport);
  return { peer, desk };
}

/** Milliseconds between two monotonic timestamps. */
export function elapsedMs(fromNs: bigint, toNs: bigint): number {
  return Number(toNs - fromNs) / 1e6;
}
