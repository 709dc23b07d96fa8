/**
 * The harness's DTLS 1.2 server: one UDP socket, one OpenSSL session per peer
 * address:port. The socket stays in JS so every datagram, in or out, is seen (and
 * timestamped) here before or after OpenSSL touches it; the addon only turns datagrams
 * into datagrams.
 *
 * Shaped so a CoAP endpoint can ride on it as a datagram transport: `send(bytes,
 * remote)`, `'message'` ({ bytes, remote, monoNs }), `local`, `close()`.
 */
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { isIPv6 } from 'node:net';
import {
  loadNative,
  type FeedResult,
  type NativeContext,
  type NativeContextOptions,
  type NativeSession,
} from './native.js';
import { HandshakeWire, type HandshakeWireView } from './handshake-wire.js';
import { HandshakeDriver, retransmitTimerUs, sendDatagram } from './handshake-driver.js';
import { CONTENT_HANDSHAKE, readHandshakeHeader, splitRecords } from './records.js';
import { peerLabel, type Address, type DtlsAlert, type DtlsMessageEvent, type DtlsRecordEvent } from './types.js';

export interface DtlsServerOptions {
  /** Default '0.0.0.0'; an IPv6 address binds a udp6 socket. */
  address?: string;
  /** Default 0: the OS chooses; read it back from `local`. */
  port?: number;
  /** Preference order; OpenSSL or IANA names. */
  cipherSuites: string[];
  /**
   * The PSK for an identity, or null/undefined for an unknown identity (the handshake
   * then fails with unknown_psk_identity). Called synchronously during the handshake.
   * Giving it enables PSK cipher suites.
   */
  pskLookup?: (identity: string, remote: Address) => Buffer | null | undefined;
  certPem?: string;
  keyPem?: string;
  caPem?: string;
  /** Ask for a client certificate, report what verification says, let the handshake finish. */
  requestClientCert?: boolean;
  /** Ask for a client certificate and fail the handshake unless it verifies against caPem. */
  requireValidClientCert?: boolean;
  /** HelloVerifyRequest cookie key; random per server by default. */
  cookieSecret?: Buffer;
  /** Largest datagram the server sends during the handshake (default 1232). */
  mtu?: number;
  /** Sessions kept at once (default 64); a new peer evicts one (see evictOne: unverified handshakes first). */
  maxSessions?: number;
  /** A session without traffic for this long is closed (default 5 min). */
  idleTimeoutMs?: number;
  /** A handshake not finished this long after the first ClientHello fails (default 60 s). */
  handshakeTimeoutMs?: number;
  /** First flight retransmission timer, doubled up to 60 s (default 1 s, RFC 6347 §4.2.4.1). */
  retransmitInitialMs?: number;
  /** Bytes a peer may send before its handshake completes (default 64 KiB). */
  maxHandshakeBytes?: number;
  /** NSS key log lines, for Wireshark. Off unless given: they decrypt the traffic. */
  keylog?: (line: string, remote: Address) => void;
}

export interface DtlsHandshakeEvent {
  remote: Address;
  local: Address;
  version: string | null;
  cipher: string | null;
  cipherStandardName: string | null;
  cipherId: number | null;
  pskIdentity: string | null;
  peerCertChainDer: Buffer[];
  /** X509_V_OK (0) also when no certificate was requested or sent: read peerCertChainDer. */
  verifyResult: number | null;
  verifyResultText: string | null;
  resumed: boolean;
  durationMs: number;
  clientOfferedCiphers: number[];
  clientOfferedExtensions: number[];
}

export interface DtlsHandshakeFailedEvent {
  remote: Address;
  error: string;
  alerts: DtlsAlert[];
  durationMs: number;
  /** The identity the client offered, if it got that far. */
  pskIdentity: string | null;
  clientOfferedCiphers: number[];
  /** process.hrtime.bigint() when the handshake was given up. */
  monoNs: bigint;
  /** The handshake's datagrams reduced to records, and the Certificates each side sent: what explain.ts reads. */
  wire: HandshakeWireView;
}

export type DtlsCloseReason =
  | 'peer-close-notify'
  | 'peer-alert'
  | 'idle'
  | 'evicted'
  | 'replaced'
  | 'server-close'
  | 'error';

export interface DtlsSessionClosedEvent {
  remote: Address;
  reason: DtlsCloseReason;
  error?: string;
  alerts: DtlsAlert[];
}

export interface DtlsDroppedEvent {
  remote: Address;
  reason: string;
  length: number;
}

export interface DtlsServerEvents {
  record: [DtlsRecordEvent];
  handshake: [DtlsHandshakeEvent];
  'handshake-failed': [DtlsHandshakeFailedEvent];
  message: [DtlsMessageEvent];
  'session-closed': [DtlsSessionClosedEvent];
  dropped: [DtlsDroppedEvent];
  error: [Error];
}

/** Thrown by send() when there is no established session with the peer. */
export class DtlsNoSessionError extends Error {
  constructor(readonly remote: Address) {
    super(`no established DTLS session with ${peerLabel(remote)}`);
    this.name = 'DtlsNoSessionError';
  }
}

/** `sha256:1a2b3c4d (16 bytes)`: how a key may be named, never by its bytes. */
export function keyFingerprint(key: Buffer): string {
  return `sha256:${createHash('sha256').update(key).digest('hex').slice(0, 8)} (${key.length} bytes)`;
}


interface ClientHelloView {
  messageSeq: number;
  /** hex; absent when the first fragment is too short to hold it */
  random?: string;
  cookieLength?: number;
}

const HS_CLIENT_HELLO = 1;

/**
 * Looks at the first record only: a ClientHello starts a datagram (RFC 6347 §4.2.3
 * puts nothing before it in a flight), in epoch 0, in plaintext.
 */
export function inspectClientHello(d: Buffer): ClientHelloView | null {
  const first = splitRecords(d).records[0];
  if (!first || first.type !== CONTENT_HANDSHAKE || first.versionMajor !== 0xfe || first.epoch !== 0) return null;
  const h = readHandshakeHeader(first.body);
  if (!h || h.msgType !== HS_CLIENT_HELLO) return null;
  const view: ClientHelloView = { messageSeq: h.messageSeq };
  // client_version(2) random(32) session_id<0..32> cookie<0..2^8-1> (RFC 6347 §4.2.1)
  const m = h.fragment;
  if (h.fragmentOffset === 0 && m.length >= 35) {
    view.random = m.subarray(2, 34).toString('hex');
    const cookieAt = 35 + m[34]!;
    if (cookieAt < m.length) view.cookieLength = m[cookieAt]!;
  }
  return view;
}

type SessionState = 'handshaking' | 'established' | 'closed';

interface PeerSession {
  key: string;
  remote: Address;
  native: NativeSession;
  state: SessionState;
  startedNs: bigint;
  lastActivity: number;
  handshakeBytes: number;
  cookieVerified: boolean;
  /** ClientHello randoms this session has seen: a late duplicate must not restart it. */
  helloRandoms: Set<string>;
  alerts: DtlsAlert[];
  offered: { identity: string | null };
  /** The handshake as seen on the wire; dropped once it is established. */
  wire?: HandshakeWire;
  driver: HandshakeDriver;
  /** A new handshake from the same address:port, kept apart until the peer proves it is there. */
  pending?: PeerSession;
}

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
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(new Error(`cannot listen on ${address}:${port}: ${err.message}`));
      socket.once('error', onError);
      socket.bind(port, address, () => {
        socket.off('error', onError);
        const a = socket.address();
        server.localAddress = { address: a.address, port: a.port };
        server.startSweep();
        resolve(server);
      });
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
    if (hello && this.startsNewHandshake(s, hello)) {
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

  /**
   * RFC 6347 §4.2.8: a ClientHello in epoch 0 on a live association may be a rebooted
   * client on the same port. It gets a fresh session, and the old one stays until the
   * new one returns a valid cookie (the peer has shown it owns the address).
   */
  private startsNewHandshake(s: PeerSession, hello: ClientHelloView): boolean {
    if (s.pending) return true;
    if (s.state === 'established') return hello.random === undefined || !s.helloRandoms.has(hello.random);
    // Mid-handshake: a ClientHello carrying a cookie is the client's retransmission,
    // which OpenSSL answers; one without a cookie after ours was accepted is a restart.
    return s.cookieVerified && hello.messageSeq === 0 && hello.cookieLength === 0;
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
      this.emitHandshake(s);
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

  /**
   * Makes room for a new peer. A handshake that never returned our cookie costs a spoofer
   * one datagram, so those go first, then unfinished handshakes, and an established session
   * (a real device between two exchanges) only when every session is one: a flood of
   * ClientHellos from new ports cannot push a device out of its association.
   */
  private evictOne(): void {
    const rank = (s: PeerSession) => (s.state === 'established' ? 2 : s.cookieVerified ? 1 : 0);
    let victim: PeerSession | undefined;
    for (const s of this.sessions.values()) {
      if (!victim || rank(s) < rank(victim) || (rank(s) === rank(victim) && s.lastActivity < victim.lastActivity)) victim = s;
    }
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

  private emitHandshake(s: PeerSession): void {
    const i = s.native.info();
    this.emit('handshake', {
      remote: s.remote,
      local: this.localAddress,
      version: i.version,
      cipher: i.cipher,
      cipherStandardName: i.cipherStandardName,
      cipherId: i.cipherId,
      pskIdentity: i.pskIdentity,
      peerCertChainDer: i.peerCertChainDer,
      verifyResult: i.verifyResult,
      verifyResultText: i.verifyResultText,
      resumed: i.resumed,
      durationMs: elapsedMs(s.startedNs),
      clientOfferedCiphers: i.clientOfferedCiphers,
      clientOfferedExtensions: i.clientOfferedExtensions,
    });
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

function elapsedMs(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e6;
}
