/**
 * The harness's DTLS 1.2 server: one UDP socket, one OpenSSL session per peer
 * address:port. The socket stays in JS so every datagram, in or out, is seen (and
 * timestamped) here before or after OpenSSL touches it; the addon only turns datagrams
 * into datagrams.
 *
 * Shaped so a CoAP endpoint can ride on it as a datagram transport: `send(bytes,
 * remote)`, `'message'` ({ bytes, remote, monoNs }), `local`, `close()`.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { isIPv6 } from 'node:net';
import { bindSocket } from '../coap/transport.js';
import { loadNative, type FeedResult, type NativeContext, type NativeContextOptions } from './native.js';
import { HandshakeWire } from './handshake-wire.js';
import { HandshakeDriver, retransmitTimerUs, sendDatagram } from './handshake-driver.js';
import { inspectClientHello, type ClientHelloView } from './records.js';
import { elapsedMs, evictionVictim, handshakeEvent, startsNewHandshake, type PeerSession, type SessionState } from './server-peers.js';
import { DtlsNoSessionError, type DtlsCloseReason, type DtlsServerEvents, type DtlsServerOptions, type DtlsSessionClosedEvent } from './server-types.js';
import { peerLabel, type Address, type DtlsAlert } from './types.js';

const DEFAULTS = {
  maxSessions: 64,
  idleTimeoutMs: 5 * 60_000,
  handshakeTimeoutMs: 60_000,
  maxHandshakeBytes: 64 * 1024,
};

export class DtlsServer extends EventEmitter<DtlsServerEvents> {
  readonly scheme = 'coaps' as const;
  private readonly sessions = new Map<string, PeerSession>();
  private localAddress: Address = { address: '', port: 0 };
  private closed = false;
  private sweepTimer?: NodeJS.Timeout;
  private readonly limits: typeof DEFAULTS;
  private readonly retransmitTimer: (previousUs: number) => number;
  /** How many opening ClientHellos are left unanswered, and how many were (withholdClientHellos). */
  private withholdCount = 0;
  private withheld = 0;

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly context: NativeContext,
    private readonly opts: DtlsServerOptions,
  ) {
    super();
    this.limits = {
      maxSessions: opts.maxSessions ?? DEFAULTS.maxSessions,
      idleTimeoutMs: opts.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs,
      handshakeTimeoutMs: opts.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs,
      maxHandshakeBytes: opts.maxHandshakeBytes ?? DEFAULTS.maxHandshakeBytes,
    };
    this.retransmitTimer = retransmitTimerUs(opts.retransmitInitialMs);
    socket.on('message', (bytes, rinfo) => {
      const monoNs = process.hrtime.bigint();
      this.onDatagram(bytes, { address: rinfo.address, port: rinfo.port }, monoNs);
    });
    socket.on('error', (err) => this.reportError(err));
  }

  /** Binds the socket and returns a listening server. Bad TLS options reject here. */
  static listen(options: DtlsServerOptions): Promise<DtlsServer> {
    const native = loadNative();
    const ctxOptions: NativeContextOptions = {
      role: 'server',
      cipherSuites: options.cipherSuites,
      psk: options.pskLookup !== undefined,
      cookieSecret: options.cookieSecret ?? randomBytes(32),
      requestClientCert: options.requestClientCert ?? false,
      requireValidClientCert: options.requireValidClientCert ?? false,
    };
    if (options.certPem !== undefined) ctxOptions.certPem = options.certPem;
    if (options.keyPem !== undefined) ctxOptions.keyPem = options.keyPem;
    if (options.caPem !== undefined) ctxOptions.caPem = options.caPem;
    if (options.mtu !== undefined) ctxOptions.mtu = options.mtu;
    let context: NativeContext;
    try {
      context = new native.DtlsContext(ctxOptions);
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    const address = options.address ?? '0.0.0.0';
    const port = options.port ?? 0;
    const socket = dgram.createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4' });
    let server: DtlsServer;
    try {
      server = new DtlsServer(socket, context, options);
    } catch (e) {
      socket.close();
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
    return bindSocket(socket, address, port).then((local) => {
      server.localAddress = local;
      server.startSweep();
      return server;
    });
  }

  get local(): Address {
    return this.localAddress;
  }

  /** The OpenSSL inside this node binary, for the run's tool information. */
  static opensslVersion(): string {
    return loadNative().opensslVersion();
  }

  /** What the server offers, in order (OpenSSL name, IANA name, IANA number). */
  ciphers(): { name: string; standardName: string | null; id: number }[] {
    return this.context.ciphers();
  }

  /** Peers with a session, and where their handshake stands. */
  peers(): { remote: Address; state: SessionState }[] {
    return [...this.sessions.values()].map((s) => ({ remote: s.remote, state: s.state }));
  }

  isEstablished(remote: Address): boolean {
    return this.sessions.get(peerLabel(remote))?.state === 'established';
  }

  /**
   * Ends the session with `remote` from this side, with close_notify if it is established,
   * and forgets it: the peer's next datagram must start a new handshake (a new security
   * context). Resolves once the close_notify is on the wire; false if there was no session.
   */
  async endPeerSession(remote: Address): Promise<boolean> {
    const s = this.sessions.get(peerLabel(remote));
    if (!s || this.closed) return false;
    await Promise.all(this.endSession(s, 'server-close', true));
    return true;
  }

  /** Encrypts to the established session with `remote`; throws DtlsNoSessionError if none. */
  send(bytes: Buffer, remote: Address): void {
    const s = this.sessions.get(peerLabel(remote));
    if (this.closed || !s || s.state !== 'established') throw new DtlsNoSessionError(remote);
    const r = s.native.write(bytes);
    this.transmit(r.out, s.remote);
    if (r.error !== undefined) throw new Error(`DTLS write to ${s.key} failed: ${r.error}`);
    s.lastActivity = Date.now();
  }

  /** Sends close_notify to every established peer, then closes the socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    const sends: Promise<void>[] = [];
    for (const s of [...this.sessions.values()]) {
      sends.push(...this.endSession(s, 'server-close', true));
    }
    // Bounded: a close_notify is a courtesy, not worth hanging a run for.
    await Promise.race([Promise.all(sends), new Promise((r) => setTimeout(r, 500).unref())]);
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  /**
   * Leaves the next `n` ClientHellos that would open a session unanswered, whatever peer
   * sends them (a client that gives up and starts over from a new port does not escape),
   * each reported as 'dropped', as if lost on the way: a case sees whether the peer sends
   * its flight again (RFC 6347 §4.2.4). 0 (the default) withholds nothing.
   */
  withholdClientHellos(n: number): void {
    this.withholdCount = n;
    this.withheld = 0;
  }

  // ---- datagrams in ----

  private onDatagram(bytes: Buffer, remote: Address, monoNs: bigint): void {
    if (this.closed) return;
    this.emit('record', { direction: 'in', local: this.localAddress, remote, monoNs, bytes });
    const key = peerLabel(remote);
    const hello = inspectClientHello(bytes);
    let s = this.sessions.get(key);
    if (!s) {
      if (!hello) {
        this.drop(remote, bytes, 'no session with this peer and not a ClientHello');
        return;
      }
      if (this.withheld < this.withholdCount) {
        // Never reaches OpenSSL: to the peer it is a flight lost on the way (the recorder keeps it).
        this.withheld += 1;
        this.drop(remote, bytes, `ClientHello (message_seq ${hello.messageSeq}) left unanswered on purpose, ${this.withheld} of the first ${this.withholdCount} opening a session`);
        return;
      }
      s = this.createSession(key, remote);
      this.feed(s, bytes, monoNs, hello);
      return;
    }
    if (hello && startsNewHandshake(s, hello)) {
      this.feedPending(s, bytes, monoNs, hello);
      return;
    }
    if (hello?.random !== undefined && s.state === 'established' && s.helloRandoms.has(hello.random)) {
      // A late copy of the ClientHello that built this very session.
      this.drop(remote, bytes, 'duplicate ClientHello of the established session');
      return;
    }
    this.feed(s, bytes, monoNs, hello);
  }

  private feedPending(s: PeerSession, bytes: Buffer, monoNs: bigint, hello: ClientHelloView): void {
    if (!s.pending || s.pending.state === 'closed') s.pending = this.newPeerSession(s.key, s.remote);
    const p = s.pending;
    this.feed(p, bytes, monoNs, hello);
    if (p.state === 'closed') {
      if (s.pending === p) delete s.pending;
      return;
    }
    if (p.cookieVerified) {
      delete s.pending;
      // No close_notify: the peer has moved on to the new handshake and could only
      // mistake a record under the old keys for noise.
      this.endSession(s, 'replaced', false);
      this.sessions.set(s.key, p);
    }
  }

  private feed(s: PeerSession, bytes: Buffer, monoNs: bigint, hello: ClientHelloView | null): void {
    s.lastActivity = Date.now();
    if (hello?.random !== undefined) s.helloRandoms.add(hello.random);
    if (s.state === 'handshaking') {
      s.wire?.add('in', bytes, monoNs);
      s.handshakeBytes += bytes.length;
      if (s.handshakeBytes > this.limits.maxHandshakeBytes) {
        this.failHandshake(s, `peer sent more than ${this.limits.maxHandshakeBytes} bytes before the handshake completed`, []);
        return;
      }
    }
    let r: FeedResult;
    try {
      r = s.native.feed(bytes);
    } catch (e) {
      // Only a bug in the addon's argument handling could land here; one peer pays.
      this.failOrClose(s, `DTLS engine error: ${(e as Error).message}`, []);
      return;
    }
    this.afterFeed(s, r, monoNs);
  }

  private afterFeed(s: PeerSession, r: FeedResult, monoNs: bigint): void {
    this.transmit(r.out, s.remote, s);
    if (r.cookieVerified) s.cookieVerified = true;
    if (r.established && s.state === 'handshaking') {
      s.state = 'established';
      delete s.wire;
      s.driver.stop();
      s.alerts.push(...r.alerts);
      r.alerts = [];
      this.emit('handshake', handshakeEvent(s, this.localAddress));
    }
    if (s.state === 'established') {
      for (const app of r.app) this.emit('message', { bytes: app, remote: s.remote, monoNs });
    }
    if (r.closed) {
      if (s.state === 'handshaking') {
        this.failHandshake(s, r.error ?? 'handshake aborted', r.alerts);
      } else if (s.state === 'established') {
        const peerAlert = r.alerts.some((a) => !a.sent && a.level === 'fatal');
        const reason: DtlsCloseReason = r.peerClosed ? 'peer-close-notify' : peerAlert ? 'peer-alert' : 'error';
        s.alerts.push(...r.alerts);
        this.finish(s, reason, r.error);
      }
      return;
    }
    s.alerts.push(...r.alerts);
    if (s.state === 'handshaking') s.driver.rearm();
  }

  // ---- sessions ----

  private createSession(key: string, remote: Address): PeerSession {
    if (this.sessions.size >= this.limits.maxSessions) this.evictOne();
    const s = this.newPeerSession(key, remote);
    this.sessions.set(key, s);
    return s;
  }

  private newPeerSession(key: string, remote: Address): PeerSession {
    const lookup = this.opts.pskLookup;
    const keylog = this.opts.keylog;
    // Filled in by the PSK callback, so a failed handshake can still say who tried.
    const offered: { identity: string | null } = { identity: null };
    const native = this.context.createSession(key, {
      pskLookup: (identity: string) => {
        offered.identity = identity;
        return lookup ? (lookup(identity, remote) ?? null) : null;
      },
      ...(keylog ? { keylog: (line: string) => keylog(line, remote) } : {}),
      retransmitTimerUs: this.retransmitTimer,
    });
    const s: PeerSession = {
      key,
      remote,
      native,
      state: 'handshaking',
      startedNs: process.hrtime.bigint(),
      lastActivity: Date.now(),
      handshakeBytes: 0,
      cookieVerified: false,
      helloRandoms: new Set(),
      alerts: [],
      offered,
      wire: new HandshakeWire(),
      driver: new HandshakeDriver(native, {
        transmit: (out) => this.transmit(out, s.remote, s),
        gaveUp: (error) => this.failHandshake(s, error, []),
        deadline: (ms) => this.failHandshake(s, `handshake not completed within ${ms} ms`, []),
      }),
    };
    s.driver.start(this.limits.handshakeTimeoutMs);
    return s;
  }

  private evictOne(): void {
    const victim = evictionVictim(this.sessions.values());
    if (victim) this.endSession(victim, 'evicted', true);
  }

  private failHandshake(s: PeerSession, error: string, alerts: DtlsAlert[]): void {
    if (s.state !== 'handshaking') return;
    const info = s.native.info();
    const all = [...s.alerts, ...alerts];
    this.release(s);
    this.emit('handshake-failed', {
      remote: s.remote,
      error,
      alerts: all,
      durationMs: elapsedMs(s.startedNs),
      pskIdentity: info.pskIdentity ?? s.offered.identity,
      clientOfferedCiphers: info.clientOfferedCiphers,
      monoNs: process.hrtime.bigint(),
      wire: s.wire?.view() ?? { datagrams: [], omitted: 0, ourCertificates: [], peerCertificates: [] },
    });
    delete s.wire;
  }

  private failOrClose(s: PeerSession, error: string, alerts: DtlsAlert[]): void {
    if (s.state === 'handshaking') this.failHandshake(s, error, alerts);
    else if (s.state === 'established') this.finish(s, 'error', error);
  }

  /** Ends an established session that the engine already closed. */
  private finish(s: PeerSession, reason: DtlsCloseReason, error?: string): void {
    this.release(s);
    const e: DtlsSessionClosedEvent = { remote: s.remote, reason, alerts: s.alerts };
    if (error !== undefined) e.error = error;
    this.emit('session-closed', e);
  }

  /** Ends a session from our side; returns the close_notify sends to wait on. */
  private endSession(s: PeerSession, reason: DtlsCloseReason, notify: boolean): Promise<void>[] {
    const sends: Promise<void>[] = [];
    if (s.pending) {
      this.endSession(s.pending, reason, false);
      delete s.pending;
    }
    const wasHandshaking = s.state === 'handshaking';
    if (notify && s.state === 'established') sends.push(...this.transmit(s.native.shutdown().out, s.remote));
    if (wasHandshaking) {
      this.failHandshake(s, `handshake abandoned: session ${reason}`, []);
    } else if (s.state === 'established') {
      this.release(s);
      this.emit('session-closed', { remote: s.remote, reason, alerts: s.alerts });
    }
    return sends;
  }

  private release(s: PeerSession): void {
    s.state = 'closed';
    s.driver.stop();
    s.native.free();
    if (this.sessions.get(s.key) === s) this.sessions.delete(s.key);
  }

  private startSweep(): void {
    const every = Math.max(20, Math.min(this.limits.idleTimeoutMs / 2, 30_000));
    this.sweepTimer = setInterval(() => {
      const now = Date.now();
      for (const s of [...this.sessions.values()]) {
        if (now - s.lastActivity > this.limits.idleTimeoutMs) this.endSession(s, 'idle', true);
      }
    }, every);
    this.sweepTimer.unref();
  }

  // ---- datagrams out ----

  /** `s`: the session whose handshake this flight belongs to, for its wire record. */
  private transmit(datagrams: Buffer[], remote: Address, s?: PeerSession): Promise<void>[] {
    const sends: Promise<void>[] = [];
    for (const bytes of datagrams) {
      const monoNs = process.hrtime.bigint();
      if (s?.state === 'handshaking') s.wire?.add('out', bytes, monoNs);
      this.emit('record', { direction: 'out', local: this.localAddress, remote, monoNs, bytes });
      sends.push(sendDatagram(this.socket, bytes, remote, (err) => this.reportError(err)));
    }
    return sends;
  }

  private drop(remote: Address, bytes: Buffer, reason: string): void {
    this.emit('dropped', { remote, reason, length: bytes.length });
  }

  /** Socket trouble is a protocol event, not a crash: reported only to whoever listens. */
  private reportError(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}
