/**
 * The addon on its own, driven by hand-built DTLS records: everything up to the client's
 * Finished is plaintext (RFC 6347 §4.2, RFC 4279 §2), so cookie exchange, cipher choice,
 * the PSK callback and the wrong-key path can be checked byte by byte without a client.
 */
import { randomBytes } from 'node:crypto';
import { loadNative, type FeedResult, type NativeContextOptions, type NativeSession } from '../harness/dtls/native.js';
import { clientHelloBody, dtlsHandshake, dtlsRecord } from './support/dtls-wire.js';

const native = loadNative();
const PSK_CCM8 = 0xc0a8;
const KEY = Buffer.from('7e1d0c2b3a49586776859493a2b1c0df', 'hex');

// ---- a raw DTLS 1.2 client, just enough to walk the plaintext part of a PSK handshake ----

function clientHello(random: Buffer, cookie: Buffer, suites: number[], msgSeq: number, recSeq: number): Buffer {
  return dtlsRecord(22, 0, recSeq, dtlsHandshake(1, msgSeq, clientHelloBody(random, cookie, suites)));
}

function pskClientKeyExchange(identity: string, msgSeq: number, recSeq: number): Buffer {
  const id = Buffer.from(identity);
  const body = Buffer.concat([Buffer.alloc(2), id]);
  body.writeUInt16BE(id.length, 0);
  return dtlsRecord(22, 0, recSeq, dtlsHandshake(16, msgSeq, body));
}

interface Rec {
  type: number;
  epoch: number;
  body: Buffer;
}

function records(d: Buffer): Rec[] {
  const out: Rec[] = [];
  for (let off = 0; off + 13 <= d.length;) {
    const len = d.readUInt16BE(off + 11);
    out.push({ type: d[off]!, epoch: d.readUInt16BE(off + 3), body: d.subarray(off + 13, off + 13 + len) });
    off += 13 + len;
  }
  return out;
}

function handshakeTypes(out: Buffer[]): number[] {
  return out
    .flatMap(records)
    .filter((r) => r.type === 22 && r.epoch === 0)
    .map((r) => r.body[0]!);
}

function cookieOf(out: Buffer[]): Buffer {
  const hvr = out.flatMap(records).find((r) => r.type === 22 && r.body[0] === 3);
  if (!hvr) throw new Error('no HelloVerifyRequest');
  const body = hvr.body.subarray(12);
  return body.subarray(3, 3 + body[2]!);
}

function ctxOptions(over: Partial<NativeContextOptions> = {}): NativeContextOptions {
  return { role: 'server', cipherSuites: ['PSK-AES128-CCM8'], psk: true, cookieSecret: randomBytes(32), ...over };
}

/** Walks a session to the point where the server waits for the client's CKE. */
function toServerHelloDone(s: NativeSession): { hello: FeedResult; flight: FeedResult } {
  const random = randomBytes(32);
  const hello = s.feed(clientHello(random, Buffer.alloc(0), [PSK_CCM8], 0, 0));
  const flight = s.feed(clientHello(random, cookieOf(hello.out), [PSK_CCM8], 1, 1));
  return { hello, flight };
}

const sessions: NativeSession[] = [];
function session(ctx: InstanceType<typeof native.DtlsContext>, label: string, lookup: (id: string) => Buffer | null = () => KEY) {
  const s = ctx.createSession(label, { pskLookup: lookup });
  sessions.push(s);
  return s;
}
afterEach(() => {
  for (const s of sessions.splice(0)) s.free();
});

describe('DtlsContext options', () => {
  test('reports the OpenSSL inside node', () => {
    expect(native.opensslVersion()).toMatch(/^OpenSSL 3\./);
  });

  test('accepts OpenSSL and IANA names, keeps the order, offers no TLS 1.3 suite', () => {
    const ctx = new native.DtlsContext(ctxOptions({ cipherSuites: ['TLS_PSK_WITH_AES_128_CCM_8', 'PSK-AES128-GCM-SHA256'] }));
    expect(ctx.ciphers()).toEqual([
      { name: 'PSK-AES128-CCM8', standardName: 'TLS_PSK_WITH_AES_128_CCM_8', id: 0xc0a8 },
      { name: 'PSK-AES128-GCM-SHA256', standardName: 'TLS_PSK_WITH_AES_128_GCM_SHA256', id: 0x00a8 },
    ]);
  });

  test.each([
    [{ cipherSuites: ['NO-SUCH-CIPHER'] }, /unknown cipher suite.*NO-SUCH-CIPHER/],
    [{ cipherSuites: [] }, /cipherSuites is empty/],
    [{ cookieSecret: Buffer.alloc(4) }, /cookieSecret must be at least 16 bytes/],
    [{ role: 'client' as 'server' }, /role must be 'server'/],
    [{ psk: false }, /neither psk nor certPem/],
    [{ certPem: 'not a pem', keyPem: 'x' }, /certPem holds no certificate/],
    [{ mtu: 10 }, /mtu must be between/],
  ])('rejects bad options %#', (over, message) => {
    expect(() => new native.DtlsContext(ctxOptions(over))).toThrow(message);
  });

  test('createSession needs a configured context; sessions cannot be made directly', () => {
    expect(() => new (native as unknown as { DtlsSession: new (...a: unknown[]) => unknown }).DtlsSession({}, 'x')).toThrow(/createSession/);
  });
});

describe('DtlsSession handshake, by hand', () => {
  test('first ClientHello gets a 16-byte HelloVerifyRequest cookie and nothing else', () => {
    const ctx = new native.DtlsContext(ctxOptions());
    const s = session(ctx, '192.0.2.1:5684');
    const r = s.feed(clientHello(randomBytes(32), Buffer.alloc(0), [PSK_CCM8], 0, 0));
    expect(r.out).toHaveLength(1);
    expect(handshakeTypes(r.out)).toEqual([3]);
    expect(cookieOf(r.out)).toHaveLength(16);
    expect(r.established).toBe(false);
    expect(r.closed).toBe(false);
    expect(r.cookieVerified).toBe(false);
    // a HelloVerifyRequest is stateless: no retransmission timer
    expect(s.timeoutMs()).toBe(-1);
  });

  test('the cookie is bound to the peer: the same address gets the same cookie, another does not', () => {
    const ctx = new native.DtlsContext(ctxOptions());
    const hello = clientHello(randomBytes(32), Buffer.alloc(0), [PSK_CCM8], 0, 0);
    const a1 = cookieOf(session(ctx, '192.0.2.1:5684').feed(hello).out);
    const a2 = cookieOf(session(ctx, '192.0.2.1:5684').feed(hello).out);
    const b = cookieOf(session(ctx, '192.0.2.1:5685').feed(hello).out);
    expect(a1.equals(a2)).toBe(true);
    expect(a1.equals(b)).toBe(false);

    // another peer's cookie fails the handshake, with an alert
    const victim = session(ctx, '192.0.2.1:5685');
    victim.feed(hello);
    const r = victim.feed(clientHello(randomBytes(32), a1, [PSK_CCM8], 1, 1));
    expect(r.closed).toBe(true);
    expect(r.failed).toBe(true);
    expect(r.error).toMatch(/cookie/i);
    expect(r.alerts.some((a) => a.sent && a.level === 'fatal')).toBe(true);
  });

  test('valid cookie: ServerHello and ServerHelloDone, no ServerKeyExchange (no identity hint), retransmission timer armed', () => {
    const ctx = new native.DtlsContext(ctxOptions());
    const s = session(ctx, '192.0.2.1:5684');
    const { flight } = toServerHelloDone(s);
    expect(flight.cookieVerified).toBe(true);
    expect(handshakeTypes(flight.out)).toEqual([2, 14]);
    const serverHello = flight.out
      .flatMap(records)
      .find((r) => r.body[0] === 2)!
      .body.subarray(12);
    // version(2) random(32) session_id(1+n) cipher_suite(2)
    const sidLen = serverHello[34]!;
    expect(serverHello.readUInt16BE(35 + sidLen)).toBe(PSK_CCM8);
    expect(s.info().clientOfferedCiphers).toEqual([PSK_CCM8]);
    // the cookie-less first ClientHello is answered before the ClientHello callback runs
    expect(s.info().clientHelloCount).toBe(1);
    const t = s.timeoutMs();
    expect(t).toBeGreaterThan(0);
    expect(t).toBeLessThanOrEqual(1000);
  });

  test('the flight is retransmitted once the timer runs out (DTLSv1_handle_timeout)', async () => {
    const ctx = new native.DtlsContext(ctxOptions());
    const s = session(ctx, '192.0.2.1:5684');
    const { flight } = toServerHelloDone(s);
    expect(s.handleTimeout().out).toEqual([]); // not due yet
    await new Promise((r) => setTimeout(r, s.timeoutMs() + 20));
    const again = s.handleTimeout();
    expect(again.failed).toBe(false);
    expect(handshakeTypes(again.out)).toEqual(handshakeTypes(flight.out));
    // the timer doubles (RFC 6347 §4.2.4.1)
    expect(s.timeoutMs()).toBeGreaterThan(1000);
  });

  test('PSK callback receives the identity; a wrong key fails at the client Finished with a fatal bad_record_mac', () => {
    const ctx = new native.DtlsContext(ctxOptions());
    const seen: string[] = [];
    const s = session(ctx, '192.0.2.1:5684', (id) => {
      seen.push(id);
      return KEY;
    });
    toServerHelloDone(s);
    const finishedGarbage = dtlsRecord(22, 1, 0, randomBytes(40)); // not encrypted under the real keys
    const r = s.feed(Buffer.concat([pskClientKeyExchange('dev-7', 2, 2), dtlsRecord(20, 0, 3, Buffer.from([1])), finishedGarbage]));
    expect(seen).toEqual(['dev-7']);
    expect(r.established).toBe(false);
    expect(r.closed).toBe(true);
    expect(r.failed).toBe(true);
    expect(r.error).toMatch(/Finished failed authentication/);
    expect(r.alerts).toEqual([{ level: 'fatal', description: 'bad record mac', code: 20, sent: true }]);
    // the alert went out as a plaintext epoch-0 record
    const alert = r.out.flatMap(records).find((x) => x.type === 21)!;
    expect(alert.epoch).toBe(0);
    expect([...alert.body]).toEqual([2, 20]);
    expect(s.info().pskIdentity).toBe('dev-7');
    expect(s.timeoutMs()).toBe(-1);
  });

  test.each([
    ['unknown identity', () => null, /unknown PSK identity 'dev-7'/, 'unknown PSK identity'],
    [
      'a lookup that throws (its message is not repeated)',
      () => {
        throw new Error(`secret ${KEY.toString('hex')}`);
      },
      /pskLookup threw for identity 'dev-7'/,
      'unknown PSK identity',
    ],
    ['a key longer than OpenSSL accepts', () => Buffer.alloc(4096, 1), /unusable length of 4096 bytes/, 'unknown PSK identity'],
  ])('%s: handshake fails cleanly with an alert, nothing thrown', (_name, lookup, error, alert) => {
    const ctx = new native.DtlsContext(ctxOptions());
    const s = session(ctx, '192.0.2.1:5684', lookup as (id: string) => Buffer | null);
    toServerHelloDone(s);
    const r = s.feed(pskClientKeyExchange('dev-7', 2, 2));
    expect(r.failed).toBe(true);
    expect(r.error).toMatch(error);
    expect(r.error).not.toContain(KEY.toString('hex'));
    expect(r.alerts.find((a) => a.sent)?.description).toBe(alert);
    expect(r.out.flatMap(records).some((x) => x.type === 21)).toBe(true);
  });

  test('identities are printed escaped', () => {
    const ctx = new native.DtlsContext(ctxOptions());
    const s = session(ctx, '192.0.2.1:5684', () => null);
    toServerHelloDone(s);
    const r = s.feed(pskClientKeyExchange("a'b\n\u0001", 2, 2));
    expect(r.error).toContain("'a\\x27b\\x0a\\x01'");
  });

  test('no shared cipher suite: handshake_failure, and the offered list is still recorded', () => {
    const ctx = new native.DtlsContext(ctxOptions());
    const s = session(ctx, '192.0.2.1:5684');
    const random = randomBytes(32);
    const hello = s.feed(clientHello(random, Buffer.alloc(0), [0x00ae, 0xc0a9], 0, 0));
    const r = s.feed(clientHello(random, cookieOf(hello.out), [0x00ae, 0xc0a9], 1, 1));
    expect(r.failed).toBe(true);
    expect(r.error).toMatch(/no shared cipher/);
    expect(r.alerts).toEqual([expect.objectContaining({ level: 'fatal', description: 'handshake failure', sent: true })]);
    expect(s.info().clientOfferedCiphers).toEqual([0x00ae, 0xc0a9]);
  });

  test('write before the handshake is refused, not thrown', () => {
    const ctx = new native.DtlsContext(ctxOptions());
    const s = session(ctx, '192.0.2.1:5684');
    expect(s.write(Buffer.from('x'))).toEqual({ out: [], error: 'session is not established' });
  });
});

describe('DtlsSession against malformed input', () => {
  test('random datagrams, truncated and bogus-length records never throw; the session keeps working', () => {
    const ctx = new native.DtlsContext(ctxOptions());
    const s = session(ctx, '192.0.2.1:5684');
    const random = randomBytes(32);
    const hello = clientHello(random, Buffer.alloc(0), [PSK_CCM8], 0, 0);
    const bogusLength = Buffer.from(hello);
    bogusLength.writeUInt16BE(0xfff0, 11);
    const junk = [Buffer.alloc(0), Buffer.from([22]), hello.subarray(0, 20), bogusLength, dtlsRecord(23, 1, 5, randomBytes(30)), ...Array.from({ length: 200 }, () => randomBytes(1 + Math.floor(Math.random() * 300)))];
    for (const d of junk) {
      const r = s.feed(d);
      expect(r.established).toBe(false);
    }
    // nothing in there was a fatal error for the session itself
    expect(s.feed(Buffer.alloc(0)).closed).toBe(false);
    // whatever the junk did, the same peer can still get through the cookie exchange
    const fresh = session(ctx, '192.0.2.1:5684');
    const { flight } = toServerHelloDone(fresh);
    expect(handshakeTypes(flight.out)).toEqual([2, 14]);
  });

  test('a plaintext alert ends a handshake in progress, as DTLS allows before the keys exist', () => {
    const ctx = new native.DtlsContext(ctxOptions());
    const s = session(ctx, '192.0.2.1:5684');
    const r = s.feed(dtlsRecord(21, 0, 9, Buffer.from([2, 40])));
    expect(r).toMatchObject({ closed: true, failed: true, alerts: [{ level: 'fatal', description: 'handshake failure', sent: false }] });
  });

  test('bit-flipped ClientHellos end at worst in a failed session', () => {
    const ctx = new native.DtlsContext(ctxOptions());
    const hello = clientHello(randomBytes(32), Buffer.alloc(0), [PSK_CCM8, 0x00ae], 0, 0);
    for (let i = 0; i < 300; i++) {
      const d = Buffer.from(hello);
      for (let k = 0; k < 3; k++) d[Math.floor(Math.random() * d.length)] ^= 1 << Math.floor(Math.random() * 8);
      const s = session(ctx, `192.0.2.1:${i}`);
      const r = s.feed(d);
      if (r.failed) expect(typeof r.error).toBe('string');
    }
  });

  test('free() is idempotent and a freed session answers inertly', () => {
    const ctx = new native.DtlsContext(ctxOptions());
    const s = ctx.createSession('192.0.2.1:5684', {});
    s.free();
    s.free();
    expect(s.feed(Buffer.from([22, 0xfe, 0xfd])).closed).toBe(true);
    expect(s.timeoutMs()).toBe(-1);
    expect(s.handleTimeout()).toEqual({ out: [], failed: false });
    expect(s.shutdown()).toEqual({ out: [] });
    expect(s.info().cipher).toBeNull();
  });

  test('free() from inside the PSK callback is deferred until feed() returns', () => {
    const ctx = new native.DtlsContext(ctxOptions());
    const s: NativeSession = ctx.createSession('192.0.2.1:5684', {
      pskLookup: () => {
        s.free();
        return KEY;
      },
    });
    toServerHelloDone(s);
    const r = s.feed(pskClientKeyExchange('dev-7', 2, 2));
    expect(r.established).toBe(false);
    expect(s.info().cipher).toBeNull(); // freed now
  });

  test('a re-entrant feed() from a callback is refused inside the callback, and feed() still returns', () => {
    const ctx = new native.DtlsContext(ctxOptions());
    let inner: unknown;
    const s: NativeSession = ctx.createSession('192.0.2.1:5684', {
      pskLookup: () => {
        try {
          s.feed(Buffer.alloc(1));
        } catch (e) {
          inner = e;
        }
        return KEY;
      },
    });
    sessions.push(s);
    toServerHelloDone(s);
    s.feed(pskClientKeyExchange('dev-7', 2, 2));
    expect(String(inner)).toMatch(/re-entrant/);
  });
});
