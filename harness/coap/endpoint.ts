/**
 * One CoAP endpoint on one transport (a UDP socket, or DTLS sessions on one): the
 * harness's Bootstrap-Server and LwM2M Server each own one, and so does the reference
 * device. It does message-layer reliability (RFC 7252 §4): CON retransmission, ACK/RST
 * matching by MID, separate responses matched by token, and deduplication of incoming
 * CONs answered from a cache. Every datagram, timestamped by the transport as it arrives,
 * goes to the tap (the wire recorder) before anything else looks at it.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { type CoapMessage, type CoapOption, CoapFormatError, METHOD_CODES, OPTION, decodeCoap, encodeCoap, encodeUint, isRequestCode, pathOptions, queryOptions } from './message.js';
import { type TransmissionParams, RFC7252_DEFAULTS, exchangeLifetimeMs, retransmitTimeoutsMs } from './params.js';
import { type Address, type DatagramTransport, type TransportMessage, UdpTransport } from './transport.js';
import { CoapResetError, CoapTimeoutError, EndpointClosedError, type EndpointOptions, type InboundRequest, type InboundResponse, type OutboundRequest, type ResponseOptions } from './endpoint-types.js';

export type { Address } from './transport.js';
export { CoapResetError, CoapTimeoutError, EndpointClosedError, type DatagramTap, type EndpointOptions, type InboundRequest, type InboundResponse, type OutboundRequest, type RawDatagram, type ResponseOptions } from './endpoint-types.js';

interface PendingExchange {
  request: CoapMessage;
  remote: Address;
  sentMonoNs: bigint;
  transmissions: number;
  acked: boolean;
  timer: NodeJS.Timeout | undefined;
  resolve: (r: InboundResponse) => void;
  reject: (e: Error) => void;
}

interface DedupEntry {
  reply: Buffer | null; // null while the request is still being handled
  expires: number;
}

/** An outgoing CON (a separate response of ours) waiting for its ACK. */
interface ReliableSend {
  timer: NodeJS.Timeout | undefined;
}

/**
 * Received CONs remembered for deduplication per endpoint, all peers together. A device
 * under test sends a few per EXCHANGE_LIFETIME; only a flood comes near it.
 */
export const DEDUP_MAX_ENTRIES = 4096;

const key = (a: Address) => `${a.address}|${a.port}`;

/** An Empty message (code 0.00, no token): an ACK that defers the response, or an RST (RFC 7252 §4.1). */
const emptyMessage = (type: 'ACK' | 'RST', mid: number): Buffer => encodeCoap({ type, code: '0.00', mid, token: Buffer.alloc(0), options: [], payload: Buffer.alloc(0) });

export class CoapEndpoint extends EventEmitter {
  private readonly params: TransmissionParams;
  private readonly random: () => number;
  private mid: number;
  private readonly pendingByMid = new Map<string, PendingExchange>();
  private readonly pendingByToken = new Map<string, PendingExchange>();
  private readonly dedup = new Map<string, DedupEntry>();
  private readonly reliableSends = new Map<string, ReliableSend>();
  private requestHandler: ((r: InboundRequest) => void) | undefined;
  private closed = false;

  private constructor(
    readonly opts: EndpointOptions,
    private readonly transport: DatagramTransport,
  ) {
    super();
    this.params = opts.params ?? RFC7252_DEFAULTS;
    this.random = opts.random ?? Math.random;
    this.mid = Math.floor(this.random() * 0x10000);
    transport.on('message', (m: TransportMessage) => this.onDatagram(m.bytes, m.remote, m.monoNs));
    // A socket error (e.g. ICMP unreachable surfaced by the OS) must not kill the run.
    transport.on('error', (err: Error) => this.emit('socket-error', err));
  }

  static async open(opts: EndpointOptions): Promise<CoapEndpoint> {
    let transport = opts.transport;
    if (!transport) {
      try {
        transport = await UdpTransport.open(opts.address ?? '127.0.0.1', opts.port ?? 0);
      } catch (e) {
        throw new Error(`${opts.name}: ${(e as Error).message}`);
      }
    }
    return new CoapEndpoint(opts, transport);
  }

  get name(): string {
    return this.opts.name;
  }

  get local(): Address {
    return this.transport.local;
  }

  get scheme(): 'coap' | 'coaps' {
    return this.transport.scheme;
  }

  get transmissionParams(): TransmissionParams {
    return this.params;
  }

  onRequest(handler: (r: InboundRequest) => void): void {
    this.requestHandler = handler;
  }

  nextMid(): number {
    if (this.opts.nextMid) return this.opts.nextMid() & 0xffff;
    this.mid = (this.mid + 1) & 0xffff;
    return this.mid;
  }

  newToken(): Buffer {
    return randomBytes(4);
  }

  /** Sends a request and resolves with its response (piggybacked or separate). */
  request(remote: Address, req: OutboundRequest, opts: { separateResponseTimeoutMs?: number } = {}): Promise<InboundResponse> {
    if (this.closed) return Promise.reject(new EndpointClosedError(this.name));
    const code = METHOD_CODES[req.method.toUpperCase()] ?? req.method;
    const options: CoapOption[] = [...pathOptions(req.path ?? '/'), ...queryOptions(req.query ?? []), ...(req.options ?? [])];
    if (req.contentFormat !== undefined) options.push({ number: OPTION.CONTENT_FORMAT, value: encodeUint(req.contentFormat) });
    if (req.accept !== undefined) options.push({ number: OPTION.ACCEPT, value: encodeUint(req.accept) });
    const msg: CoapMessage = {
      type: req.confirmable === false ? 'NON' : 'CON',
      code,
      mid: this.nextMid(),
      token: this.newToken(),
      options,
      payload: req.payload ?? Buffer.alloc(0),
    };
    const bytes = encodeCoap(msg);
    const separateTimeout = opts.separateResponseTimeoutMs ?? exchangeLifetimeMs(this.params);
    return new Promise<InboundResponse>((resolve, reject) => {
      const ex: PendingExchange = {
        request: msg,
        remote,
        sentMonoNs: 0n,
        transmissions: 0,
        acked: false,
        timer: undefined,
        resolve: (r) => {
          this.forget(ex);
          resolve(r);
        },
        reject: (e) => {
          this.forget(ex);
          reject(e);
        },
      };
      this.pendingByMid.set(`${key(remote)}|${msg.mid}`, ex);
      this.pendingByToken.set(`${key(remote)}|${msg.token.toString('hex')}`, ex);
      ex.sentMonoNs = this.transmit(bytes, remote);
      ex.transmissions = 1;
      if (msg.type === 'NON') {
        ex.timer = setTimeout(() => ex.reject(new CoapTimeoutError(msg, 1, separateTimeout)), separateTimeout);
        return;
      }
      const schedule = this.opts.retransmitTimeoutsMs?.() ?? retransmitTimeoutsMs(this.params, this.random);
      let waited = 0;
      const arm = (i: number) => {
        const t = schedule[i];
        if (t === undefined) return;
        ex.timer = setTimeout(() => {
          waited += t;
          if (ex.acked) return;
          if (i + 1 >= schedule.length) {
            ex.reject(new CoapTimeoutError(msg, ex.transmissions, waited));
            return;
          }
          this.transmit(bytes, remote);
          ex.transmissions += 1;
          arm(i + 1);
        }, t);
      };
      arm(0);
      (ex as PendingExchange & { separateTimeout: number }).separateTimeout = separateTimeout;
    });
  }

  /** Sends bytes as they are: for tests and for cases that must send what a normal stack would not. */
  sendRaw(bytes: Buffer, remote: Address): bigint {
    return this.transmit(bytes, remote);
  }

  /**
   * Sends a CON we already sent once again, byte for byte (same MID and token), as the
   * retransmission after a lost ACK would be (RFC 7252 §4.5 deduplication); resolves with
   * the peer's first ACK or RST carrying that MID within waitMs, or undefined.
   */
  resendDuplicate(remote: Address, request: CoapMessage, waitMs: number): Promise<{ msg: CoapMessage; monoNs: bigint; sentMonoNs: bigint } | undefined> {
    return new Promise((resolve) => {
      let sentMonoNs = 0n;
      const onMessage = (m: { msg: CoapMessage; remote: Address; monoNs: bigint }) => {
        if (key(m.remote) !== key(remote) || m.msg.mid !== request.mid || (m.msg.type !== 'ACK' && m.msg.type !== 'RST')) return;
        done({ msg: m.msg, monoNs: m.monoNs, sentMonoNs });
      };
      const done = (v: { msg: CoapMessage; monoNs: bigint; sentMonoNs: bigint } | undefined) => {
        clearTimeout(timer);
        this.off('message', onMessage);
        resolve(v);
      };
      const timer = setTimeout(() => done(undefined), waitMs);
      this.on('message', onMessage);
      sentMonoNs = this.transmit(encodeCoap(request), remote);
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    const err = new EndpointClosedError(this.name);
    for (const ex of new Set([...this.pendingByMid.values(), ...this.pendingByToken.values()])) ex.reject(err);
    for (const s of this.reliableSends.values()) clearTimeout(s.timer);
    this.reliableSends.clear();
    this.dedup.clear();
    return this.transport.close();
  }

  // ---- internals ----------------------------------------------------------------------

  private transmit(bytes: Buffer, remote: Address): bigint {
    const monoNs = process.hrtime.bigint();
    if (this.closed) return monoNs;
    this.opts.tap?.({ direction: 'out', endpoint: this.name, local: this.local, remote, monoNs, bytes });
    this.transport.send(bytes, remote);
    return monoNs;
  }

  private forget(ex: PendingExchange): void {
    clearTimeout(ex.timer);
    this.pendingByMid.delete(`${key(ex.remote)}|${ex.request.mid}`);
    this.pendingByToken.delete(`${key(ex.remote)}|${ex.request.token.toString('hex')}`);
  }

  private onDatagram(bytes: Buffer, remote: Address, monoNs: bigint): void {
    this.opts.tap?.({ direction: 'in', endpoint: this.name, local: this.local, remote, monoNs, bytes });
    if (this.closed) return;
    let msg: CoapMessage;
    try {
      msg = decodeCoap(bytes);
    } catch (e) {
      const error = e instanceof CoapFormatError ? e : new CoapFormatError(String(e));
      this.emit('malformed', { bytes, remote, monoNs, error });
      return;
    }
    this.emit('message', { msg, remote, monoNs });
    if (msg.type === 'ACK' || msg.type === 'RST') this.onAckOrReset(msg, remote, monoNs);
    else if (isRequestCode(msg.code)) this.onRequestMessage(msg, remote, monoNs);
    else if (msg.code === '0.00') {
      // CoAP ping (empty CON) is answered with RST (RFC 7252 §4.3).
      if (msg.type === 'CON') this.transmit(emptyMessage('RST', msg.mid), remote);
    } else this.onSeparateResponse(msg, remote, monoNs);
  }

  private onAckOrReset(msg: CoapMessage, remote: Address, monoNs: bigint): void {
    const reliable = this.reliableSends.get(`${key(remote)}|${msg.mid}`);
    if (reliable) {
      clearTimeout(reliable.timer);
      this.reliableSends.delete(`${key(remote)}|${msg.mid}`);
      return;
    }
    const ex = this.pendingByMid.get(`${key(remote)}|${msg.mid}`);
    if (!ex) {
      this.emit('unmatched', { msg, remote, monoNs });
      return;
    }
    if (msg.type === 'RST') {
      ex.reject(new CoapResetError(ex.request));
      return;
    }
    if (msg.code === '0.00') {
      // Empty ACK: stop retransmitting; the response comes later under the same token.
      ex.acked = true;
      clearTimeout(ex.timer);
      this.pendingByMid.delete(`${key(remote)}|${msg.mid}`);
      const t = (ex as PendingExchange & { separateTimeout?: number }).separateTimeout ?? exchangeLifetimeMs(this.params);
      ex.timer = setTimeout(() => ex.reject(new CoapTimeoutError(ex.request, ex.transmissions, t)), t);
      return;
    }
    if (!msg.token.equals(ex.request.token)) {
      // RFC 7252 §5.3.2: a piggybacked response must echo the token; keep waiting and report.
      this.emit('unmatched', { msg, remote, monoNs, reason: 'token mismatch' });
      return;
    }
    ex.resolve({ msg, remote, monoNs, request: ex.request, sentMonoNs: ex.sentMonoNs, separate: false, transmissions: ex.transmissions });
  }

  private onSeparateResponse(msg: CoapMessage, remote: Address, monoNs: bigint): void {
    const dk = `${key(remote)}|${msg.mid}`;
    if (msg.type === 'CON') {
      const cached = this.dedup.get(dk);
      const ack = emptyMessage('ACK', msg.mid);
      if (cached) {
        this.emit('duplicate', { msg, remote, monoNs });
        if (cached.reply) this.transmit(cached.reply, remote);
        return;
      }
      this.remember(dk, ack);
    }
    const ex = this.pendingByToken.get(`${key(remote)}|${msg.token.toString('hex')}`);
    if (!ex) {
      if (msg.type === 'CON') {
        this.transmit(emptyMessage('RST', msg.mid), remote);
        this.dedup.delete(dk);
      }
      this.emit('unmatched', { msg, remote, monoNs });
      return;
    }
    if (msg.type === 'CON') this.transmit(this.dedup.get(dk)!.reply!, remote);
    ex.resolve({ msg, remote, monoNs, request: ex.request, sentMonoNs: ex.sentMonoNs, separate: true, transmissions: ex.transmissions });
  }

  private remember(dk: string, reply: Buffer | null): void {
    const now = Date.now();
    // Entries are kept in arrival order and all live equally long, so the expired ones are
    // at the front. A peer flooding new MIDs pushes the oldest out: the cache is bounded
    // for all peers together (a retransmission older than that is then handled again).
    for (const [k, v] of this.dedup) {
      if (v.expires >= now && this.dedup.size < this.dedupMax) break;
      this.dedup.delete(k);
    }
    this.dedup.delete(dk);
    this.dedup.set(dk, { reply, expires: now + (this.opts.dedupLifetimeMs ?? exchangeLifetimeMs(this.params)) });
  }

  private get dedupMax(): number {
    return this.opts.dedupMaxEntries ?? DEDUP_MAX_ENTRIES;
  }

  private onRequestMessage(msg: CoapMessage, remote: Address, monoNs: bigint): void {
    const dk = `${key(remote)}|${msg.mid}`;
    const seen = this.dedup.get(dk);
    if (seen && seen.expires >= Date.now()) {
      this.emit('duplicate', { msg, remote, monoNs });
      if (seen.reply) this.transmit(seen.reply, remote);
      return;
    }
    this.remember(dk, null);
    let acked = false;
    let answered = false;
    const inbound: InboundRequest = {
      msg,
      remote,
      monoNs,
      get answered() {
        return answered;
      },
      acknowledge: () => {
        if (acked || answered || msg.type !== 'CON') return;
        acked = true;
        const ack = emptyMessage('ACK', msg.mid);
        this.dedup.set(dk, { reply: ack, expires: this.dedup.get(dk)?.expires ?? Date.now() });
        this.transmit(ack, remote);
      },
      respond: (code: string, opts: ResponseOptions = {}) => {
        if (answered || this.closed) return;
        answered = true;
        const options = [...(opts.options ?? [])];
        if (opts.contentFormat !== undefined) options.push({ number: OPTION.CONTENT_FORMAT, value: encodeUint(opts.contentFormat) });
        const payload = opts.payload ?? Buffer.alloc(0);
        if (msg.type === 'CON' && !acked) {
          const reply = encodeCoap({ type: 'ACK', code, mid: msg.mid, token: msg.token, options, payload });
          const entry = this.dedup.get(dk);
          if (entry) entry.reply = reply;
          this.transmit(reply, remote);
          return;
        }
        // Separate response (after an empty ACK) or a response to a NON request.
        const type = msg.type === 'CON' ? 'CON' : 'NON';
        const response: CoapMessage = { type, code, mid: this.nextMid(), token: msg.token, options, payload };
        const bytes = encodeCoap(response);
        if (type === 'NON') {
          this.transmit(bytes, remote);
          return;
        }
        this.sendReliably(bytes, response.mid, remote);
      },
    };
    if (!this.requestHandler) {
      inbound.respond('4.04');
      return;
    }
    try {
      this.requestHandler(inbound);
    } catch (e) {
      this.emit('handler-error', e);
      inbound.respond('5.00');
    }
  }

  private sendReliably(bytes: Buffer, mid: number, remote: Address): void {
    const schedule = this.opts.retransmitTimeoutsMs?.() ?? retransmitTimeoutsMs(this.params, this.random);
    const entry: ReliableSend = { timer: undefined };
    const rk = `${key(remote)}|${mid}`;
    this.reliableSends.set(rk, entry);
    this.transmit(bytes, remote);
    const arm = (i: number) => {
      const t = schedule[i];
      if (t === undefined || i + 1 >= schedule.length) {
        entry.timer = setTimeout(() => this.reliableSends.delete(rk), t ?? 0);
        return;
      }
      entry.timer = setTimeout(() => {
        this.transmit(bytes, remote);
        arm(i + 1);
      }, t);
    };
    arm(0);
  }
}
