/**
 * A scripted DTLS 1.2 server for the device's own tests, written from RFC 6347 / RFC 5246 /
 * RFC 4279 / RFC 6655 so the device's DTLS is checked against the protocol rather than
 * against the library it uses. It is deliberately small: PSK key exchange, the AEAD suite
 * TLS_PSK_WITH_AES_128_CCM_8 (the LwM2M mandatory one) and nothing else, a stateless cookie
 * exchange, unfragmented handshake messages, no retransmission (loopback loses nothing).
 *
 * It is a DatagramTransport (scheme 'coaps'), so a CoapEndpoint — hence a ScriptedPeer —
 * runs on it unchanged. What a test wants to assert is recorded as it happens: every
 * ClientHello's cipher list, the PSK identity of every ClientKeyExchange, each handshake's
 * outcome, and any datagram that is not DTLS at all (plain CoAP sent to the DTLS port).
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { Address, DatagramTransport, TransportMessage } from '../../harness/coap/transport.js';
import { Inbox } from '../../harness/coap/inbox.js';

export const TLS_PSK_WITH_AES_128_CCM_8 = 0xc0a8;
export const TLS_PSK_WITH_AES_128_CBC_SHA256 = 0x00ae;

const CT = { CHANGE_CIPHER_SPEC: 20, ALERT: 21, HANDSHAKE: 22, APPLICATION_DATA: 23 } as const;
const HS = { CLIENT_HELLO: 1, SERVER_HELLO: 2, HELLO_VERIFY_REQUEST: 3, SERVER_KEY_EXCHANGE: 12, SERVER_HELLO_DONE: 14, CLIENT_KEY_EXCHANGE: 16, FINISHED: 20 } as const;
const ALERT = { HANDSHAKE_FAILURE: 40, DECRYPT_ERROR: 51, UNKNOWN_PSK_IDENTITY: 115 } as const;
const DTLS_1_2 = Buffer.from([0xfe, 0xfd]);
const DTLS_1_0 = Buffer.from([0xfe, 0xff]);

/** What one handshake attempt showed. */
export interface HandshakeSeen {
  remote: Address;
  monoNs: bigint;
  /** Cipher suites of the ClientHello, in the client's order. */
  offered: number[];
  /** PSK identity of the ClientKeyExchange, once one arrived. */
  identity?: Buffer;
  /** 'ok' once the client's Finished verified; otherwise why it stopped. */
  outcome: 'pending' | 'ok' | 'no-shared-suite' | 'unknown-identity' | 'bad-finished' | 'unsupported';
}

export interface ClientHelloSeen {
  remote: Address;
  monoNs: bigint;
  offered: number[];
  /** Whether it carried a cookie (the second ClientHello of a handshake). */
  withCookie: boolean;
}

export interface PlainDatagram {
  remote: Address;
  monoNs: bigint;
  bytes: Buffer;
}

export interface DtlsPeerOptions {
  /** The key for an identity, or undefined to refuse it (unknown_psk_identity). */
  psk: (identity: Buffer) => Buffer | undefined;
  /** PSK identity hint sent in ServerKeyExchange; none when absent. */
  hint?: Buffer;
  address?: string;
}

/** The cipher suites of a ClientHello record, or undefined if `datagram` does not start with one. */
export function clientHelloSuites(datagram: Buffer): number[] | undefined {
  if (datagram.length < 13 + 12 || datagram[0] !== CT.HANDSHAKE || datagram[13] !== HS.CLIENT_HELLO) return undefined;
  try {
    return parseClientHello(datagram.subarray(13 + 12, 13 + datagram.readUInt16BE(11))).suites;
  } catch {
    return undefined;
  }
}

function parseClientHello(body: Buffer): { random: Buffer; cookie: Buffer; suites: number[] } {
  let o = 2; // client_version
  const random = body.subarray(o, o + 32);
  o += 32;
  o += 1 + body[o]!; // session_id
  const cookie = body.subarray(o + 1, o + 1 + body[o]!);
  o += 1 + cookie.length;
  const n = body.readUInt16BE(o);
  o += 2;
  const suites: number[] = [];
  for (let i = 0; i < n; i += 2) suites.push(body.readUInt16BE(o + i));
  if (random.length !== 32 || o + n > body.length) throw new Error('truncated ClientHello');
  return { random, cookie, suites };
}

// ---- TLS 1.2 PRF (RFC 5246 §5) with SHA-256 --------------------------------------------

function prf(secret: Buffer, label: string, seed: Buffer, length: number): Buffer {
  const labelSeed = Buffer.concat([Buffer.from(label, 'ascii'), seed]);
  const out: Buffer[] = [];
  let a = labelSeed;
  let have = 0;
  while (have < length) {
    a = createHmac('sha256', secret).update(a).digest();
    const block = createHmac('sha256', secret)
      .update(Buffer.concat([a, labelSeed]))
      .digest();
    out.push(block);
    have += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

function uint16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function uint24(n: number): Buffer {
  return Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
}

/** A whole handshake message: the 12-byte DTLS header (one fragment) and the body. */
function handshakeMessage(type: number, seq: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type]), uint24(body.length), uint16(seq), uint24(0), uint24(body.length), body]);
}

function seqNum(epoch: number, seq: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16BE(epoch, 0);
  b.writeUIntBE(seq, 2, 6);
  return b;
}

interface Keys {
  clientKey: Buffer;
  serverKey: Buffer;
  clientIv: Buffer;
  serverIv: Buffer;
}

interface PeerSession {
  remote: Address;
  seen: HandshakeSeen;
  clientRandom?: Buffer;
  serverRandom?: Buffer;
  transcript: Buffer[];
  master?: Buffer;
  keys?: Keys;
  readEpoch: number;
  writeSeq: [number, number];
  established: boolean;
}

export class DtlsPskPeer extends EventEmitter implements DatagramTransport {
  readonly scheme = 'coaps' as const;
  /** Every ClientHello, as it arrives. */
  readonly hellos = new Inbox<ClientHelloSeen>();
  /** Each handshake once its outcome is known (never while 'pending'). */
  readonly handshakes = new Inbox<HandshakeSeen>();
  readonly plain = new Inbox<PlainDatagram>();
  private readonly sessions = new Map<string, PeerSession>();
  private readonly cookieSecret = randomBytes(16);
  private localAddress: Address = { address: '', port: 0 };
  private closed = false;

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly opts: DtlsPeerOptions,
  ) {
    super();
    socket.on('message', (bytes, rinfo) => {
      const monoNs = process.hrtime.bigint();
      try {
        this.onDatagram(bytes, { address: rinfo.address, port: rinfo.port }, monoNs);
      } catch (e) {
        this.emit('error', e instanceof Error ? e : new Error(String(e)));
      }
    });
    socket.on('error', (e) => this.emit('error', e));
  }

  static open(opts: DtlsPeerOptions): Promise<DtlsPskPeer> {
    const socket = dgram.createSocket('udp4');
    const peer = new DtlsPskPeer(socket, opts);
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, opts.address ?? '127.0.0.1', () => {
        socket.off('error', reject);
        const a = socket.address();
        peer.localAddress = { address: a.address, port: a.port };
        resolve(peer);
      });
    });
  }

  get local(): Address {
    return this.localAddress;
  }

  get uri(): string {
    return `coaps://${this.localAddress.address}:${this.localAddress.port}`;
  }

  /** Application data toward an established session; anything else is reported, not thrown. */
  send(bytes: Buffer, remote: Address): void {
    if (this.closed) return;
    const s = this.sessions.get(`${remote.address}|${remote.port}`);
    if (!s?.established) {
      this.emit('error', new Error(`no DTLS session with ${remote.address}:${remote.port}`));
      return;
    }
    this.sendRecords(s, [this.record(s, CT.APPLICATION_DATA, 1, bytes)]);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  // ---- receiving ------------------------------------------------------------------------

  private onDatagram(bytes: Buffer, remote: Address, monoNs: bigint): void {
    if (this.closed) return;
    if (bytes.length < 13 || bytes[0]! < CT.CHANGE_CIPHER_SPEC || bytes[0]! > CT.APPLICATION_DATA || bytes[1] !== 0xfe) {
      this.plain.push({ remote, monoNs, bytes });
      return;
    }
    let o = 0;
    while (o + 13 <= bytes.length) {
      const type = bytes[o]!;
      const epoch = bytes.readUInt16BE(o + 3);
      const seq = bytes.readUIntBE(o + 5, 6);
      const len = bytes.readUInt16BE(o + 11);
      const header = bytes.subarray(o, o + 13);
      const fragment = bytes.subarray(o + 13, o + 13 + len);
      o += 13 + len;
      if (fragment.length !== len) return;
      this.onRecord(type, epoch, seq, header, fragment, remote, monoNs);
    }
  }

  private onRecord(type: number, epoch: number, seq: number, header: Buffer, fragment: Buffer, remote: Address, monoNs: bigint): void {
    const key = `${remote.address}|${remote.port}`;
    const s = this.sessions.get(key);
    let data = fragment;
    if (epoch === 1) {
      if (!s?.keys) return;
      const plain = this.decrypt(s.keys, type, header, fragment);
      if (!plain) return;
      data = plain;
    } else if (epoch !== 0) {
      return;
    }
    void seq;
    if (type === CT.HANDSHAKE) {
      if (data.length < 12) return;
      const msgType = data[0]!;
      const length = data.readUIntBE(1, 3);
      const fragOffset = data.readUIntBE(6, 3);
      const fragLength = data.readUIntBE(9, 3);
      const body = data.subarray(12, 12 + fragLength);
      if (fragOffset !== 0 || fragLength !== length) {
        if (s) this.conclude(s, 'unsupported');
        return;
      }
      const whole = data.subarray(0, 12 + length);
      if (msgType === HS.CLIENT_HELLO) {
        this.onClientHello(body, whole, remote, monoNs);
        return;
      }
      if (!s) return;
      if (msgType === HS.CLIENT_KEY_EXCHANGE && epoch === 0) this.onClientKeyExchange(s, body, whole);
      else if (msgType === HS.FINISHED && epoch === 1) this.onClientFinished(s, body, whole);
    } else if (type === CT.CHANGE_CIPHER_SPEC) {
      if (s) s.readEpoch = 1;
    } else if (type === CT.APPLICATION_DATA && epoch === 1 && s?.established) {
      this.emit('message', { bytes: data, remote: s.remote, monoNs } satisfies TransportMessage);
    } else if (type === CT.ALERT && s && data.length >= 2 && (data[0] === 2 || data[1] === 0)) {
      // A fatal alert or close_notify ends the session.
      this.sessions.delete(key);
    }
  }

  private cookieFor(remote: Address, clientRandom: Buffer): Buffer {
    return createHmac('sha256', this.cookieSecret).update(`${remote.address}|${remote.port}|`).update(clientRandom).digest().subarray(0, 16);
  }

  private onClientHello(body: Buffer, whole: Buffer, remote: Address, monoNs: bigint): void {
    const hello = parseClientHello(body);
    const key = `${remote.address}|${remote.port}`;
    this.hellos.push({ remote, monoNs, offered: hello.suites, withCookie: hello.cookie.length > 0 });
    if (hello.cookie.length === 0 || !hello.cookie.equals(this.cookieFor(remote, hello.random))) {
      // Flight 2: HelloVerifyRequest (RFC 6347 §4.2.1); it is not part of the transcript.
      const seen: HandshakeSeen = { remote, monoNs, offered: hello.suites, outcome: 'pending' };
      this.sessions.set(key, { remote, seen, transcript: [], readEpoch: 0, writeSeq: [0, 0], established: false });
      const cookie = this.cookieFor(remote, hello.random);
      const hvr = handshakeMessage(HS.HELLO_VERIFY_REQUEST, 0, Buffer.concat([DTLS_1_0, Buffer.from([cookie.length]), cookie]));
      const s = this.sessions.get(key)!;
      this.sendRecords(s, [this.record(s, CT.HANDSHAKE, 0, hvr)]);
      return;
    }
    let s = this.sessions.get(key);
    if (!s) {
      const seen: HandshakeSeen = { remote, monoNs, offered: hello.suites, outcome: 'pending' };
      s = { remote, seen, transcript: [], readEpoch: 0, writeSeq: [0, 0], established: false };
      this.sessions.set(key, s);
    }
    s.seen.offered = hello.suites;
    if (!hello.suites.includes(TLS_PSK_WITH_AES_128_CCM_8)) {
      this.conclude(s, 'no-shared-suite');
      this.alert(s, ALERT.HANDSHAKE_FAILURE, 0);
      this.sessions.delete(key);
      return;
    }
    s.clientRandom = Buffer.from(hello.random);
    s.serverRandom = randomBytes(32);
    s.transcript = [Buffer.from(whole)];
    // Flight 4: ServerHello (session id empty, no extensions), [ServerKeyExchange], ServerHelloDone.
    const messages = [handshakeMessage(HS.SERVER_HELLO, 1, Buffer.concat([DTLS_1_2, s.serverRandom, Buffer.from([0]), uint16(TLS_PSK_WITH_AES_128_CCM_8), Buffer.from([0])]))];
    if (this.opts.hint) messages.push(handshakeMessage(HS.SERVER_KEY_EXCHANGE, 2, Buffer.concat([uint16(this.opts.hint.length), this.opts.hint])));
    messages.push(handshakeMessage(HS.SERVER_HELLO_DONE, messages.length + 1, Buffer.alloc(0)));
    s.transcript.push(...messages);
    this.sendRecords(
      s,
      messages.map((m) => this.record(s, CT.HANDSHAKE, 0, m)),
    );
  }

  private onClientKeyExchange(s: PeerSession, body: Buffer, whole: Buffer): void {
    const n = body.readUInt16BE(0);
    const identity = Buffer.from(body.subarray(2, 2 + n));
    s.seen.identity = identity;
    const psk = this.opts.psk(identity);
    if (!psk || !s.clientRandom || !s.serverRandom) {
      this.conclude(s, 'unknown-identity');
      this.alert(s, ALERT.UNKNOWN_PSK_IDENTITY, 0);
      this.sessions.delete(`${s.remote.address}|${s.remote.port}`);
      return;
    }
    s.transcript.push(Buffer.from(whole));
    // RFC 4279 §2: other_secret is N zero bytes for plain PSK.
    const pms = Buffer.concat([uint16(psk.length), Buffer.alloc(psk.length), uint16(psk.length), psk]);
    s.master = prf(pms, 'master secret', Buffer.concat([s.clientRandom, s.serverRandom]), 48);
    // AES-128-CCM-8 (RFC 6655): no MAC keys, 16-byte keys, 4-byte implicit IVs.
    const block = prf(s.master, 'key expansion', Buffer.concat([s.serverRandom, s.clientRandom]), 40);
    s.keys = { clientKey: block.subarray(0, 16), serverKey: block.subarray(16, 32), clientIv: block.subarray(32, 36), serverIv: block.subarray(36, 40) };
  }

  private onClientFinished(s: PeerSession, body: Buffer, whole: Buffer): void {
    const expected = prf(s.master!, 'client finished', createHash('sha256').update(Buffer.concat(s.transcript)).digest(), 12);
    if (!body.equals(expected)) {
      this.conclude(s, 'bad-finished');
      this.alert(s, ALERT.DECRYPT_ERROR, 1);
      this.sessions.delete(`${s.remote.address}|${s.remote.port}`);
      return;
    }
    s.transcript.push(Buffer.from(whole));
    const verify = prf(s.master!, 'server finished', createHash('sha256').update(Buffer.concat(s.transcript)).digest(), 12);
    const ccs = this.record(s, CT.CHANGE_CIPHER_SPEC, 0, Buffer.from([1]));
    const finished = this.record(s, CT.HANDSHAKE, 1, handshakeMessage(HS.FINISHED, this.nextServerMessageSeq(s), verify));
    this.sendRecords(s, [ccs, finished]);
    s.established = true;
    this.conclude(s, 'ok');
  }

  private conclude(s: PeerSession, outcome: Exclude<HandshakeSeen['outcome'], 'pending'>): void {
    if (s.seen.outcome !== 'pending') return;
    s.seen.outcome = outcome;
    this.handshakes.push(s.seen);
  }

  /** The server's next handshake message_seq: one after its last in the transcript. */
  private nextServerMessageSeq(s: PeerSession): number {
    return s.transcript.filter((m) => m[0] === HS.SERVER_HELLO || m[0] === HS.SERVER_KEY_EXCHANGE || m[0] === HS.SERVER_HELLO_DONE).length + 1;
  }

  // ---- sending --------------------------------------------------------------------------

  private record(s: PeerSession, type: number, epoch: 0 | 1, data: Buffer): Buffer {
    const seq = s.writeSeq[epoch]++;
    const sn = seqNum(epoch, seq);
    if (epoch === 0) return Buffer.concat([Buffer.from([type]), DTLS_1_2, sn, uint16(data.length), data]);
    const keys = s.keys!;
    const nonce = Buffer.concat([keys.serverIv, sn]);
    const aad = Buffer.concat([sn, Buffer.from([type]), DTLS_1_2, uint16(data.length)]);
    const c = createCipheriv('aes-128-ccm', keys.serverKey, nonce, { authTagLength: 8 });
    c.setAAD(aad, { plaintextLength: data.length });
    const ct = Buffer.concat([c.update(data), c.final()]);
    const fragment = Buffer.concat([sn, ct, c.getAuthTag()]);
    return Buffer.concat([Buffer.from([type]), DTLS_1_2, sn, uint16(fragment.length), fragment]);
  }

  private decrypt(keys: Keys, type: number, header: Buffer, fragment: Buffer): Buffer | undefined {
    if (fragment.length < 16) return undefined;
    const explicit = fragment.subarray(0, 8);
    const ct = fragment.subarray(8, fragment.length - 8);
    const tag = fragment.subarray(fragment.length - 8);
    const nonce = Buffer.concat([keys.clientIv, explicit]);
    const aad = Buffer.concat([header.subarray(3, 11), Buffer.from([type]), header.subarray(1, 3), uint16(ct.length)]);
    try {
      const d = createDecipheriv('aes-128-ccm', keys.clientKey, nonce, { authTagLength: 8 });
      d.setAuthTag(tag);
      d.setAAD(aad, { plaintextLength: ct.length });
      return Buffer.concat([d.update(ct), d.final()]);
    } catch {
      return undefined;
    }
  }

  private alert(s: PeerSession, description: number, epoch: 0 | 1): void {
    this.sendRecords(s, [this.record(s, CT.ALERT, epoch, Buffer.from([2, description]))]);
  }

  private sendRecords(s: PeerSession, records: Buffer[]): void {
    if (this.closed) return;
    this.socket.send(Buffer.concat(records), s.remote.port, s.remote.address, (err) => {
      if (err) this.emit('error', err);
    });
  }
}
