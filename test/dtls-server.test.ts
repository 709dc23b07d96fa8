/**
 * DtlsServer over real UDP on 127.0.0.1 with node-dtls-client 2.0.3 as the device: the
 * PSK handshake with TLS_PSK_WITH_AES_128_CCM_8, application data both ways, failures that
 * stay contained, the session bookkeeping (re-handshake on the same port, eviction, idle
 * close), and no PSK in anything the server emits.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { dtls } from 'node-dtls-client';
import { hasIpv6Loopback, testIf } from './support/tools.js';
import { DtlsNoSessionError, DtlsServer, type Address, type DtlsHandshakeEvent, type DtlsHandshakeFailedEvent, type DtlsServerEvents, type DtlsServerOptions, type DtlsSessionClosedEvent } from '../harness/dtls/index.js';
import { listenPskServer } from './support/dtls-servers.js';
import { clientHelloBody, dtlsHandshake, dtlsRecord } from './support/dtls-wire.js';

const IDENTITY = 'urn:dev:os:geisa-0001';
const KEY = Buffer.from('3c1f9a0b7e2d4c6f8a1b3d5e7f901234', 'hex');
const WRONG_KEY = Buffer.from('aa55aa55aa55aa55aa55aa55aa55aa55', 'hex');

/** Every event any server in this file emitted, for the no-key-anywhere check. */
const emitted: { event: string; payload: unknown }[] = [];
const servers: DtlsServer[] = [];
const clients: dtls.Socket[] = [];
const sockets: dgram.Socket[] = [];

async function startServer(over: Partial<DtlsServerOptions> = {}): Promise<DtlsServer> {
  const server = await listenPskServer(IDENTITY, KEY, over);
  servers.push(server);
  const events: (keyof DtlsServerEvents)[] = ['record', 'handshake', 'handshake-failed', 'message', 'session-closed', 'dropped', 'error'];
  for (const event of events) server.on(event, (payload: unknown) => emitted.push({ event, payload }));
  return server;
}

function echo(server: DtlsServer): void {
  server.on('message', (m) => server.send(Buffer.concat([Buffer.from('echo:'), m.bytes]), m.remote));
}

function waitFor<K extends keyof DtlsServerEvents>(server: DtlsServer, event: K, ms: number, pred: (...a: DtlsServerEvents[K]) => boolean = () => true): Promise<DtlsServerEvents[K][0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      server.off(event, on as never);
      reject(new Error(`no '${String(event)}' within ${ms} ms`));
    }, ms);
    const on = (...a: DtlsServerEvents[K]) => {
      if (!pred(...a)) return;
      clearTimeout(timer);
      server.off(event, on as never);
      resolve(a[0]);
    };
    server.on(event, on as never);
  });
}

interface ClientOpts {
  key?: Buffer;
  identity?: string;
  listenPort?: number;
}

function newClient(server: DtlsServer, o: ClientOpts = {}): dtls.Socket {
  const options: dtls.Options = {
    type: 'udp4',
    address: '127.0.0.1',
    port: server.local.port,
    psk: { [o.identity ?? IDENTITY]: o.key ?? KEY },
    timeout: 5000,
    ciphers: ['TLS_PSK_WITH_AES_128_CCM_8'],
  };
  if (o.listenPort !== undefined) {
    options.listenPort = o.listenPort;
    options.reuseAddr = true;
  }
  const c = dtls.createSocket(options);
  clients.push(c);
  return c;
}

function connected(c: dtls.Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    c.once('connected', () => resolve());
    c.once('error', reject);
  });
}

function clientError(c: dtls.Socket, ms: number): Promise<Error> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`client did not fail within ${ms} ms`)), ms);
    c.once('error', (e: Error) => {
      clearTimeout(t);
      resolve(e);
    });
    c.once('connected', () => reject(new Error('client connected although it should not')));
  });
}

function roundTrip(c: dtls.Socket, payload: string, ms = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no reply to '${payload}' within ${ms} ms`)), ms);
    c.once('message', (m: Buffer) => {
      clearTimeout(t);
      resolve(m.toString());
    });
    c.send(Buffer.from(payload));
  });
}

async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function rawSocket(bindPort = 0, reuseAddr = false): Promise<dgram.Socket> {
  const s = dgram.createSocket({ type: 'udp4', reuseAddr });
  sockets.push(s);
  await new Promise<void>((r) => s.bind(bindPort, bindPort === 0 ? '127.0.0.1' : undefined, () => r()));
  return s;
}

function sendRaw(s: dgram.Socket, to: Address, bytes: Buffer): Promise<void> {
  return new Promise((resolve, reject) => s.send(bytes, to.port, to.address, (e) => (e ? reject(e) : resolve())));
}

/** A syntactically valid first ClientHello (PSK CCM_8 only, no cookie), its record version DTLS 1.0 (0xfeff) as many clients send a first flight. */
function clientHello(): Buffer {
  const rec = dtlsRecord(22, 0, 0, dtlsHandshake(1, 0, clientHelloBody(randomBytes(32), Buffer.alloc(0), [0xc0a8])));
  rec[2] = 0xff;
  return rec;
}

afterEach(async () => {
  for (const c of clients.splice(0)) {
    try {
      // no close_notify: the servers are closed below anyway
      (c as unknown as { udp: dgram.Socket }).udp.close();
    } catch {
      // already closed
    }
  }
  for (const s of sockets.splice(0)) {
    try {
      s.close();
    } catch {
      // already closed
    }
  }
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('DtlsServer with node-dtls-client 2.0.3 (PSK, TLS_PSK_WITH_AES_128_CCM_8)', () => {
  test('handshake completes: CCM_8 (0xC0A8), the client identity, application data both ways', async () => {
    const server = await startServer();
    echo(server);
    const records: { direction: string; first: number; monoNs: bigint }[] = [];
    server.on('record', (r) => records.push({ direction: r.direction, first: r.bytes[0]!, monoNs: r.monoNs }));
    const hs = waitFor(server, 'handshake', 5000);
    const c = newClient(server);
    await connected(c);
    const e: DtlsHandshakeEvent = await hs;
    expect(e.cipherId).toBe(0xc0a8);
    expect(e.cipher).toBe('PSK-AES128-CCM8');
    expect(e.cipherStandardName).toBe('TLS_PSK_WITH_AES_128_CCM_8');
    expect(e.version).toBe('DTLSv1.2');
    expect(e.pskIdentity).toBe(IDENTITY);
    expect(e.clientOfferedCiphers).toEqual([0xc0a8]);
    expect(e.peerCertChainDer).toEqual([]);
    expect(e.remote.address).toBe('127.0.0.1');
    expect(e.local).toEqual(server.local);
    expect(e.durationMs).toBeGreaterThan(0);
    expect(server.isEstablished(e.remote)).toBe(true);

    expect(await roundTrip(c, 'ping')).toBe('echo:ping');
    // the server speaks first too
    const unsolicited = new Promise<string>((r) => c.once('message', (m: Buffer) => r(m.toString())));
    server.send(Buffer.from('from-server'), e.remote);
    expect(await unsolicited).toBe('from-server');

    // raw datagrams both ways, timestamped in order; handshake (22) first, app data (23) later
    expect(records[0]).toMatchObject({ direction: 'in', first: 22 });
    expect(records.some((r) => r.direction === 'out' && r.first === 23)).toBe(true);
    expect(records.some((r) => r.direction === 'in' && r.first === 23)).toBe(true);
    for (let i = 1; i < records.length; i++) expect(records[i]!.monoNs).toBeGreaterThanOrEqual(records[i - 1]!.monoNs);
  });

  // Some containers have no ::1; there is nothing to test then.
  testIf(hasIpv6Loopback(), 'no IPv6 loopback on this machine')('IPv6: a udp6 socket, peers labelled [addr]:port', async () => {
    const server = await startServer({ address: '::1' });
    echo(server);
    const c = dtls.createSocket({ type: 'udp6', address: '::1', port: server.local.port, psk: { [IDENTITY]: KEY }, timeout: 5000, ciphers: ['TLS_PSK_WITH_AES_128_CCM_8'] });
    clients.push(c);
    const hs = waitFor(server, 'handshake', 5000);
    await connected(c);
    expect((await hs).remote.address).toBe('::1');
    expect(await roundTrip(c, 'v6')).toBe('echo:v6');
  });

  test('send() to a peer without a session throws DtlsNoSessionError', async () => {
    const server = await startServer();
    expect(() => server.send(Buffer.from('x'), { address: '127.0.0.1', port: 9 })).toThrow(DtlsNoSessionError);
  });

  test('wrong key: the handshake fails cleanly (fatal alert both sides) and a correct client is served next', async () => {
    const server = await startServer();
    echo(server);
    const failed = waitFor(server, 'handshake-failed', 5000);
    const bad = newClient(server, { key: WRONG_KEY });
    const clientErr = await clientError(bad, 5000);
    expect(clientErr.message).toMatch(/bad_record_mac/);
    const f: DtlsHandshakeFailedEvent = await failed;
    expect(f.error).toMatch(/Finished failed authentication/);
    expect(f.pskIdentity).toBe(IDENTITY);
    expect(f.alerts).toContainEqual({ level: 'fatal', description: 'bad record mac', code: 20, sent: true });
    expect(f.clientOfferedCiphers).toEqual([0xc0a8]);
    expect(server.peers()).toEqual([]);

    const good = newClient(server);
    await connected(good);
    expect(await roundTrip(good, 'after')).toBe('echo:after');
  });

  test('unknown identity: unknown_psk_identity alert, handshake-failed names the identity', async () => {
    const server = await startServer();
    const failed = waitFor(server, 'handshake-failed', 5000);
    const c = newClient(server, { identity: 'stranger' });
    const err = await clientError(c, 5000);
    expect(err.message).toMatch(/unknown_psk_identity/);
    const f = await failed;
    expect(f.error).toMatch(/unknown PSK identity 'stranger'/);
    expect(f.pskIdentity).toBe('stranger');
    expect(f.alerts).toContainEqual(expect.objectContaining({ level: 'fatal', description: 'unknown PSK identity', sent: true }));
  });

  test('malformed datagrams crash nothing; an established session is unaffected', async () => {
    const server = await startServer();
    echo(server);
    const port = await freePort();
    const c = newClient(server, { listenPort: port });
    await connected(c);
    expect(await roundTrip(c, 'before')).toBe('echo:before');
    const dropped: string[] = [];
    server.on('dropped', (d) => dropped.push(d.reason));

    const hello = clientHello();
    const truncated = hello.subarray(0, 30);
    const bogusLength = Buffer.from(hello);
    bogusLength.writeUInt16BE(0xfff0, 11);
    const appRecordBogus = Buffer.from([23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 9, 0x40, 0x00, 1, 2, 3]);
    // epoch 0 is over for this peer: a plaintext fatal alert must be ignored
    const plainAlert = Buffer.from([21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 50, 0, 2, 2, 40]);
    const junk = [randomBytes(1), randomBytes(13), randomBytes(200), truncated, bogusLength, appRecordBogus, plainAlert, Buffer.alloc(0)];

    // from a stranger
    const stranger = await rawSocket();
    for (const d of junk) await sendRaw(stranger, server.local, d);
    // from the established peer's own address:port (a second socket on the same port)
    const spoof = await rawSocket(port, true);
    for (const d of junk) await sendRaw(spoof, server.local, d);
    await new Promise((r) => setTimeout(r, 100));
    spoof.close();
    sockets.splice(sockets.indexOf(spoof), 1);

    expect(dropped.length).toBeGreaterThan(0);
    expect(await roundTrip(c, 'after')).toBe('echo:after');
    const established = server.peers().filter((p) => p.state === 'established');
    expect(established).toHaveLength(1);
    expect(established[0]!.remote.port).toBe(port);
  });

  test('handshake datagrams are retransmitted on the timer, and a stalled handshake fails at its deadline', async () => {
    const server = await startServer({ handshakeTimeoutMs: 2500 });
    const raw = await rawSocket();
    const out: Buffer[] = [];
    server.on('record', (r) => {
      if (r.direction === 'out') out.push(r.bytes);
    });
    const failed = waitFor(server, 'handshake-failed', 5000);
    // first ClientHello, then the second with the cookie from the HelloVerifyRequest
    const hello = clientHello();
    const hvr = new Promise<Buffer>((r) => raw.once('message', (m) => r(m)));
    await sendRaw(raw, server.local, hello);
    const h = await hvr;
    const cookie = h.subarray(13 + 12 + 3, 13 + 12 + 3 + h[13 + 12 + 2]!);
    // The same random, the cookie added: message_seq 1 in record 1.
    const random = hello.subarray(13 + 12 + 2, 13 + 12 + 2 + 32);
    await sendRaw(raw, server.local, dtlsRecord(22, 0, 1, dtlsHandshake(1, 1, clientHelloBody(random, cookie, [0xc0a8]))));
    const f = await failed;
    expect(f.error).toMatch(/not completed within 2500 ms/);
    // HelloVerifyRequest, the ServerHello flight, and at least one retransmission of it
    expect(out.length).toBeGreaterThanOrEqual(3);
    // same handshake messages again (record sequence numbers differ)
    const messages = (d: Buffer) => {
      const m: string[] = [];
      for (let off = 0; off + 13 <= d.length; off += 13 + d.readUInt16BE(off + 11)) {
        m.push(d.subarray(off + 13, off + 13 + d.readUInt16BE(off + 11)).toString('hex'));
      }
      return m;
    };
    const flight = messages(out[1]!);
    expect(out.slice(2).flatMap(messages).slice(0, flight.length)).toEqual(flight);
  });

  test('a rebooted client on the same port gets a new session once it returns a cookie', async () => {
    const server = await startServer();
    echo(server);
    const port = await freePort();
    const first = newClient(server, { listenPort: port });
    await connected(first);
    // the device vanishes without close_notify
    (first as unknown as { udp: dgram.Socket }).udp.close();
    await new Promise((r) => setTimeout(r, 50));

    const closed = waitFor(server, 'session-closed', 5000);
    const hs = waitFor(server, 'handshake', 5000);
    const second = newClient(server, { listenPort: port });
    await connected(second);
    const c: DtlsSessionClosedEvent = await closed;
    expect(c.reason).toBe('replaced');
    expect((await hs).remote.port).toBe(port);
    expect(await roundTrip(second, 'again')).toBe('echo:again');
    expect(server.peers()).toHaveLength(1);
  });

  test('sessions are bounded: the least recently active one is evicted', async () => {
    const server = await startServer({ maxSessions: 2 });
    const failed: DtlsHandshakeFailedEvent[] = [];
    server.on('handshake-failed', (f) => failed.push(f));
    const a = await rawSocket();
    const b = await rawSocket();
    const c = await rawSocket();
    await sendRaw(a, server.local, clientHello());
    await new Promise((r) => setTimeout(r, 20));
    await sendRaw(b, server.local, clientHello());
    await new Promise((r) => setTimeout(r, 20));
    await sendRaw(c, server.local, clientHello());
    await new Promise((r) => setTimeout(r, 100));
    expect(
      server
        .peers()
        .map((p) => p.remote.port)
        .sort(),
    ).toEqual([b.address().port, c.address().port].sort());
    expect(failed).toHaveLength(1);
    expect(failed[0]!.remote.port).toBe(a.address().port);
    expect(failed[0]!.error).toMatch(/evicted/);
  });

  test('a flood of ClientHellos from new ports evicts unfinished handshakes, never an established session', async () => {
    const server = await startServer({ maxSessions: 4 });
    echo(server);
    const c = newClient(server);
    await connected(c);
    const flood = 20;
    let evicted = 0;
    const allEvicted = new Promise<void>((resolve) =>
      server.on('handshake-failed', (f) => {
        if (/evicted/.test(f.error) && ++evicted === flood - 3) resolve();
      }),
    );
    let closed = false;
    server.on('session-closed', () => (closed = true));
    for (let i = 0; i < flood; i++) await sendRaw(await rawSocket(), server.local, clientHello());
    await Promise.race([allEvicted, new Promise((_r, reject) => setTimeout(() => reject(new Error(`only ${evicted} evictions`)), 5000))]);
    expect(closed).toBe(false);
    expect(server.peers().filter((p) => p.state === 'established')).toHaveLength(1);
    expect(server.peers()).toHaveLength(4);
    expect(await roundTrip(c, 'still-here')).toBe('echo:still-here');
  });

  test('a peer sending too much before the handshake completes loses its session', async () => {
    const server = await startServer({ maxHandshakeBytes: 200 });
    const raw = await rawSocket();
    const failed = waitFor(server, 'handshake-failed', 3000);
    for (let i = 0; i < 4; i++) await sendRaw(raw, server.local, clientHello());
    expect((await failed).error).toMatch(/more than 200 bytes/);
  });

  test('an idle session is closed with close_notify', async () => {
    const server = await startServer({ idleTimeoutMs: 300 });
    const c = newClient(server);
    await connected(c);
    const clientClosed = new Promise<void>((r) => c.once('close', () => r()));
    const closed = await waitFor(server, 'session-closed', 3000);
    expect(closed.reason).toBe('idle');
    await clientClosed;
  });

  test('close() sends close_notify to established peers', async () => {
    const server = await startServer();
    const c = newClient(server);
    await connected(c);
    const out: Buffer[] = [];
    server.on('record', (r) => r.direction === 'out' && out.push(r.bytes));
    const clientClosed = new Promise<void>((r) => c.once('close', () => r()));
    const closed = waitFor(server, 'session-closed', 3000);
    await server.close();
    expect((await closed).reason).toBe('server-close');
    expect(out.some((d) => d[0] === 21)).toBe(true);
    await clientClosed;
  });

  test('keylog lines are handed over only when asked for', async () => {
    const lines: string[] = [];
    const server = await startServer({ keylog: (line) => lines.push(line) });
    await connected(newClient(server));
    expect(lines.some((l) => /^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}$/.test(l))).toBe(true);
  });

  test('no PSK appears in anything any server in this file emitted', () => {
    expect(emitted.some((e) => e.event === 'handshake')).toBe(true);
    expect(emitted.some((e) => e.event === 'handshake-failed')).toBe(true);
    const text = JSON.stringify(emitted, (_k, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer') return Buffer.from((v as { data: number[] }).data).toString('hex');
      return v;
    });
    for (const key of [KEY, WRONG_KEY]) {
      expect(text).not.toContain(key.toString('hex'));
      expect(text).not.toContain(key.toString('base64'));
    }
  });
});
