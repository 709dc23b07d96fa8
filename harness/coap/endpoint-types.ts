/**
 * What a CoAP endpoint (endpoint.ts) is opened with, what it sends and hands over, and
 * how an exchange can end badly. Kept apart from the message layer itself so the servers,
 * the device and the cases can name these without the endpoint's internals.
 */
import type { CoapMessage, CoapOption } from './message.js';
import type { TransmissionParams } from './params.js';
import type { Address, DatagramTransport } from './transport.js';

export interface RawDatagram {
  direction: 'in' | 'out';
  /** 'coap' unless said otherwise; a DTLS transport taps its records as 'dtls'. */
  layer?: 'coap' | 'dtls';
  endpoint: string;
  local: Address;
  remote: Address;
  monoNs: bigint;
  bytes: Buffer;
}

export type DatagramTap = (d: RawDatagram) => void;

export interface EndpointOptions {
  /** Names the endpoint in the trace: 'bootstrap-server', 'lwm2m-server', 'device'. */
  name: string;
  /** Plain UDP on address:port unless a transport (e.g. DTLS) is given. */
  transport?: DatagramTransport;
  address?: string;
  port?: number;
  params?: TransmissionParams;
  tap?: DatagramTap;
  random?: () => number;
  /** How long a received CON is remembered for deduplication (default EXCHANGE_LIFETIME). */
  dedupLifetimeMs?: number;
  /** Deduplication entries kept, all peers together (default DEDUP_MAX_ENTRIES). */
  dedupMaxEntries?: number;
  /** Overrides MID allocation (the reference device's defects use it). */
  nextMid?: () => number;
  /** Overrides the retransmission schedule (the reference device's defects use it). */
  retransmitTimeoutsMs?: () => number[];
}

export interface OutboundRequest {
  /** 'GET' | 'POST' | 'PUT' | 'DELETE' or a dotted code. */
  method: string;
  path?: string;
  query?: string[];
  contentFormat?: number;
  accept?: number;
  options?: CoapOption[];
  payload?: Buffer;
  confirmable?: boolean;
}

export interface InboundResponse {
  msg: CoapMessage;
  remote: Address;
  monoNs: bigint;
  /** The request as sent (first transmission). */
  request: CoapMessage;
  sentMonoNs: bigint;
  separate: boolean;
  transmissions: number;
}

export interface ResponseOptions {
  contentFormat?: number;
  options?: CoapOption[];
  payload?: Buffer;
}

export interface InboundRequest {
  msg: CoapMessage;
  remote: Address;
  monoNs: bigint;
  /** Piggybacked on the ACK if not acknowledged yet; otherwise a separate CON response. */
  respond(code: string, opts?: ResponseOptions): void;
  /** Empty ACK now; the response follows later as a separate message. */
  acknowledge(): void;
  readonly answered: boolean;
}

export class CoapTimeoutError extends Error {
  constructor(
    readonly request: CoapMessage,
    readonly transmissions: number,
    readonly waitedMs: number,
  ) {
    super(`no response to ${request.type} mid=${request.mid} after ${transmissions} transmission(s) and ${Math.round(waitedMs)} ms`);
    this.name = 'CoapTimeoutError';
  }
}

export class CoapResetError extends Error {
  constructor(readonly request: CoapMessage) {
    super(`peer answered mid=${request.mid} with RST`);
    this.name = 'CoapResetError';
  }
}

export class EndpointClosedError extends Error {
  constructor(name: string) {
    super(`CoAP endpoint '${name}' was closed`);
    this.name = 'EndpointClosedError';
  }
}
