/**
 * The harness's DTLS 1.2 client: one UDP socket connected to one server, one OpenSSL
 * session. It is what the reference device needs for certificate mode (node-dtls-client
 * only does PSK): ECDHE-ECDSA with a client certificate, the server verified by PKIX or
 * by an LwM2M Certificate Usage. Like the server, the socket stays in JS, so every
 * datagram is seen and timestamped here; the addon only turns datagrams into datagrams.
 */
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { isIPv6 } from 'node:net';
import type { ClientSessionInfo, FeedResult, NativeAlert, NativeClientContext, NativeClientSession } from './native.js';
import { peerLabel, type Address, type DtlsMessageEvent, type DtlsRecordEvent } from './types.js';
import { HandshakeDriver, retransmitTimerUs, sendDatagram } from './handshake-driver.js';
import { makeClientContext, resolveRemote, type DtlsClientOptions } from './client-options.js';

export type DtlsClientCloseReason = 'peer-close-notify' | 'peer-alert' | 'client-close' | 'error';

export interface DtlsClientCloseEvent {
  reason: DtlsClientCloseReason;
  error?: string;
  alerts: NativeAlert[];
}

export interface DtlsClientEvents {
  record: [DtlsRecordEvent];
  message: [DtlsMessageEvent];
  close: [DtlsClientCloseEvent];
  /** A datagram nothing could take (after close, or past maxHandshakeBytes). */
  dropped: [{ reason: string; length: number }];
  error: [Error];
}

/** Why connect() failed, with what the handshake had got to. Never carries a key. */
export class DtlsClientHandshakeError extends Error {
  constructor(
    message: string,
    readonly remote: Address,
    readonly alerts: NativeAlert[],
    readonly verifyResult: number | null,
    readonly verifyResultText: string | null,
    readonly peerCertChainDer: Buffer[],
    readonly state: string | null,
  ) {
    super(message);
    this.name = 'DtlsClientHandshakeError';
  }
}

const DEFAULTS = { handshakeTimeoutMs: 30_000, maxHandshakeBytes: 64 * 1024 };

type State = 'handshaking' | 'established' | 'closed';

export class DtlsClient extends EventEmitter<DtlsClientEvents> {
  private state: State = 'handshaking';
  private session: NativeClientSession | undefined;
  private lastInfo: ClientSessionInfo | undefined;
  private readonly alerts: NativeAlert[] = [];
  private handshakeBytes = 0;
  private readonly driver: HandshakeDriver;
  private lastSocketError: string | undefined;
  private localAddress: Address;
  /** Set by close(): the close_notify is on its way, nothing more is read or written. */
  private closing: Promise<void> | undefined;
  private settle: { resolve: (c: DtlsClient) => void; reject: (e: Error) => void } | undefined;
  /**
   * Application data that came with the server's last flight: held until the caller has
   * had its turn to listen (connect() resolves in a microtask, these go out after it).
   */
  private early: DtlsMessageEvent[] | undefined = [];

  private constructor(
    private readonly socket: dgram.Socket,
    context: NativeClientContext,
    readonly remote: Address,
    private readonly opts: DtlsClientOptions,
  ) {
    super();
    const keylog = opts.keylog;
    const psk = opts.psk;
    this.session = context.createSession(peerLabel(remote), {
      pskIdentity: () => (psk ? { identity: psk.identity, key: psk.key } : null),
      ...(keylog ? { keylog: (line: string) => keylog(line) } : {}),
      retransmitTimerUs: retransmitTimerUs(opts.retransmitInitialMs),
    });
    const session = this.session;
    this.driver = new HandshakeDriver(session, {
      transmit: (out) => this.transmit(out),
      gaveUp: (error) => this.failHandshake(`${error}${this.stallHint()}`),
      deadline: (ms) => this.failHandshake(`handshake not completed within ${ms} ms${this.stallHint()}`),
    });
    const a = socket.address();
    this.localAddress = { address: a.address, port: a.port };
    if (opts.onRecord) this.on('record', opts.onRecord);
    socket.on('message', (bytes, rinfo) => {
      const monoNs = process.hrtime.bigint();
      this.onDatagram(bytes, { address: rinfo.address, port: rinfo.port }, monoNs);
    });
    socket.on('error', (err) => this.onSocketError(err));
  }

  /**
   * Binds a socket, connects it to `remote` and runs the handshake. Resolves once the
   * session is established; rejects with a DtlsClientHandshakeError naming the failure
   * (the alert, the certificate verification result, or the timeout).
   */
  static async connect(options: DtlsClientOptions): Promise<DtlsClient> {
    const context = makeClientContext(options);
    const remote = await resolveRemote(options.remote);
    const family = isIPv6(remote.address) ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type: family });
    try {
      await new Promise<void>((ok, ko) => {
        socket.once('error', ko);
        socket.bind(options.local?.port ?? 0, options.local?.address ?? (family === 'udp6' ? '::' : '0.0.0.0'), () => {
          socket.off('error', ko);
          ok();
        });
      });
      // A connected socket: the kernel drops datagrams from anyone but the server.
      await new Promise<void>((ok, ko) => {
        socket.once('error', ko);
        socket.connect(remote.port, remote.address, () => {
          socket.off('error', ko);
          ok();
        });
      });
    } catch (e) {
      socket.close();
      throw new Error(`cannot open a UDP socket to ${peerLabel(remote)}: ${(e as Error).message}`);
    }
    let client: DtlsClient;
    try {
      client = new DtlsClient(socket, context, remote, options);
    } catch (e) {
      socket.close();
      throw e;
    }
    return client.handshake();
  }

  get local(): Address {
    return this.localAddress;
  }

  get established(): boolean {
    return this.state === 'established';
  }

  get closed(): boolean {
    return this.state === 'closed';
  }

  /** The session as OpenSSL sees it: suite, server chain (DER), verify result, DANE match. */
  info(): ClientSessionInfo {
    if (this.session) return this.session.info();
    if (this.lastInfo) return this.lastInfo;
    throw new Error('DtlsClient has no session');
  }

  /** Encrypts one datagram to the server; throws if the session is not established. */
  send(bytes: Buffer): void {
    if (this.state !== 'established' || !this.session || this.closing) {
      throw new Error(`no established DTLS session with ${peerLabel(this.remote)} (${this.closing ? 'closing' : this.state})`);
    }
    const r = this.session.write(bytes);
    this.transmit(r.out);
    if (r.error !== undefined) throw new Error(`DTLS write to ${peerLabel(this.remote)} failed: ${r.error}`);
  }

  /** close_notify if established, then the socket is closed. Idempotent. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    if (this.state === 'closed') return Promise.resolve();
    if (this.state === 'handshaking') {
      this.failHandshake('closed by the caller before the handshake completed');
      return Promise.resolve();
    }
    const sends = this.session ? this.transmit(this.session.shutdown().out) : [];
    // Bounded: a close_notify is a courtesy, not worth hanging on.
    this.closing = Promise.race([Promise.all(sends), new Promise((r) => setTimeout(r, 500).unref())]).then(() => this.finish('client-close'));
    return this.closing;
  }

  // ---- handshake ----

  private handshake(): Promise<DtlsClient> {
    const signal = this.opts.signal;
    return new Promise<DtlsClient>((resolve, reject) => {
      const onAbort = () => this.failHandshake('aborted by the caller');
      const done = () => signal?.removeEventListener('abort', onAbort);
      this.settle = {
        resolve: (c) => {
          done();
          resolve(c);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      };
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.driver.start(this.opts.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs);
      let r: FeedResult;
      try {
        r = this.session!.connect();
      } catch (e) {
        this.failHandshake(`DTLS engine error: ${(e as Error).message}`);
        return;
      }
      this.afterResult(r, process.hrtime.bigint());
    });
  }

  /** Where a handshake that ran out of time stood, in words a tester can act on. */
  private stallHint(): string {
    const state = this.session?.info().state ?? null;
    const parts: string[] = [];
    if (state) parts.push(`OpenSSL state: ${state}`);
    if (state === 'SSLv3/TLS write finished') {
      parts.push('the server never answered our Finished; some servers drop it silently when the PSK or the client certificate is refused');
    } else if (state === 'SSLv3/TLS write client hello' || state === 'before SSL initialization') {
      parts.push('no usable answer from the server');
    }
    if (this.lastSocketError) parts.push(`last socket error: ${this.lastSocketError}`);
    return parts.length > 0 ? ` (${parts.join('; ')})` : '';
  }

  private afterResult(r: FeedResult, monoNs: bigint): void {
    this.transmit(r.out);
    this.alerts.push(...r.alerts);
    if (r.established && this.state === 'handshaking') {
      this.state = 'established';
      this.driver.stop();
      const settle = this.settle;
      this.settle = undefined;
      settle?.resolve(this);
      setImmediate(() => this.flushEarly());
    }
    if (this.state === 'established') {
      for (const bytes of r.app) this.deliver({ bytes, remote: this.remote, monoNs });
    }
    if (r.closed) {
      if (this.state === 'handshaking') {
        this.failHandshake(r.error ?? 'handshake aborted');
      } else if (this.state === 'established') {
        const peerAlert = r.alerts.some((a) => !a.sent && a.level === 'fatal');
        this.finish(r.peerClosed ? 'peer-close-notify' : peerAlert ? 'peer-alert' : 'error', r.error);
      }
      return;
    }
    if (this.state === 'handshaking') this.driver.rearm();
  }

  private deliver(m: DtlsMessageEvent): void {
    if (this.early) this.early.push(m);
    else this.emit('message', m);
  }

  private flushEarly(): void {
    const held = this.early ?? [];
    this.early = undefined;
    for (const m of held) this.emit('message', m);
  }

  private failHandshake(error: string): void {
    if (this.state !== 'handshaking') return;
    const info = this.session?.info();
    const alerts = [...this.alerts];
    this.release();
    let message = `DTLS handshake with ${peerLabel(this.remote)} failed: ${error}`;
    const peer = alerts.filter((a) => !a.sent);
    const ours = alerts.filter((a) => a.sent);
    const list = (as: NativeAlert[]) => as.map((a) => `${a.level} "${a.description}" (${a.code})`).join(', ');
    if (peer.length > 0) message += `; alert from the server: ${list(peer)}`;
    if (ours.length > 0) message += `; alert sent: ${list(ours)}`;
    const e = new DtlsClientHandshakeError(message, this.remote, alerts, info?.verifyResult ?? null, info?.verifyResultText ?? null, info?.peerCertChainDer ?? [], info?.state ?? null);
    const settle = this.settle;
    this.settle = undefined;
    settle?.reject(e);
  }

  /** Ends an established session (the engine's side is already done or being done). */
  private finish(reason: DtlsClientCloseReason, error?: string): void {
    if (this.state === 'closed') return;
    this.release();
    const e: DtlsClientCloseEvent = { reason, alerts: [...this.alerts] };
    if (error !== undefined) e.error = error;
    this.emit('close', e);
  }

  private release(): void {
    this.state = 'closed';
    this.driver.stop();
    if (this.session) {
      this.lastInfo = this.session.info();
      this.session.free();
      this.session = undefined;
    }
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }

  // ---- datagrams ----

  private onDatagram(bytes: Buffer, from: Address, monoNs: bigint): void {
    this.emit('record', { direction: 'in', local: this.localAddress, remote: from, monoNs, bytes });
    if (this.state === 'closed' || !this.session || this.closing) {
      this.emit('dropped', { reason: 'session closed', length: bytes.length });
      return;
    }
    if (this.state === 'handshaking') {
      this.handshakeBytes += bytes.length;
      const max = this.opts.maxHandshakeBytes ?? DEFAULTS.maxHandshakeBytes;
      if (this.handshakeBytes > max) {
        this.emit('dropped', { reason: 'handshake byte limit exceeded', length: bytes.length });
        this.failHandshake(`the server sent more than ${max} bytes before the handshake completed`);
        return;
      }
    }
    let r: FeedResult;
    try {
      r = this.session.feed(bytes);
    } catch (e) {
      // Only a bug in the addon's argument handling could land here.
      const why = `DTLS engine error: ${(e as Error).message}`;
      if (this.state === 'handshaking') this.failHandshake(why);
      else this.finish('error', why);
      return;
    }
    this.afterResult(r, monoNs);
  }

  private transmit(datagrams: Buffer[]): Promise<void>[] {
    const sends: Promise<void>[] = [];
    for (const bytes of datagrams) {
      const monoNs = process.hrtime.bigint();
      this.emit('record', { direction: 'out', local: this.localAddress, remote: this.remote, monoNs, bytes });
      sends.push(sendDatagram(this.socket, bytes, undefined, (err) => this.onSocketError(err)));
    }
    return sends;
  }

  /**
   * ICMP port unreachable shows up here on a connected socket. It is kept for the
   * timeout message rather than ending the handshake: the server may just be starting.
   */
  private onSocketError(err: Error): void {
    this.lastSocketError = (err as NodeJS.ErrnoException).code ?? err.message;
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}
