/**
 * The reference device over DTLS 1.2 with a PSK (Security Mode 0). Two kinds of peer:
 * the scripted DTLS server of test/support (PSK, TLS_PSK_WITH_AES_128_CCM_8 only, written
 * from the RFCs) under scripted CoAP servers, for the whole bootstrap and registration;
 * and libcoap's coap-server-openssl, an independent DTLS implementation, for the
 * handshake itself (identity, key, suites) toward a Bootstrap-Server and an LwM2M Server.
 */
import { hasTool, describeIf } from './support/tools.js';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decodeCoap, uriPath } from '../harness/coap/message.js';
import { CF, encodeTlv, parsePath } from '../harness/lwm2m/index.js';
import { FACTORY_BOOTSTRAP_URI } from '../fixtures/device/defects.js';
import { provisionDevice } from '../fixtures/device/provision.js';
import { loadState } from '../fixtures/device/state.js';
import { DeviceBench, FAST_PARAMS, PROMPT_MS, type Psk, securityRecords, serverRecords, benchPerTest } from './support/device-bench.js';
import { DtlsPskPeer, TLS_PSK_WITH_AES_128_CBC_SHA256, TLS_PSK_WITH_AES_128_CCM_8, clientHelloSuites } from './support/scripted-dtls.js';
import { type ScriptedPeer, isBootstrapRequest, isRegister, openBootstrapServer, openLwm2mServer } from './support/scripted-peers.js';

const TLS_PSK_WITH_AES_128_CCM = 0xc0a4;

const bench = benchPerTest({ dtls: true });
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const text = (b: Buffer | undefined) => b?.toString('utf8');

/** Waits for `p` at most `ms` (and leaves no timer behind either way). */
async function atMost(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/** A second DTLS Bootstrap-Server (its own port and PSK) for re-provisioning. */
async function extraBootstrapServer(psk: Psk): Promise<{ dtls: DtlsPskPeer; bs: ScriptedPeer }> {
  const dtls = await DtlsPskPeer.open({ psk: (id) => (id.equals(Buffer.from(psk.identity)) ? psk.key : undefined) });
  const bs = await openBootstrapServer(FAST_PARAMS, dtls);
  cleanups.push(() => bs.close());
  return { dtls, bs };
}

describe('PSK bootstrap and registration (scripted DTLS server, CCM_8 only)', () => {
  test('bootstrap over DTLS with the provisioned identity, Register over DTLS with the identity written in /0/x/3', async () => {
    const b = await bench();
    const req = await b.provisionAndStart();
    expect(req.msg.type).toBe('CON');
    expect(req.query.get('ep')).toEqual([b.endpoint]);
    const bsHello = await b.bsDtls!.hellos.next(() => true, 0);
    expect(bsHello?.offered[0]).toBe(TLS_PSK_WITH_AES_128_CCM_8);
    expect(bsHello?.offered).not.toContain(TLS_PSK_WITH_AES_128_CBC_SHA256);
    const bsHs = await b.bsDtls!.handshakes.next((h) => h.outcome === 'ok', PROMPT_MS);
    expect(text(bsHs?.identity)).toBe(b.bsPsk.identity);

    expect(await b.bootstrapOnto({ lifetimeS: 30 })).toEqual(['2.04', '2.04', '2.04']);
    const reg = await b.must(b.server, isRegister, PROMPT_MS, 'Register over DTLS');
    expect(reg.query.get('ep')).toEqual([b.endpoint]);
    const dmHs = await b.serverDtls!.handshakes.next((h) => h.outcome === 'ok', PROMPT_MS);
    expect(text(dmHs?.identity)).toBe(b.serverPsk.identity);
    expect(`${reg.remote.address}:${reg.remote.port}`).toBe(`${dmHs!.remote.address}:${dmHs!.remote.port}`);
    await b.waitForLog(/registered at \/rd\//, PROMPT_MS);
    // Nothing went to either DTLS port in the clear.
    expect(b.bsDtls!.plain.all).toHaveLength(0);
    expect(b.serverDtls!.plain.all).toHaveLength(0);
    // The written credentials are kept (as hex) for the next power-on.
    const json = JSON.parse(await readFile(b.stateFile, 'utf8'));
    expect(json.objects['0']['1']).toMatchObject({ '2': 0, '3': Buffer.from(b.serverPsk.identity).toString('hex'), '5': b.serverPsk.key.toString('hex') });
  });

  test('after a restart the device registers over DTLS again from its state file', async () => {
    const b = await bench();
    await b.provisionAndStart();
    expect(await b.bootstrapOnto({ lifetimeS: 30 })).toEqual(['2.04', '2.04', '2.04']);
    await b.must(b.server, isRegister, PROMPT_MS, 'Register');
    await b.restart();
    await b.must(b.server, isRegister, PROMPT_MS, 'Register after the restart');
    const handshakes = b.serverDtls!.handshakes.all.filter((h) => h.outcome === 'ok');
    expect(handshakes.map((h) => text(h.identity))).toEqual([b.serverPsk.identity, b.serverPsk.identity]);
  });

  test('/0/x/16 written: the ClientHello toward the LwM2M Server proposes exactly those suites', async () => {
    const b = await bench();
    await b.provisionAndStart();
    const suites = [TLS_PSK_WITH_AES_128_CCM_8, TLS_PSK_WITH_AES_128_CCM];
    expect(await b.write('/0/1', securityRecords(1, b.server.uri, 101, b.serverPsk, suites))).toBe('2.04');
    expect(await b.write('/1/0', serverRecords(0, { lifetimeS: 30 }))).toBe('2.04');
    expect(await b.finish()).toBe('2.04');
    await b.must(b.server, isRegister, PROMPT_MS, 'Register');
    const hello = await b.serverDtls!.hellos.next(() => true, 0);
    expect(hello?.offered).toEqual(suites);
  });

  test('a DTLS handshake failure toward the LwM2M Server is a failed Register attempt, retried with a new handshake', async () => {
    const b = await bench();
    await b.provisionAndStart();
    // The device is given an identity the server does not know.
    expect(await b.write('/0/1', securityRecords(1, b.server.uri, 101, { identity: 'unknown-to-the-server', key: b.serverPsk.key }))).toBe('2.04');
    expect(await b.write('/1/0', serverRecords(0, { lifetimeS: 30, retryCount: 2, retryTimerS: 1, bootstrapOnFailure: false }))).toBe('2.04');
    expect(await b.finish()).toBe('2.04');
    const first = await b.serverDtls!.handshakes.next(() => true, PROMPT_MS);
    expect(first?.outcome).toBe('unknown-identity');
    expect(text(first?.identity)).toBe('unknown-to-the-server');
    await b.waitForLog(/DTLS handshake with .* failed: received fatal alert: unknown_psk_identity/, PROMPT_MS);
    await b.waitForLog(/Register failed: no response/, 3 * PROMPT_MS);
    const retry = await b.waitForLog(/next Register: attempt 2\/2/, PROMPT_MS);
    const retryAt = b.logs.indexOf(retry);
    await b.waitForLog(/Register CON POST \/rd.*attempt 2\/2/, 1000 + PROMPT_MS, retryAt);
    await b.waitForLog(/DTLS handshake with /, PROMPT_MS, retryAt);
    expect(b.server.inbox.all.filter(isRegister)).toHaveLength(0);
  });

  test.each([
    ['mode 0 without an identity', { identity: '', key: Buffer.from('0011', 'hex') }, 0, /PSK Identity\) is missing or empty/],
    ['mode 0 without a key', { identity: 'id', key: Buffer.alloc(0) }, 0, /Secret Key\) is missing or empty/],
    ['mode 1 (RPK)', undefined, 1, /Security Mode 1 \(Raw Public Key\) is not implemented/],
    ['mode 2 (certificate) without a certificate', undefined, 2, /\/0\/1\/3 \(Public Key or Identity\) is not the device certificate/],
    ['mode 4 (certificate with EST) without the server certificate in /0/x/4', undefined, 4, /\/0\/1\/4 \(Server Public Key\) is not a certificate with Security Mode 4/],
  ])('Bootstrap-Finish is 4.06 with %s, and the configuration is restored', async (_what, psk, mode, why) => {
    const b = await bench();
    await b.provisionAndStart();
    const records = securityRecords(1, b.server.uri, 101, psk ? { identity: psk.identity, key: psk.key } : undefined).map((r) => (r.path.resourceId === 2 ? { ...r, value: mode } : r));
    expect(await b.write('/0/1', records)).toBe('2.04');
    expect(await b.write('/1/0', serverRecords(0, { lifetimeS: 30 }))).toBe('2.04');
    expect(await b.finish()).toBe('4.06');
    await b.waitForLog(why, PROMPT_MS);
  });

  test('Bootstrap-Finish is 4.06 for PSK with a coap:// URI, or /0/x/16 naming no suite the device has', async () => {
    const b = await bench();
    await b.provisionAndStart();
    const plainUri = b.server.uri.replace(/^coaps:/, 'coap:');
    expect(await b.write('/0/1', securityRecords(1, plainUri, 101, b.serverPsk))).toBe('2.04');
    expect(await b.write('/1/0', serverRecords(0, { lifetimeS: 30 }))).toBe('2.04');
    expect(await b.finish()).toBe('4.06');
    expect(await b.write('/0/1', securityRecords(1, b.server.uri, 101, b.serverPsk, [0xc0ae]))).toBe('2.04');
    expect(await b.write('/1/0', serverRecords(0, { lifetimeS: 30 }))).toBe('2.04');
    expect(await b.finish()).toBe('4.06');
    await b.waitForLog(/lists no PSK suite this device implements \(0xc0ae\)/, PROMPT_MS);
  });
});

describe('out-of-band preprovisioning with a PSK (TC-BS-02)', () => {
  test('re-provisioned with another URI and PSK, the device bootstraps there with exactly those credentials', async () => {
    const b = await bench();
    await b.provisionAndStart();
    const firstHs = await b.bsDtls!.handshakes.next((h) => h.outcome === 'ok', PROMPT_MS);
    expect(text(firstHs?.identity)).toBe(b.bsPsk.identity);
    await b.device!.stop();

    const second: Psk = { identity: 'second-bs-identity', key: Buffer.from('a1a2a3a4a5a6a7a8a9aaabacadaeafb0', 'hex') };
    const other = await extraBootstrapServer(second);
    await b.provision(other.bs.uri, second);
    expect((await loadState(b.stateFile)).provisionings).toBe(2);
    await b.start();
    const req = await b.must(other.bs, isBootstrapRequest, PROMPT_MS, 'Bootstrap-Request at the second URI');
    expect(req.query.get('ep')).toEqual([b.endpoint]);
    const hs = await other.dtls.handshakes.next((h) => h.outcome === 'ok', PROMPT_MS);
    expect(text(hs?.identity)).toBe(second.identity);
    expect(b.bs.inbox.all.filter(isBootstrapRequest)).toHaveLength(1);
  });
});

describe('DTLS defects', () => {
  test('wrong-psk-identity: the Bootstrap-Server sees /0/0/3, the LwM2M Server sees the factory serial instead of /0/1/3', async () => {
    const b = await bench({ defect: 'wrong-psk-identity' });
    await b.provisionAndStart();
    const bsHs = await b.bsDtls!.handshakes.next((h) => h.outcome === 'ok', PROMPT_MS);
    expect(text(bsHs?.identity)).toBe(b.bsPsk.identity);
    expect(await b.bootstrapOnto({ lifetimeS: 30 })).toEqual(['2.04', '2.04', '2.04']);
    const dmHs = await b.serverDtls!.handshakes.next(() => true, PROMPT_MS);
    const serial = (await loadState(b.stateFile)).serialNumber;
    expect(text(dmHs?.identity)).toBe(serial);
    expect(dmHs?.outcome).toBe('unknown-identity');
    expect(await b.server.next(isRegister, 300)).toBeUndefined();
  });

  test('nosec-fallback: the Register goes in the clear to the host and port of the coaps:// URI', async () => {
    const b = await bench({ defect: 'nosec-fallback' });
    await b.provisionAndStart();
    expect((await b.bsDtls!.handshakes.next((h) => h.outcome === 'ok', PROMPT_MS))?.outcome).toBe('ok');
    expect(await b.bootstrapOnto({ lifetimeS: 30 })).toEqual(['2.04', '2.04', '2.04']);
    const plain = await b.serverDtls!.plain.next(() => true, PROMPT_MS);
    expect(plain).toBeDefined();
    const msg = decodeCoap(plain!.bytes);
    expect(msg.code).toBe('0.02');
    expect(uriPath(msg)).toBe('/rd');
    expect(b.serverDtls!.hellos.all).toHaveLength(0);
  });

  test('no-ccm8: every ClientHello proposes TLS_PSK_WITH_AES_128_CBC_SHA256 only, so a CCM_8-only server refuses it', async () => {
    const b = await bench({ defect: 'no-ccm8' });
    await b.provision();
    await b.start();
    const hs = await b.bsDtls!.handshakes.next(() => true, PROMPT_MS);
    expect(hs?.offered).toEqual([TLS_PSK_WITH_AES_128_CBC_SHA256]);
    expect(hs?.outcome).toBe('no-shared-suite');
    await b.waitForLog(/DTLS handshake with .* failed: received fatal alert: handshake_failure/, PROMPT_MS);
    expect(await b.bs.next(isBootstrapRequest, 300)).toBeUndefined();
  });

  test('ignore-provisioned-uri: follows the first provisioning, then bootstraps from its factory URI whatever is provisioned', async () => {
    const b = await bench({ defect: 'ignore-provisioned-uri' });
    await b.provisionAndStart();
    await b.device!.stop();
    const second: Psk = { identity: 'second-bs-identity', key: Buffer.from('b1b2b3b4b5b6b7b8', 'hex') };
    const other = await extraBootstrapServer(second);
    await b.provision(other.bs.uri, second);
    const from = b.logs.length;
    await b.start();
    await b.waitForLog(new RegExp(`Bootstrap-Request to ${FACTORY_BOOTSTRAP_URI.replace(/[.]/g, '\\.')} over DTLS \\(PSK identity "second-bs-identity"`), PROMPT_MS, from);
    expect(await other.bs.next(isBootstrapRequest, 500)).toBeUndefined();
    expect(other.dtls.hellos.all).toHaveLength(0);
    expect(b.bs.inbox.all.filter(isBootstrapRequest)).toHaveLength(1);
  });
});

describe('the first datagram toward a coaps:// server is a ClientHello', () => {
  test('its cipher list can be read from the bytes: CCM_8 is offered by default', async () => {
    const sock = dgram.createSocket('udp4');
    cleanups.push(() => new Promise<void>((r) => sock.close(() => r())));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const first = new Promise<Buffer>((r) => sock.once('message', (m) => r(m)));
    const b = await bench();
    const { port } = sock.address();
    await provisionDevice({ stateFile: b.stateFile, bsUri: `coaps://127.0.0.1:${port}`, endpoint: b.endpoint, pskIdentity: 'x', pskKeyHex: '0102' });
    await b.start();
    let timer: NodeJS.Timeout | undefined;
    const datagram = await Promise.race([first, new Promise<Buffer>((_r, j) => (timer = setTimeout(() => j(new Error('no datagram')), PROMPT_MS)))]);
    clearTimeout(timer);
    expect(datagram[0]).toBe(22);
    // CCM_8 first, then AES_128_CCM and AES_128_GCM_SHA256; never the CBC suite the spec advises against.
    expect(clientHelloSuites(datagram)).toEqual([TLS_PSK_WITH_AES_128_CCM_8, TLS_PSK_WITH_AES_128_CCM, 0x00a8]);
  });
});

// ---- against libcoap's coap-server-openssl ------------------------------------------------

const COAP_SERVER = '/usr/bin/coap-server-openssl';
const describeLibcoap = describeIf(hasTool(COAP_SERVER), `no ${COAP_SERVER} (Debian libcoap3-bin)`);

/** Two adjacent free UDP ports (coap-server listens on p for CoAP and p+1 for DTLS). */
async function freePortPair(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const a = dgram.createSocket('udp4');
    await new Promise<void>((r) => a.bind(0, '127.0.0.1', () => r()));
    const p = a.address().port;
    const b = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((r) => {
      b.once('error', () => r(false));
      b.bind(p + 1, '127.0.0.1', () => r(true));
    });
    await new Promise<void>((r) => a.close(() => r()));
    if (ok) await new Promise<void>((r) => b.close(() => r()));
    else b.removeAllListeners();
    if (ok && p + 1 <= 65535) return p;
  }
  throw new Error('no two adjacent free UDP ports');
}

/** Resolves once something holds UDP 127.0.0.1:port, or fails after withinMs. */
async function portTaken(port: number, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const s = dgram.createSocket('udp4');
    const free = await new Promise<boolean>((r) => {
      s.once('error', () => r(false));
      s.bind(port, '127.0.0.1', () => r(true));
    });
    if (free) await new Promise<void>((r) => s.close(() => r()));
    else s.close();
    if (!free) return;
    if (Date.now() > deadline) throw new Error(`nothing listened on ${port} within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface LibcoapServer {
  uri: string;
  /** Stops the server and resolves with all it logged (it buffers its log while it runs). */
  stop: () => Promise<string>;
}

/**
 * coap-server-openssl with a default key nobody uses and one identity → key line: a
 * handshake completes only if the device presents exactly `psk.identity` with `psk.key`.
 */
async function libcoapServer(dir: string, psk: Psk): Promise<LibcoapServer> {
  const port = await freePortPair();
  const idFile = join(dir, `identities-${port}.txt`);
  await writeFile(idFile, `,${psk.identity},${psk.key.toString('latin1')}\n`);
  const child: ChildProcess = spawn(COAP_SERVER, ['-A', '127.0.0.1', '-p', String(port), '-k', 'not-the-device-key', '-h', '', '-i', idFile, '-d', '20', '-v', '7'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  const closed = new Promise<void>((r) => child.once('close', () => r()));
  const stop = async (): Promise<string> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await atMost(closed, 2000);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    await atMost(closed, 2000);
    return log;
  };
  cleanups.push(async () => void (await stop()));
  await portTaken(port + 1, 5000);
  return { uri: `coaps://127.0.0.1:${port + 1}`, stop };
}

describeLibcoap('against coap-server-openssl (independent DTLS server)', () => {
  const BS_PSK: Psk = { identity: 'libcoap-bs-id', key: Buffer.from('bootstrap-secret', 'ascii') };
  const DM_PSK: Psk = { identity: 'libcoap-dm-id', key: Buffer.from('dm-secret-key-01', 'ascii') };

  async function workDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'geisa-libcoap-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  test('the Bootstrap-Request travels over DTLS with the provisioned identity and key, and is answered', async () => {
    const server = await libcoapServer(await workDir(), BS_PSK);
    const b = await bench();
    await b.provision(server.uri, BS_PSK);
    await b.start();
    // coap-server creates /bs on the POST: any answer at all means the handshake completed.
    await b.waitForLog(/Bootstrap-Request answered 2\.0[14]/, 3 * PROMPT_MS);
    await b.waitForLog(/DTLS session with 127\.0\.0\.1:\d+ established/, 0);
    expect(await server.stop()).toContain(`got psk_identity: '${BS_PSK.identity}'`);
  });

  test('a wrong key fails the handshake: the Bootstrap-Request fails and is retried later', async () => {
    const server = await libcoapServer(await workDir(), BS_PSK);
    const b = await bench({ dtlsHandshakeTimeoutMs: 1000 });
    await b.provision(server.uri, { identity: BS_PSK.identity, key: Buffer.from('not-the-right-key', 'ascii') });
    await b.start();
    await b.waitForLog(/DTLS handshake with .* failed/, 3 * PROMPT_MS);
    await b.waitForLog(/Bootstrap-Request failed: no response/, 3 * PROMPT_MS);
    await b.waitForLog(/next Bootstrap-Request in 1 s/, PROMPT_MS);
    expect(b.logs.some((l) => /Bootstrap-Request answered/.test(l))).toBe(false);
  });

  test('Register travels over DTLS with the identity and key written in /0/x/3 and /0/x/5', async () => {
    const server = await libcoapServer(await workDir(), DM_PSK);
    const b = await bench();
    await b.provisionAndStart();
    expect(await b.write('/0/1', securityRecords(1, server.uri, 101, DM_PSK))).toBe('2.04');
    expect(await b.write('/1/0', serverRecords(0, { lifetimeS: 30 }))).toBe('2.04');
    expect(await b.finish()).toBe('2.04');
    // coap-server is no LwM2M Server: whatever it answers, an answer came back through the session.
    await b.waitForLog(/registered at|Register failed: answered|Register failed: (?!no response)/, 3 * PROMPT_MS);
    expect(await server.stop()).toContain(`got psk_identity: '${DM_PSK.identity}'`);
  });

  test('wrong-psk-identity: coap-server sees the factory serial as identity toward the LwM2M Server', async () => {
    const server = await libcoapServer(await workDir(), DM_PSK);
    const b = await bench({ defect: 'wrong-psk-identity', dtlsHandshakeTimeoutMs: 1000 });
    await b.provisionAndStart();
    expect(await b.write('/0/1', securityRecords(1, server.uri, 101, DM_PSK))).toBe('2.04');
    expect(await b.write('/1/0', serverRecords(0, { lifetimeS: 30 }))).toBe('2.04');
    expect(await b.finish()).toBe('2.04');
    const serial = (await loadState(b.stateFile)).serialNumber;
    await b.waitForLog(/Register failed: no response/, 3 * PROMPT_MS);
    const log = await server.stop();
    expect(log).toContain(`got psk_identity: '${serial}'`);
    expect(log).not.toContain(`got psk_identity: '${DM_PSK.identity}'`);
  });
});

// ---- against the harness's own DTLS server (OpenSSL addon, built by npm run build) --------

const harnessDtls = await import('../harness/dtls/index.js');
const describeHarnessDtls = describe;

describeHarnessDtls("against the harness's DtlsServer (server offers only TLS_PSK_WITH_AES_128_CCM_8)", () => {
  type Handshake = { pskIdentity: string | null; cipherId: number | null; clientOfferedCiphers: number[] };

  async function harnessServer(psk: Psk, role: 'bs' | 'dm') {
    const server = await harnessDtls.DtlsServer.listen({
      address: '127.0.0.1',
      cipherSuites: ['TLS_PSK_WITH_AES_128_CCM_8'],
      pskLookup: (identity) => (identity === psk.identity ? psk.key : null),
    });
    const handshakes: Handshake[] = [];
    const failures: Handshake[] = [];
    server.on('handshake', (h) => handshakes.push({ pskIdentity: h.pskIdentity, cipherId: h.cipherId, clientOfferedCiphers: h.clientOfferedCiphers }));
    server.on('handshake-failed', (h) => failures.push({ pskIdentity: h.pskIdentity, cipherId: null, clientOfferedCiphers: h.clientOfferedCiphers }));
    const transport = harnessDtls.DtlsTransport.over(server, role === 'bs' ? 'bootstrap-server' : 'lwm2m-server');
    const peer = role === 'bs' ? await openBootstrapServer(FAST_PARAMS, transport) : (await openLwm2mServer(FAST_PARAMS, transport)).peer;
    cleanups.push(() => peer.close());
    return { peer, handshakes, failures };
  }

  const BS: Psk = { identity: 'harness-bs-id', key: Buffer.from('0f0e0d0c0b0a09080706050403020100', 'hex') };
  const DM: Psk = { identity: 'harness-dm-id', key: Buffer.from('1f1e1d1c1b1a19181716151413121110', 'hex') };

  async function bootstrapThrough(bs: ScriptedPeer, dmUri: string, dmPsk: Psk, b: DeviceBench): Promise<string[]> {
    const req = await b.must(bs, isBootstrapRequest, 3 * PROMPT_MS, 'Bootstrap-Request at the harness DtlsServer');
    const put = async (path: string, records: ReturnType<typeof securityRecords>) => (await bs.request(req.remote, { method: 'PUT', path, contentFormat: CF.TLV, payload: encodeTlv(records, parsePath(path)) })).msg.code;
    return [await put('/0/1', securityRecords(1, dmUri, 101, dmPsk)), await put('/1/0', serverRecords(0, { lifetimeS: 30 })), (await bs.request(req.remote, { method: 'POST', path: '/bs' })).msg.code];
  }

  test('TC-SEC-01/02 shape: bootstrap and Register over DTLS, identities as provisioned and as written, suite 0xC0A8', async () => {
    const bs = await harnessServer(BS, 'bs');
    const dm = await harnessServer(DM, 'dm');
    const b = await bench();
    await b.provision(bs.peer.uri, BS);
    await b.start();
    expect(await bootstrapThrough(bs.peer, dm.peer.uri, DM, b)).toEqual(['2.04', '2.04', '2.04']);
    const reg = await b.must(dm.peer, isRegister, 3 * PROMPT_MS, 'Register at the harness DtlsServer');
    expect(reg.query.get('ep')).toEqual([b.endpoint]);
    expect(bs.handshakes.map((h) => [h.pskIdentity, h.cipherId])).toEqual([[BS.identity, TLS_PSK_WITH_AES_128_CCM_8]]);
    expect(dm.handshakes.map((h) => [h.pskIdentity, h.cipherId])).toEqual([[DM.identity, TLS_PSK_WITH_AES_128_CCM_8]]);
    expect(dm.handshakes[0]!.clientOfferedCiphers).toContain(TLS_PSK_WITH_AES_128_CCM_8);
  });

  test('no-ccm8 fails the handshake with the Bootstrap-Server; wrong-psk-identity fails it with the LwM2M Server', async () => {
    const bs = await harnessServer(BS, 'bs');
    const b = await bench({ defect: 'no-ccm8', dtlsHandshakeTimeoutMs: 1000 });
    await b.provision(bs.peer.uri, BS);
    await b.start();
    await b.waitForLog(/DTLS handshake with .* failed/, 3 * PROMPT_MS);
    expect(bs.handshakes).toHaveLength(0);
    expect(bs.failures[0]?.clientOfferedCiphers).toEqual([TLS_PSK_WITH_AES_128_CBC_SHA256]);

    const bs2 = await harnessServer(BS, 'bs');
    const dm = await harnessServer(DM, 'dm');
    const w = await bench({ defect: 'wrong-psk-identity', dtlsHandshakeTimeoutMs: 1000 });
    await w.provision(bs2.peer.uri, BS);
    await w.start();
    expect(await bootstrapThrough(bs2.peer, dm.peer.uri, DM, w)).toEqual(['2.04', '2.04', '2.04']);
    await w.waitForLog(/Register failed: no response/, 3 * PROMPT_MS);
    const serial = (await loadState(w.stateFile)).serialNumber;
    expect(dm.handshakes).toHaveLength(0);
    expect(dm.failures[0]?.pskIdentity).toBe(serial);
  });
});

// ---- the key stays out of the device's output -----------------------------------------------

describe('the PSK never reaches the device process output', () => {
  const CLI = resolve('dist/bin/geisa-adm.js');

  test('provision from a key file, run a DTLS bootstrap and registration: stdout and stderr hold fingerprints only', async () => {
    const b = await bench();
    const dir = b.dir;
    const keyFile = join(dir, 'bs.key');
    await writeFile(keyFile, b.bsPsk.key.toString('hex') + '\n');
    const state = join(dir, 'proc-state.json');
    const prov = spawnSync(process.execPath, [CLI, 'device', 'provision', '--state', state, '--bs-uri', b.bs.uri, '--endpoint', b.endpoint, '--psk-identity', b.bsPsk.identity, '--psk-key-file', keyFile], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(prov.status).toBe(0);
    expect(prov.stdout).toMatch(/PSK identity "bench-bs-identity", key [0-9a-f]{8}/);

    const child = spawn(process.execPath, [CLI, 'device', 'run', '--state', state, '--ack-timeout-ms', '100', '--max-retransmit', '2', '--max-latency-ms', '50'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    cleanups.push(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const req = await b.must(b.bs, isBootstrapRequest, 5000, 'Bootstrap-Request from the device process');
    const target = req.remote;
    const w1 = await b.bs.request(target, {
      method: 'PUT',
      path: '/0/1',
      contentFormat: CF.TLV,
      payload: encodeTlv(securityRecords(1, b.server.uri, 101, b.serverPsk), parsePath('/0/1')),
    });
    expect(w1.msg.code).toBe('2.04');
    const w2 = await b.bs.request(target, {
      method: 'PUT',
      path: '/1/0',
      contentFormat: CF.TLV,
      payload: encodeTlv(serverRecords(0, { lifetimeS: 30 }), parsePath('/1/0')),
    });
    expect(w2.msg.code).toBe('2.04');
    expect((await b.bs.request(target, { method: 'POST', path: '/bs' })).msg.code).toBe('2.04');
    await b.must(b.server, isRegister, 5000, 'Register from the device process');
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;

    const all = prov.stdout + prov.stderr + out;
    expect(all).toMatch(/DTLS session with .* established/);
    for (const key of [b.bsPsk.key, b.serverPsk.key]) {
      for (const form of [key.toString('hex'), key.toString('hex').toUpperCase(), key.toString('base64')]) expect(all).not.toContain(form);
    }
  });

  test('GEISA_PSK_HEX stands in for --psk-key-file; a bad key file is refused without echoing it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'geisa-device-psk-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const state = join(dir, 's.json');
    const secretHex = 'c0ffee00c0ffee00c0ffee00c0ffee00';
    const ok = spawnSync(process.execPath, [CLI, 'device', 'provision', '--state', state, '--bs-uri', 'coaps://127.0.0.1:5684', '--endpoint', 'ep-env', '--psk-identity', 'env-id'], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, GEISA_PSK_HEX: secretHex },
    });
    expect(ok.status).toBe(0);
    expect(ok.stdout + ok.stderr).not.toContain(secretHex);
    expect(JSON.parse(await readFile(state, 'utf8')).objects['0']['0']['5']).toBe(secretHex);

    const badFile = join(dir, 'bad.key');
    await writeFile(badFile, 'zz' + secretHex);
    const bad = spawnSync(process.execPath, [CLI, 'device', 'provision', '--state', state, '--bs-uri', 'coaps://127.0.0.1:5684', '--endpoint', 'ep', '--psk-identity', 'id', '--psk-key-file', badFile], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('pskKeyFile');
    expect(bad.stdout + bad.stderr).not.toContain(secretHex);
  });
});
