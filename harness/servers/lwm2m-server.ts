/**
 * The fake LwM2M Server (the EMS/DM side): the registration interface (Register on /rd,
 * Update and De-register on the location it hands out) with a per-case answer policy,
 * and the device-management operations a case needs (Read /3/0, Write, Execute).
 * Retransmitted Registers are answered from the CoAP deduplication cache, so one Register
 * never creates two registrations.
 */
import { randomBytes } from 'node:crypto';
import type { CoapEndpoint, InboundRequest } from '../coap/endpoint.js';
import { OPTION, queryParams, uriPath } from '../coap/message.js';
import { answer, type DeviceRequest, formatHostForUri, openServerEndpoint, type ServerOptions } from './bootstrap-server.js';
import type { DtlsTransport } from '../dtls/dtls-transport.js';
import type { ServerSecurity } from './security.js';
import { Inbox } from '../coap/inbox.js';
import { DeviceOperations, type OperationNote } from './operations.js';
import { ACCEPT, type AnswerPolicy } from './policy.js';

export type RegistrationKind = 'register' | 'update' | 'deregister' | 'other';

export interface RegistrationMessage extends DeviceRequest {
  kind: RegistrationKind;
  /** For a Register the location handed out (if accepted); for Update/De-register the location targeted. */
  location: string;
  /** Update/De-register: whether the location is one this server handed out. */
  knownLocation: boolean;
}

export class Lwm2mServer extends DeviceOperations {
  readonly messages = new Inbox<RegistrationMessage>();
  registerPolicy: AnswerPolicy = ACCEPT;
  updatePolicy: AnswerPolicy = ACCEPT;
  /** Locations handed out, newest last. */
  readonly locations: string[] = [];

  private constructor(
    endpoint: CoapEndpoint,
    private readonly advertiseHost: string,
    readonly dtls: DtlsTransport | undefined,
    readonly security: ServerSecurity | undefined,
    note: OperationNote | undefined,
  ) {
    super(endpoint, 'DM', note);
    endpoint.onRequest((r) => this.onRequest(r));
  }

  static async open(opts: ServerOptions): Promise<Lwm2mServer> {
    const { endpoint, dtls } = await openServerEndpoint('lwm2m-server', opts);
    return new Lwm2mServer(endpoint, opts.advertiseHost, dtls, opts.security, opts.note);
  }

  get uri(): string {
    return `${this.endpoint.scheme}://${formatHostForUri(this.advertiseHost)}:${this.endpoint.local.port}`;
  }

  expect(kind: RegistrationKind | RegistrationKind[], withinMs: number, signal?: AbortSignal): Promise<RegistrationMessage | undefined> {
    const kinds = Array.isArray(kind) ? kind : [kind];
    return this.messages.next((m) => kinds.includes(m.kind), withinMs, signal);
  }

  expectRegister(withinMs: number, signal?: AbortSignal): Promise<RegistrationMessage | undefined> {
    return this.expect('register', withinMs, signal);
  }

  expectUpdate(withinMs: number, signal?: AbortSignal): Promise<RegistrationMessage | undefined> {
    return this.expect('update', withinMs, signal);
  }

  close(): Promise<void> {
    return this.endpoint.close();
  }

  private onRequest(r: InboundRequest): void {
    const path = uriPath(r.msg);
    const base = { msg: r.msg, remote: r.remote, monoNs: r.monoNs, path, query: queryParams(r.msg), answeredWith: null };
    if (r.msg.code === '0.02' && path === '/rd') {
      // Random multi-segment location: a device must use exactly what it is given (LwM2M Transport §6.4.3).
      const location = `/rd/${randomBytes(2).toString('hex')}/${randomBytes(3).toString('hex')}`;
      const seen: RegistrationMessage = { ...base, kind: 'register', location, knownLocation: true };
      const options = location
        .split('/')
        .filter(Boolean)
        .map((s) => ({ number: OPTION.LOCATION_PATH, value: Buffer.from(s) }));
      answer(r, seen, this.registerPolicy, '2.01', { options });
      if (seen.answeredWith === '2.01') this.locations.push(location);
      this.messages.push(seen);
      return;
    }
    const known = this.locations.includes(path);
    if (r.msg.code === '0.02' && path.startsWith('/rd/')) {
      const seen: RegistrationMessage = { ...base, kind: 'update', location: path, knownLocation: known };
      if (known) answer(r, seen, this.updatePolicy, '2.04');
      else {
        seen.answeredWith = '4.04';
        r.respond('4.04');
      }
      this.messages.push(seen);
      return;
    }
    if (r.msg.code === '0.04' && path.startsWith('/rd/')) {
      const seen: RegistrationMessage = { ...base, kind: 'deregister', location: path, knownLocation: known };
      seen.answeredWith = known ? '2.02' : '4.04';
      r.respond(seen.answeredWith);
      if (known) this.locations.splice(this.locations.indexOf(path), 1);
      this.messages.push(seen);
      return;
    }
    const seen: RegistrationMessage = { ...base, kind: 'other', location: path, knownLocation: false, answeredWith: '4.04' };
    r.respond('4.04');
    this.messages.push(seen);
  }
}
