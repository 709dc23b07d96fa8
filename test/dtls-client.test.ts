/**
 * DtlsClient (the harness as a DTLS 1.2 client) over real UDP on 127.0.0.1: against the
 * harness's own DtlsServer in PSK (CCM_8) and certificate mode (ECDHE-ECDSA-AES128-CCM8,
 * mutual), the server-certificate checks (PKIX, names, expiry, LwM2M Certificate Usage
 * 0-3), malformed datagrams, bounded waits, and no key anywhere it speaks. The libcoap
 * servers (OpenSSL and GnuTLS builds) are an independent peer for both modes.
 *
 * The PKI is made here by the openssl tool; the certificate tests are skipped without it,
 * the libcoap tests without libcoap3-bin.
 */
import { X509Certificate, randomBytes } from 'node:crypto';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DtlsClient, DtlsClientHandshakeError, DtlsServer, loadNative, type Address, type DtlsClientEvents, type DtlsClientOptions, type DtlsHandshakeEvent, type DtlsServerEvents, type DtlsServerOptions } from '../harness/dtls/index.js';

import { hasIpv6Loopback, testIf, describeIf, onPath } from './support/tools.js';
import { listenPskServer } from './support/dtls-servers.js';

const HAVE_OPENSSL = onPath('openssl');
const COAP_SERVERS = ['coap-server-openssl', 'coap-server-gnutls'].filter(onPath);
const NO_OPENSSL = 'no openssl on PATH to make the test PKI';
const NO_COAP_SERVER = 'neither coap-server-openssl nor coap-server-gnutls (Debian libcoap3-bin)';

const IDENTITY = 'urn:dev:os:geisa-client-0001';
const KEY = Buffer.from('5b2e8c1d9f0a4b3c6d7e8f9012a3b4c5', 'hex');
const WRONG_KEY = Buffer.from('0f1e2d3c4b5a69788796a5b4c3d2e1f0', 'hex');

// ---- bookkeeping: everything is closed after each test, and everything emitted is kept ----

/** Every event and error any client in this file produced, for the no-secret check. */
const emitted: { what: string; payload: unknown }[] = [];
const servers: DtlsServer[] = [];
const clients: DtlsClient[] = [];
const sockets: dgram.Socket[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
  for (const s of sockets.splice(0)) {
    try {
      s.close();
    } catch {
      // already closed
    }
  }
  await Promise.all(children.splice(0).map(stopChild));
});

function watch(c: DtlsClient): DtlsClient {
  const events: (keyof DtlsClientEvents)[] = ['record', 'message', 'close', 'dropped', 'error'];
  for (const event of events) c.on(event, (payload: unknown) => emitted.push({ what: event, payload }));
  return c;
}

/** connect() with the client registered for cleanup and watched; errors are kept too. */
async function connect(options: DtlsClientOptions): Promise<DtlsClient> {
  const onRecord = options.onRecord;
  const c = await DtlsClient.connect({
    handshakeTimeoutMs: 8000,
    ...options,
    onRecord: (r) => {
      emitted.push({ what: 'handshake-record', payload: r });
      onRecord?.(r);
    },
  }).catch((e: unknown) => {
    emitted.push({ what: 'connect-error', payload: e });
    throw e;
  });
  clients.push(c);
  return watch(c);
}

async function connectFails(options: DtlsClientOptions): Promise<DtlsClientHandshakeError> {
  try {
    const c = await connect(options);
    throw new Error(`handshake unexpectedly succeeded (${c.info().cipher})`);
  } catch (e) {
    if (!(e instanceof DtlsClientHandshakeError)) throw e;
    return e;
  }
}

async function startServer(over: Partial<DtlsServerOptions> = {}): Promise<DtlsServer> {
  const server = await listenPskServer(IDENTITY, KEY, over);
  servers.push(server);
  server.on('message', (m) => server.send(Buffer.concat([Buffer.from('echo:'), m.bytes]), m.remote));
  return server;
}

function once<T>(emitter: { once(e: string, f: (v: T) => void): unknown; off(e: string, f: (v: T) => void): unknown }, event: string, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const on = (v: T) => {
      clearTimeout(timer);
      resolve(v);
    };
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`no '${event}' within ${ms} ms`));
    }, ms);
    emitter.once(event, on);
  });
}

const serverEvent = <K extends keyof DtlsServerEvents>(s: DtlsServer, e: K, ms = 5000) => once<DtlsServerEvents[K][0]>(s as never, e, ms);
const clientEvent = <K extends keyof DtlsClientEvents>(c: DtlsClient, e: K, ms = 5000) => once<DtlsClientEvents[K][0]>(c as never, e, ms);

async function roundTrip(c: DtlsClient, text: string): Promise<string> {
  const reply = clientEvent(c, 'message');
  c.send(Buffer.from(text));
  return (await reply).bytes.toString();
}

/** A PSK handshake with this file's identity and key toward 127.0.0.1:`port`; `over` changes any option. */
const pskTo = (port: number, over: Partial<DtlsClientOptions> = {}): DtlsClientOptions => ({ remote: { address: '127.0.0.1', port }, cipherSuites: ['PSK-AES128-CCM8'], psk: { identity: IDENTITY, key: KEY }, ...over });
const local = (s: DtlsServer): Address => ({ address: '127.0.0.1', port: s.local.port });

/** A plain UDP socket on 127.0.0.1 the test drives by hand (fake servers, relays). */
async function udp(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  sockets.push(s);
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}

/**
 * A UDP relay in front of a server on 127.0.0.1: the client talks to `front`; datagrams
 * can be dropped on the way or slipped in "from the server" (inject).
 */
async function relay(serverPort: number): Promise<{
  front: number;
  dropNext: (way: 'toClient' | 'toServer', n: number) => void;
  inject: (d: Buffer) => void;
}> {
  const front = await udp();
  const back = await udp();
  await new Promise<void>((r) => back.connect(serverPort, '127.0.0.1', () => r()));
  let client: dgram.RemoteInfo | undefined;
  const drops = { toClient: 0, toServer: 0 };
  front.on('message', (d, rinfo) => {
    client = rinfo;
    if (drops.toServer > 0) drops.toServer--;
    else back.send(d);
  });
  back.on('message', (d) => {
    if (drops.toClient > 0) drops.toClient--;
    else if (client) front.send(d, client.port, client.address);
  });
  return {
    front: front.address().port,
    dropNext: (way, n) => (drops[way] = n),
    inject: (d) => {
      if (client) front.send(d, client.port, client.address);
    },
  };
}

// ---- the PKI ----

let dir = '';
const pem = (name: string) => readFileSync(join(dir, name), 'utf8');
const fingerprint = (der: Buffer | string) => new X509Certificate(der).fingerprint256;

beforeAll(() => {
  if (!HAVE_OPENSSL) return;
  dir = mkdtempSync(join(tmpdir(), 'geisa-dtls-client-pki-'));
  const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  for (const ca of ['ca', 'other-ca']) {
    ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${ca}.key`);
    ossl('req', '-x509', '-new', '-key', `${ca}.key`, '-subj', `/CN=GEISA client-test ${ca}`, '-days', '2', '-out', `${ca}.pem`);
  }
  writeFileSync(join(dir, 'server.ext'), 'basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\nkeyUsage=digitalSignature\n');
  writeFileSync(join(dir, 'client.ext'), 'basicConstraints=CA:FALSE\nsubjectAltName=URI:urn:dev:os:geisa-client-0001\nkeyUsage=digitalSignature\n');
  const leaf = (name: string, ca: string, ext: string, days = '2') => {
    ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`);
    ossl('req', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-out', `${name}.csr`);
    ossl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', days, '-out', `${name}.pem`, '-extfile', ext);
  };
  leaf('server', 'ca', 'server.ext');
  leaf('server2', 'ca', 'server.ext'); // same CA, same names, another key: not "the" server
  leaf('client', 'ca', 'client.ext');
  leaf('stranger', 'other-ca', 'server.ext');
  leaf('expired', 'ca', 'server.ext', '-1'); // notAfter before notBefore: expired from the start
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const certServer = (name = 'server', over: Partial<DtlsServerOptions> = {}) =>
  startServer({
    cipherSuites: ['ECDHE-ECDSA-AES128-CCM8'],
    pskLookup: undefined,
    certPem: pem(`${name}.pem`),
    keyPem: pem(`${name}.key`),
    caPem: pem('ca.pem'),
    requestClientCert: true,
    ...over,
  });

/** Our client certificate toward 127.0.0.1:`port`, trusting the test CA; `over` changes any option. */
const certClient = (port: number, over: Partial<DtlsClientOptions> = {}): DtlsClientOptions => ({
  remote: { address: '127.0.0.1', port },
  cipherSuites: ['ECDHE-ECDSA-AES128-CCM8'],
  certPem: pem('client.pem'),
  keyPem: pem('client.key'),
  caPem: pem('ca.pem'),
  ...over,
});

// ---- PSK against the harness's own server ----

describe('PSK (TLS_PSK_WITH_AES_128_CCM_8) against DtlsServer', () => {
  test('handshake, application data both ways, records seen, close_notify', async () => {
    const server = await startServer();
    const hs = serverEvent(server, 'handshake');
    const c = await connect(pskTo(server.local.port));
    const e: DtlsHandshakeEvent = await hs;
    expect(e.pskIdentity).toBe(IDENTITY);
    expect(e.cipherId).toBe(0xc0a8);
    expect(e.remote).toEqual(c.local);
    expect(e.clientOfferedCiphers).toEqual([0xc0a8, 0x00ff]); // plus the renegotiation SCSV

    const info = c.info();
    expect(info).toMatchObject({
      role: 'client',
      established: true,
      version: 'DTLSv1.2',
      cipher: 'PSK-AES128-CCM8',
      cipherStandardName: 'TLS_PSK_WITH_AES_128_CCM_8',
      cipherId: 0xc0a8,
      pskIdentity: IDENTITY,
      pskIdentityHint: null,
      peerCertChainDer: [],
    });
    expect(c.local.address).toBe('127.0.0.1');
    expect(c.local.port).toBeGreaterThan(0);

    const records: { direction: string; monoNs: bigint }[] = [];
    c.on('record', (r) => records.push(r));
    const messages: { monoNs: bigint; remote: Address }[] = [];
    c.on('message', (m) => messages.push(m));
    expect(await roundTrip(c, 'hello')).toBe('echo:hello');
    expect(await roundTrip(c, 'again')).toBe('echo:again');
    expect(records.filter((r) => r.direction === 'out')).toHaveLength(2);
    expect(records.filter((r) => r.direction === 'in')).toHaveLength(2);
    expect(typeof messages[0]!.monoNs).toBe('bigint');
    expect(messages[0]!.remote).toEqual(local(server));

    const closed = serverEvent(server, 'session-closed');
    await c.close();
    expect((await closed).reason).toBe('peer-close-notify');
    expect(c.closed).toBe(true);
    expect(() => c.send(Buffer.from('late'))).toThrow(/no established DTLS session/);
    expect(c.info().cipher).toBe('PSK-AES128-CCM8'); // kept from before the close
  });

  test('the server closing is seen as a close event', async () => {
    const server = await startServer();
    const c = await connect(pskTo(server.local.port));
    const closed = clientEvent(c, 'close');
    await server.close();
    expect(await closed).toMatchObject({ reason: 'peer-close-notify' });
    expect(c.closed).toBe(true);
  });

  test('a wrong key fails at once with the server’s bad_record_mac, the key named nowhere', async () => {
    const server = await startServer();
    const started = Date.now();
    const e = await connectFails({ remote: local(server), cipherSuites: ['PSK-AES128-CCM8'], psk: { identity: IDENTITY, key: WRONG_KEY } });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(e.message).toMatch(/DTLS handshake with 127\.0\.0\.1:\d+ failed: .*bad record mac/);
    expect(e.alerts).toContainEqual(expect.objectContaining({ level: 'fatal', description: 'bad record mac', sent: false }));
    expect(e.message).not.toContain(WRONG_KEY.toString('hex'));
  });

  test('an unknown identity: unknown_psk_identity from the server', async () => {
    const server = await startServer();
    const e = await connectFails({ remote: local(server), cipherSuites: ['PSK-AES128-CCM8'], psk: { identity: 'nobody', key: KEY } });
    expect(e.message).toMatch(/unknown psk identity/i);
    expect(e.alerts).toContainEqual(expect.objectContaining({ description: 'unknown PSK identity', sent: false }));
  });

  test('no shared suite: handshake_failure from the server', async () => {
    const server = await startServer();
    const e = await connectFails({ remote: local(server), cipherSuites: ['PSK-AES128-GCM-SHA256'], psk: { identity: IDENTITY, key: KEY } });
    expect(e.message).toMatch(/handshake failure/);
  });

  test('a silent server: the handshake times out within its bound, saying where it stopped', async () => {
    const silent = await udp();
    const seen: Buffer[] = [];
    silent.on('message', (d) => seen.push(d));
    const started = Date.now();
    const e = await connectFails(pskTo(silent.address().port, { handshakeTimeoutMs: 1500 }));
    expect(Date.now() - started).toBeLessThan(3000);
    expect(e.message).toMatch(/not completed within 1500 ms \(OpenSSL state: .*no usable answer from the server/);
    // the ClientHello was retransmitted once the first 1 s timer ran out (RFC 6347 §4.2.4)
    expect(seen.length).toBeGreaterThanOrEqual(2);
  });

  test('nobody listening: still bounded, and the ICMP refusal is named', async () => {
    const gone = await udp();
    const port = gone.address().port;
    gone.close();
    sockets.splice(sockets.indexOf(gone), 1);
    const e = await connectFails(pskTo(port, { handshakeTimeoutMs: 1500 }));
    expect(e.message).toMatch(/not completed within 1500 ms.*ECONNREFUSED/);
  });

  test('a lost server flight is recovered by the client’s retransmission timer', async () => {
    const server = await startServer();
    const { front, dropNext } = await relay(server.local.port);
    dropNext('toClient', 1); // the HelloVerifyRequest
    const started = Date.now();
    const c = await connect(pskTo(front));
    // the first retransmission is due after 1 s (RFC 6347 §4.2.4.1)
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(await roundTrip(c, 'after a loss')).toBe('echo:after a loss');
  });

  test('keylog lines are handed to the callback only', async () => {
    const server = await startServer();
    const lines: string[] = [];
    const c = await connect(pskTo(server.local.port, { keylog: (l) => lines.push(l) }));
    expect(lines.some((l) => l.startsWith('CLIENT_RANDOM '))).toBe(true);
    await roundTrip(c, 'x');
  });

  test('a datagram too large for one record is refused by send(), the session survives', async () => {
    const server = await startServer();
    const c = await connect(pskTo(server.local.port));
    expect(() => c.send(Buffer.alloc(20_000))).toThrow(/DTLS write to 127\.0\.0\.1:\d+ failed/);
    expect(await roundTrip(c, 'small')).toBe('echo:small');
  });

  testIf(hasIpv6Loopback(), 'no IPv6 loopback on this machine')('over IPv6 (::1)', async () => {
    const server = await startServer({ address: '::1' });
    const c = await connect({ remote: { address: '::1', port: server.local.port }, cipherSuites: ['PSK-AES128-CCM8'], psk: { identity: IDENTITY, key: KEY } });
    expect(c.local.address).toBe('::1');
    expect(c.info().label).toBe(`[::1]:${server.local.port}`);
    expect(await roundTrip(c, 'v6')).toBe('echo:v6');
  });

  test('an AbortSignal abandons the handshake: connect() rejects at once, the socket is freed', async () => {
    const silent = await udp();
    const ac = new AbortController();
    silent.once('message', () => ac.abort());
    const started = Date.now();
    const e = await connectFails(pskTo(silent.address().port, { signal: ac.signal }));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(e.message).toMatch(/aborted by the caller/);
  });
});

// ---- certificates against the harness's own server ----

describeIf(HAVE_OPENSSL, NO_OPENSSL)('certificates (ECDHE-ECDSA-AES128-CCM8) against DtlsServer', () => {
  test('mutual authentication: each side reports the other’s chain and verify result 0', async () => {
    const server = await certServer();
    const hs = serverEvent(server, 'handshake');
    const c = await connect(certClient(server.local.port, { expectedServerName: '127.0.0.1' }));
    const e = await hs;
    expect(e.cipher).toBe('ECDHE-ECDSA-AES128-CCM8');
    expect(e.cipherId).toBe(0xc0ae);
    expect(e.pskIdentity).toBeNull();
    expect(fingerprint(e.peerCertChainDer[0]!)).toBe(fingerprint(pem('client.pem')));
    expect(e.verifyResult).toBe(0);

    const info = c.info();
    expect(info.cipher).toBe('ECDHE-ECDSA-AES128-CCM8');
    expect(info.cipherStandardName).toBe('TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8');
    expect(info.cipherId).toBe(0xc0ae);
    expect(info.verifyResult).toBe(0);
    expect(info.verifyResultText).toBe('ok');
    expect(info.dane).toBeNull();
    expect(fingerprint(info.peerCertChainDer[0]!)).toBe(fingerprint(pem('server.pem')));
    expect(await roundTrip(c, 'cert mode')).toBe('echo:cert mode');
  });

  test('a small MTU: our Certificate flight goes out in fragments the server reassembles', async () => {
    const server = await certServer();
    const out: Buffer[] = [];
    const c = await connect({ ...certClient(server.local.port), mtu: 256, onRecord: (r) => r.direction === 'out' && out.push(r.bytes) });
    expect(await roundTrip(c, 'fragmented')).toBe('echo:fragmented');
    expect(c.info().verifyResult).toBe(0);
    expect(Math.max(...out.map((d) => d.length))).toBeLessThanOrEqual(256);
    // the client Certificate (type 11) took more than one fragment
    const certFragments = out.filter((d) => d[0] === 22 && d.readUInt16BE(3) === 0 && d[13] === 11);
    expect(certFragments.length).toBeGreaterThan(1);
  });

  test('the server demanding a valid client certificate: ours passes', async () => {
    const server = await certServer('server', { requireValidClientCert: true });
    const c = await connect(certClient(server.local.port));
    expect(await roundTrip(c, 'x')).toBe('echo:x');
  });

  test('no client certificate, the server demanding one: the server’s alert is in the error', async () => {
    const server = await certServer('server', { requireValidClientCert: true });
    const e = await connectFails(certClient(server.local.port, { certPem: undefined, keyPem: undefined }));
    expect(e.alerts.some((a) => !a.sent && a.level === 'fatal')).toBe(true);
    expect(e.message).toMatch(/alert from the server: fatal/);
  });

  test('a server certificate from another CA fails with the verify result, the client sends unknown_ca', async () => {
    const server = await certServer('stranger');
    const failed = serverEvent(server, 'handshake-failed');
    const e = await connectFails(certClient(server.local.port));
    expect(e.verifyResult).toBe(20);
    expect(e.verifyResultText).toBe('unable to get local issuer certificate');
    expect(e.message).toMatch(/server certificate verification failed: unable to get local issuer certificate \(X509 error 20 at depth 0\)/);
    expect(e.alerts).toContainEqual(expect.objectContaining({ level: 'fatal', description: 'unknown CA', sent: true }));
    expect(fingerprint(e.peerCertChainDer[0]!)).toBe(fingerprint(pem('stranger.pem')));
    expect((await failed).alerts).toContainEqual(expect.objectContaining({ description: 'unknown CA', sent: false }));
  });

  test('an expired server certificate fails with certificate_expired', async () => {
    const server = await certServer('expired');
    const e = await connectFails(certClient(server.local.port));
    expect(e.verifyResult).toBe(10);
    expect(e.message).toMatch(/certificate has expired/);
    expect(e.alerts).toContainEqual(expect.objectContaining({ description: 'certificate expired', sent: true }));
  });

  test.each([
    ['127.0.0.1', null],
    ['localhost', null],
    ['127.0.0.2', 64],
    ['::1', 64],
    ['lwm2m.example.com', 62],
  ])('expectedServerName %s against SAN IP:127.0.0.1,DNS:localhost', async (name, error) => {
    const server = await certServer();
    if (error === null) {
      const c = await connect(certClient(server.local.port, { expectedServerName: name }));
      expect(c.info().verifyResult).toBe(0);
    } else {
      const e = await connectFails(certClient(server.local.port, { expectedServerName: name }));
      expect(e.verifyResult).toBe(error);
      expect(e.message).toMatch(error === 62 ? /hostname mismatch/ : /IP address mismatch/);
    }
  });

  test('verifyServer none: an untrusted server is let through, and what verification said is reported', async () => {
    const server = await certServer('stranger');
    const c = await connect(certClient(server.local.port, { verifyServer: 'none' }));
    expect(c.info().verifyResult).toBe(20);
    expect(await roundTrip(c, 'x')).toBe('echo:x');
  });

  test('SNI is sent only when asked for', async () => {
    const server = await certServer();
    const offered: number[][] = [];
    server.on('handshake', (e) => offered.push(e.clientOfferedExtensions));
    await connect(certClient(server.local.port));
    await connect(certClient(server.local.port, { sni: 'lwm2m.example.com' }));
    expect(offered[0]).not.toContain(0); // server_name
    expect(offered[1]).toContain(0);
  });

  test('a client certificate chain with the key of another certificate is refused up front, the key not quoted', async () => {
    const server = await certServer();
    const p = connect(certClient(server.local.port, { keyPem: pem('server.key') }));
    await expect(p).rejects.toThrow(/keyPem does not match certPem/);
    const msg = String(await p.catch((e: unknown) => e));
    expect(msg).not.toContain(pem('server.key').split('\n')[1]);
  });
});

// ---- LwM2M Certificate Usage ----

describeIf(HAVE_OPENSSL, NO_OPENSSL)('LwM2M Certificate Usage (Security /0/x/15) via OpenSSL DANE', () => {
  test('3 (domain-issued certificate): the exact server certificate passes, no CA needed', async () => {
    const server = await certServer();
    const c = await connect(certClient(server.local.port, { certificateUsage: 3, caPem: pem('server.pem') }));
    expect(c.info().verifyResult).toBe(0);
    expect(c.info().dane).toEqual({ usage: 3, depth: 0 });
  });

  test('3: another certificate of the same CA fails with "no matching DANE TLSA records"', async () => {
    const server = await certServer('server2');
    const e = await connectFails(certClient(server.local.port, { certificateUsage: 3, caPem: pem('server.pem') }));
    expect(e.verifyResult).toBe(65);
    expect(e.message).toMatch(/no matching DANE TLSA records \(X509 error 65 at depth 0\)/);
  });

  test('3: the pinned certificate is accepted even expired (RFC 7671 §5.1: no PKIX checks for DANE-EE)', async () => {
    const server = await certServer('expired');
    const c = await connect(certClient(server.local.port, { certificateUsage: 3, caPem: pem('expired.pem') }));
    expect(c.info().dane).toEqual({ usage: 3, depth: 0 });
  });

  test('3 with expectedServerName: the name is still checked', async () => {
    const server = await certServer();
    const e = await connectFails(certClient(server.local.port, { certificateUsage: 3, caPem: pem('server.pem'), expectedServerName: '127.0.0.2' }));
    expect(e.verifyResult).toBe(64);
  });

  test('3 is the LwM2M default a device passes explicitly', async () => {
    const { LWM2M_DEFAULT_CERTIFICATE_USAGE } = await import('../harness/dtls/index.js');
    expect(LWM2M_DEFAULT_CERTIFICATE_USAGE).toBe(3);
  });

  test('a CA certificate given with usage 3 does not match the server (it is not a CA constraint)', async () => {
    const server = await certServer();
    const e = await connectFails(certClient(server.local.port, { certificateUsage: 3 }));
    expect(e.verifyResult).toBe(65);
  });

  test('2 (trust anchor assertion): the CA the server does not send is the anchor', async () => {
    // Without a CA store the server has no chain to build: it sends its certificate alone.
    const server = await certServer('server', { caPem: undefined, requestClientCert: false });
    const c = await connect(certClient(server.local.port, { certificateUsage: 2, caPem: pem('ca.pem') }));
    expect(c.info().dane).toEqual({ usage: 2, depth: 1 });
    expect(c.info().peerCertChainDer).toHaveLength(1);
  });

  test('2: a server from another CA fails', async () => {
    const server = await certServer('stranger');
    const e = await connectFails(certClient(server.local.port, { certificateUsage: 2, caPem: pem('ca.pem') }));
    expect(e.verifyResult).not.toBe(0);
    expect(e.message).toMatch(/server certificate verification failed/);
  });

  test('2: an expired server certificate under the anchor fails (the chain is still validated)', async () => {
    const server = await certServer('expired');
    const e = await connectFails(certClient(server.local.port, { certificateUsage: 2, caPem: pem('ca.pem') }));
    expect(e.verifyResult).toBe(10);
  });

  test('0 (CA constraint): the CA must be in the validated chain', async () => {
    const server = await certServer();
    const c = await connect(certClient(server.local.port, { certificateUsage: 0, caPem: pem('ca.pem') }));
    expect(c.info().dane).toEqual({ usage: 0, depth: 1 });
    const bad = await certServer('stranger');
    const e = await connectFails(certClient(bad.local.port, { certificateUsage: 0, caPem: pem('ca.pem'), trustStorePem: pem('ca.pem') + pem('other-ca.pem') }));
    expect(e.verifyResult).toBe(65);
  });

  test('1 (service certificate constraint): the exact certificate, also valid under the trust store', async () => {
    const server = await certServer();
    const c = await connect(certClient(server.local.port, { certificateUsage: 1, caPem: pem('server.pem'), trustStorePem: pem('ca.pem') }));
    expect(c.info().dane).toEqual({ usage: 1, depth: 0 });
    const other = await certServer('server2');
    const e = await connectFails(certClient(other.local.port, { certificateUsage: 1, caPem: pem('server.pem'), trustStorePem: pem('ca.pem') }));
    expect(e.verifyResult).toBe(65);
  });

  test.each([
    [{ certificateUsage: 3 as const, caPem: undefined }, /certificateUsage 3 needs caPem/],
    [{ certificateUsage: 1 as const }, /certificateUsage 1 \(PKIX-EE\) needs trustStorePem/],
    [{ certificateUsage: 3 as const, trustStorePem: 'x' }, /takes no trustStorePem/],
    [{ trustStorePem: 'x' }, /trustStorePem goes with certificateUsage 0 or 1/],
    [{ certificateUsage: 5 as unknown as 3 }, /must be 0, 1, 2 or 3/],
    [{ caPem: 'not a certificate' }, /caPem holds no certificate/],
    [{ certificateUsage: 2 as const, caPem: 'nope' }, /dane.certPem must hold exactly one certificate/],
  ])('bad verification options are refused before any datagram: %#', async (over, message) => {
    const server = await certServer();
    await expect(DtlsClient.connect(certClient(server.local.port, over))).rejects.toThrow(message);
  });
});

// ---- malformed input from the server side ----

function junk(): Buffer[] {
  const hdr = (type: number, epoch: number, len: number, body: Buffer) => {
    const h = Buffer.alloc(13);
    h[0] = type;
    h[1] = 0xfe;
    h[2] = 0xfd;
    h.writeUInt16BE(epoch, 3);
    h.writeUInt16BE(len, 11);
    return Buffer.concat([h, body]);
  };
  const hs = (msgType: number, bodyLen: number, fragLen: number, body: Buffer) => {
    const h = Buffer.alloc(12);
    h[0] = msgType;
    h.writeUIntBE(bodyLen, 1, 3);
    h.writeUIntBE(fragLen, 9, 3);
    return Buffer.concat([h, body]);
  };
  return [
    Buffer.alloc(0),
    Buffer.from([22]),
    hdr(22, 0, 0xfff0, randomBytes(20)), // length beyond the datagram
    hdr(22, 0, 12, hs(2, 0xffffff, 0, Buffer.alloc(0))), // ServerHello claiming 16 MiB
    hdr(22, 0, 40, hs(3, 28, 28, Buffer.concat([Buffer.from([0xfe, 0xfd, 0xff]), randomBytes(25)]))), // HelloVerifyRequest, cookie longer than sent
    hdr(22, 0, 20, hs(11, 0x100000, 8, randomBytes(8))), // a fragment of a huge Certificate
    hdr(21, 0, 1, Buffer.from([2])), // an alert cut short
    hdr(23, 0, 10, randomBytes(10)), // application data before any keys
    hdr(23, 1, 30, randomBytes(30)), // application data under keys that do not exist
    hdr(20, 0, 3, Buffer.from([1, 1, 1])), // ChangeCipherSpec with a bad body
    ...Array.from({ length: 150 }, () => randomBytes(1 + Math.floor(Math.random() * 400))),
  ];
}

describe('malformed datagrams from the server side', () => {
  test('answering every ClientHello with junk: no crash, no throw, the handshake ends within its bound', async () => {
    const fake = await udp();
    const datagrams = junk();
    fake.on('message', (_d, rinfo) => {
      for (const d of datagrams) fake.send(d, rinfo.port, rinfo.address);
    });
    const started = Date.now();
    const e = await connectFails(pskTo(fake.address().port, { handshakeTimeoutMs: 2500 }));
    expect(Date.now() - started).toBeLessThan(4000);
    expect(e.message).toMatch(/DTLS handshake with 127\.0\.0\.1:\d+ failed/);
  });

  test('more handshake bytes than allowed: the handshake fails on the limit', async () => {
    const fake = await udp();
    fake.on('message', (_d, rinfo) => {
      for (let i = 0; i < 20; i++) fake.send(randomBytes(1000), rinfo.port, rinfo.address);
    });
    const e = await connectFails(pskTo(fake.address().port, { maxHandshakeBytes: 8000 }));
    expect(e.message).toMatch(/more than 8000 bytes before the handshake completed/);
  });

  test('junk injected into an established session from the server’s address is dropped; the session goes on', async () => {
    const server = await startServer();
    const { front, inject } = await relay(server.local.port);
    const c = await connect(pskTo(front));
    const closes: unknown[] = [];
    c.on('close', (e) => closes.push(e));
    const datagrams = junk();
    const inbound = new Promise<void>((resolve) => {
      let n = 0;
      c.on('record', (r) => {
        if (r.direction === 'in' && ++n === datagrams.length) resolve();
      });
    });
    for (const d of datagrams) inject(d);
    await Promise.race([inbound, new Promise((r) => setTimeout(r, 3000))]);
    expect(closes).toEqual([]);
    expect(c.established).toBe(true);
    expect(await roundTrip(c, 'still here')).toBe('echo:still here');
  });
});

// ---- the addon's client role, directly ----

describe('addon client role', () => {
  const native = loadNative();

  test('connect() gives the ClientHello flight; feed/timeout behave like the server session', () => {
    const ctx = new native.DtlsContext({ role: 'client', cipherSuites: ['PSK-AES128-CCM8'], psk: true });
    expect(ctx.ciphers().map((c) => c.id)).toEqual([0xc0a8]);
    const s = ctx.createSession('192.0.2.1:5684', { pskIdentity: () => ({ identity: IDENTITY, key: KEY }) });
    try {
      const r = s.connect();
      expect(r.out).toHaveLength(1);
      expect(r.out[0]![0]).toBe(22); // handshake
      expect(r.out[0]![13]).toBe(1); // ClientHello
      expect(r.established).toBe(false);
      expect(s.timeoutMs()).toBeGreaterThan(0);
      expect(s.info()).toMatchObject({ role: 'client', state: 'SSLv3/TLS write client hello', established: false });
      // junk and an empty datagram change nothing
      for (const d of junk()) expect(() => s.feed(d)).not.toThrow();
      expect(s.write(Buffer.from('x'))).toEqual({ out: [], error: 'session is not established' });
    } finally {
      s.free();
    }
  });

  test('a server session has no connect(); a client context refuses server options', () => {
    const server = new native.DtlsContext({ role: 'server', cipherSuites: ['PSK-AES128-CCM8'], psk: true, cookieSecret: randomBytes(32) });
    const s = server.createSession('192.0.2.1:1', {});
    expect(() => (s as unknown as { connect(): void }).connect()).toThrow(/client context/);
    s.free();
    expect(() => new native.DtlsContext({ role: 'client', cipherSuites: ['PSK-AES128-CCM8'], requestClientCert: true } as never)).toThrow(/requestClientCert is a server option/);
    expect(() => new native.DtlsContext({ role: 'client', cipherSuites: ['PSK-AES128-CCM8'], verifyServer: 'chain' })).toThrow(/needs caPem or dane/);
    expect(() => new native.DtlsContext({ role: 'client', cipherSuites: ['PSK-AES128-CCM8'], expectedServerName: 'x' })).toThrow(/needs verification/);
    expect(() => new native.DtlsContext({ role: 'client', cipherSuites: ['PSK-AES128-CCM8'], verifyServer: 'maybe' as 'none' })).toThrow(/'none' or 'chain'/);
  });

  test('a pskIdentity callback that throws or gives nothing fails the handshake cleanly, its text not repeated', async () => {
    const server = await startServer();
    for (const [cb, why] of [
      [
        () => {
          throw new Error(`secret ${KEY.toString('hex')}`);
        },
        /pskIdentity callback threw/,
      ],
      [() => null, /gave no PSK/],
      [() => ({ identity: 'a\u0000b', key: KEY }), /is unusable/],
      [() => ({ identity: IDENTITY, key: Buffer.alloc(0) }), /key must be|unusable length/],
    ] as const) {
      const ctx = new native.DtlsContext({ role: 'client', cipherSuites: ['PSK-AES128-CCM8'], psk: true });
      const sock = await udp();
      await new Promise<void>((r) => sock.connect(server.local.port, '127.0.0.1', () => r()));
      const s = ctx.createSession('server', { pskIdentity: cb as never });
      const result = await new Promise<{ error?: string; failed: boolean }>((resolve) => {
        const timer = setTimeout(() => resolve({ failed: false, error: 'timeout' }), 3000);
        sock.on('message', (d) => {
          const r = s.feed(d);
          for (const o of r.out) sock.send(o);
          if (r.closed) {
            clearTimeout(timer);
            resolve(r);
          }
        });
        for (const o of s.connect().out) sock.send(o);
      });
      s.free();
      expect(result.failed).toBe(true);
      expect(result.error).toMatch(why);
      expect(result.error).not.toContain(KEY.toString('hex'));
    }
  });
});

// ---- libcoap servers ----

/** Two consecutive free UDP ports: libcoap listens for coap on p and coaps on p + 1. */
async function freePortPair(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const a = dgram.createSocket('udp4');
    const port = await new Promise<number>((r) => a.bind(0, '127.0.0.1', () => r(a.address().port)));
    const b = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((r) => {
      b.once('error', () => r(false));
      b.bind(port + 1, '127.0.0.1', () => r(true));
    });
    a.close();
    try {
      b.close();
    } catch {
      // never bound
    }
    if (ok && port + 1 < 65536) return port;
  }
  throw new Error('no two consecutive free UDP ports');
}

/** Resolves once the plain CoAP port answers a CoAP ping (an RST): the server is up. */
async function coapReady(port: number, ms = 5000): Promise<void> {
  const s = await udp();
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const ping = () => {
      if (Date.now() > deadline) {
        clearInterval(timer);
        reject(new Error(`libcoap server on ${port} not up within ${ms} ms`));
        return;
      }
      s.send(Buffer.from([0x40, 0x00, 0x12, 0x34]), port, '127.0.0.1');
    };
    s.on('error', () => undefined); // ECONNREFUSED until it is up
    s.on('message', (d) => {
      if ((d[0]! & 0x30) === 0x30) {
        clearInterval(timer);
        resolve();
      }
    });
    const timer = setInterval(ping, 100);
    ping();
  });
}

async function startCoapServer(bin: string, args: string[]): Promise<{ port: number; child: ChildProcess; stderr: () => string }> {
  const port = await freePortPair();
  const child = spawn(bin, ['-A', '127.0.0.1', '-p', String(port), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await coapReady(port);
  return { port: port + 1, child, stderr: () => stderr };
}

function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      c.kill('SIGKILL');
      resolve();
    }, 2000);
    c.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    c.kill('SIGTERM');
  });
}

/** CON GET /.well-known/core with a 2-byte token (RFC 7252 §3, built by hand). */
function wellKnownCoreGet(mid: number, token: Buffer): Buffer {
  const path = Buffer.from('.well-known');
  return Buffer.concat([
    Buffer.from([0x40 | token.length, 0x01, mid >> 8, mid & 0xff]),
    token,
    Buffer.from([(11 << 4) | path.length]), // Uri-Path (11), delta 11
    path,
    Buffer.from([0x04]), // Uri-Path again, delta 0, length 4
    Buffer.from('core'),
  ]);
}

async function getWellKnownCore(c: DtlsClient): Promise<{ code: number; payload: string }> {
  const token = randomBytes(2);
  const mid = 0x2000 + Math.floor(Math.random() * 0x1000);
  const reply = new Promise<Buffer>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no CoAP response within 5000 ms')), 5000);
    c.on('message', (m) => {
      const b = m.bytes;
      const tkl = b[0]! & 0x0f;
      // Piggybacked (ACK, same MID) or separate (same token) response.
      if (b.length >= 4 + tkl && b[1]! >= 0x40 && b.subarray(4, 4 + tkl).equals(token)) {
        clearTimeout(timer);
        resolve(b);
      }
    });
  });
  c.send(wellKnownCoreGet(mid, token));
  const b = await reply;
  const marker = b.indexOf(0xff, 4 + (b[0]! & 0x0f));
  return { code: b[1]!, payload: marker >= 0 ? b.subarray(marker + 1).toString() : '' };
}

describeIf(COAP_SERVERS.length > 0, NO_COAP_SERVER)('libcoap servers, PSK', () => {
  const KEY_TEXT = 'libcoap-client-k'; // libcoap's -k takes the key as text

  test.each(COAP_SERVERS)('%s: handshake and a CoAP GET answered', async (bin) => {
    const srv = await startCoapServer(bin, ['-k', KEY_TEXT, '-h', '']);
    const c = await connect({
      remote: { address: '127.0.0.1', port: srv.port },
      cipherSuites: ['PSK-AES128-CCM8'],
      psk: { identity: IDENTITY, key: Buffer.from(KEY_TEXT) },
    });
    expect(c.info().cipherId).toBe(0xc0a8);
    const r = await getWellKnownCore(c);
    expect(r.code).toBe(0x45); // 2.05 Content
    expect(r.payload).toContain('</');
  });

  test.each(COAP_SERVERS)('%s sending an identity hint: the hint is reported', async (bin) => {
    const srv = await startCoapServer(bin, ['-k', KEY_TEXT, '-h', 'geisa-hint']);
    const c = await connect({
      remote: { address: '127.0.0.1', port: srv.port },
      cipherSuites: ['PSK-AES128-CCM8'],
      psk: { identity: IDENTITY, key: Buffer.from(KEY_TEXT) },
    });
    expect(c.info().pskIdentityHint).toBe('geisa-hint');
    expect((await getWellKnownCore(c)).code).toBe(0x45);
  });

  test.each(COAP_SERVERS)('%s with a wrong key: the handshake fails within its bound', async (bin) => {
    const srv = await startCoapServer(bin, ['-k', KEY_TEXT, '-h', '']);
    const e = await connectFails({
      remote: { address: '127.0.0.1', port: srv.port },
      cipherSuites: ['PSK-AES128-CCM8'],
      psk: { identity: IDENTITY, key: Buffer.from('not-the-right-k!') },
      handshakeTimeoutMs: 3000,
    });
    // Both drop a Finished they cannot authenticate: all the client can see is silence.
    expect(e.message).toMatch(/not completed within 3000 ms \(OpenSSL state: SSLv3\/TLS write finished; the server never answered our Finished/);
    expect(e.message).not.toContain('not-the-right-k!');
  });
});

describeIf(COAP_SERVERS.length > 0 && HAVE_OPENSSL, HAVE_OPENSSL ? NO_COAP_SERVER : NO_OPENSSL)('libcoap servers, certificates (mutual)', () => {
  const pkiArgs = (name: string) => ['-c', join(dir, `${name}.pem`), '-j', join(dir, `${name}.key`), '-C', join(dir, 'ca.pem')];

  test.each(COAP_SERVERS)('%s: ECDHE-ECDSA-AES128-CCM8 with our client certificate, a CoAP GET answered', async (bin) => {
    const srv = await startCoapServer(bin, pkiArgs('server'));
    const c = await connect(certClient(srv.port, { expectedServerName: '127.0.0.1' }));
    const info = c.info();
    expect(info.cipherId).toBe(0xc0ae);
    expect(info.verifyResult).toBe(0);
    expect(fingerprint(info.peerCertChainDer[0]!)).toBe(fingerprint(pem('server.pem')));
    const r = await getWellKnownCore(c);
    expect(r.code).toBe(0x45);
  });

  test.each(COAP_SERVERS)('%s: Certificate Usage 3 pinned to its certificate', async (bin) => {
    const srv = await startCoapServer(bin, pkiArgs('server'));
    const c = await connect(certClient(srv.port, { caPem: pem('server.pem'), certificateUsage: 3 }));
    expect(c.info().dane).toEqual({ usage: 3, depth: 0 });
    expect((await getWellKnownCore(c)).code).toBe(0x45);
  });

  test.each(COAP_SERVERS)('%s with a certificate from another CA: our verification refuses it', async (bin) => {
    const srv = await startCoapServer(bin, ['-c', join(dir, 'stranger.pem'), '-j', join(dir, 'stranger.key'), '-C', join(dir, 'other-ca.pem'), '-n']);
    const e = await connectFails(certClient(srv.port));
    expect([2, 19, 20]).toContain(e.verifyResult);
    expect(e.message).toMatch(/server certificate verification failed/);
  });
});

// ---- no secret anywhere ----

describe('no secret in anything the client emits', () => {
  test('every event and error of this file, serialized, holds no PSK and no private key', async () => {
    // One more run of each failure kind, so the check never depends on test order.
    const server = await startServer();
    await connectFails({ remote: local(server), cipherSuites: ['PSK-AES128-CCM8'], psk: { identity: IDENTITY, key: WRONG_KEY } }).catch(() => undefined);
    const ok = await connect(pskTo(server.local.port, { keylog: () => undefined }));
    await roundTrip(ok, 'x');
    emitted.push({ what: 'info', payload: ok.info() });
    await ok.close();

    const serialize = (v: unknown): string =>
      JSON.stringify(v, (_k, x: unknown) => {
        if (typeof x === 'bigint') return x.toString();
        if (x instanceof Error) return { ...x, name: x.name, message: x.message, stack: x.stack };
        if (x && typeof x === 'object' && (x as { type?: string }).type === 'Buffer') {
          const b = Buffer.from((x as { data: number[] }).data);
          return `${b.toString('hex')} ${b.toString('base64')} ${b.toString('latin1')}`;
        }
        return x;
      });
    const all = emitted.map(serialize).join('\n');
    expect(emitted.length).toBeGreaterThan(20);
    const secrets = [KEY, WRONG_KEY, Buffer.from('libcoap-client-k'), Buffer.from('not-the-right-k!')];
    for (const k of secrets) {
      expect(all).not.toContain(k.toString('hex'));
      expect(all).not.toContain(k.toString('base64'));
      expect(all).not.toContain(k.toString('latin1'));
    }
    if (dir) {
      for (const name of ['client.key', 'server.key', 'ca.key']) {
        for (const line of pem(name)
          .split('\n')
          .filter((l) => l.length > 20 && !l.startsWith('-----'))) {
          expect(all).not.toContain(line);
        }
      }
    }
  });
});
