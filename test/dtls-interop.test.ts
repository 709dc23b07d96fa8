/**
 * Interop with libcoap's command-line clients (Debian package libcoap3-bin), one built on
 * OpenSSL and one on GnuTLS: a PSK handshake with TLS_PSK_WITH_AES_128_CCM_8, and the
 * certificate mode (ECDHE-ECDSA-AES128-CCM8, client certificate requested) with a PKI made
 * here by the openssl tool. Each client sends one CoAP GET; the test answers with a
 * hand-made piggybacked 2.05 so the client exits by itself.
 *
 * Skipped where the tools are missing (a fresh CI machine needs `apt-get install
 * libcoap3-bin openssl`).
 */
import { hasTool, describeIf } from './support/tools.js';
import { X509Certificate } from 'node:crypto';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DtlsServer, type DtlsHandshakeEvent, type DtlsHandshakeFailedEvent, type DtlsServerOptions } from '../harness/dtls/index.js';

const has = hasTool;
const CLIENTS = ['coap-client-openssl', 'coap-client-gnutls'].filter(has);
const HAVE_OPENSSL = has('openssl');
const NO_COAP_CLIENT = 'neither coap-client-openssl nor coap-client-gnutls (Debian libcoap3-bin)';

const IDENTITY = 'geisa-interop';
const KEY_TEXT = 'k3y-for-interop!'; // libcoap's -k takes the key as text
const KEY = Buffer.from(KEY_TEXT);

const servers: DtlsServer[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function startServer(options: Omit<DtlsServerOptions, 'address' | 'port'>): Promise<DtlsServer> {
  const server = await DtlsServer.listen({ address: '127.0.0.1', port: 0, ...options });
  servers.push(server);
  // Answer every CON request with ACK 2.05 "ok", same MID and token (RFC 7252 §5.2.1).
  server.on('message', (m) => {
    const b = m.bytes;
    if (b.length < 4 || b[0]! >> 6 !== 1 || (b[0]! & 0x30) !== 0) return;
    const tkl = b[0]! & 0x0f;
    const ack = Buffer.concat([Buffer.from([0x60 | tkl, 0x45, b[2]!, b[3]!]), b.subarray(4, 4 + tkl), Buffer.from([0xff]), Buffer.from('ok')]);
    server.send(ack, m.remote);
  });
  return server;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runClient(bin: string, args: string[], ms = 10_000): Promise<Run> {
  return new Promise((resolve) => {
    // -B bounds the client itself; the timer below bounds the test if it does not obey.
    const child = spawn(bin, ['-B', '5', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

function firstEvent<T>(server: DtlsServer, event: 'handshake' | 'handshake-failed'): { get: () => T | undefined } {
  let value: T | undefined;
  server.once(event, (e: unknown) => (value = e as T));
  return { get: () => value };
}

describeIf(CLIENTS.length > 0, NO_COAP_CLIENT)('libcoap clients, PSK (TLS_PSK_WITH_AES_128_CCM_8)', () => {
  test.each(CLIENTS)('%s completes the handshake and gets its CoAP answer', async (bin) => {
    const server = await startServer({ cipherSuites: ['PSK-AES128-CCM8'], pskLookup: (id) => (id === IDENTITY ? KEY : null) });
    const hs = firstEvent<DtlsHandshakeEvent>(server, 'handshake');
    const run = await runClient(bin, ['-u', IDENTITY, '-k', KEY_TEXT, `coaps://127.0.0.1:${server.local.port}/x`]);
    const e = hs.get();
    expect(e).toBeDefined();
    expect(e!.cipherId).toBe(0xc0a8);
    expect(e!.pskIdentity).toBe(IDENTITY);
    expect(e!.clientOfferedCiphers).toContain(0xc0a8);
    expect(run.stdout).toContain('ok');
    expect(run.code).toBe(0);
  });

  test.each(CLIENTS)('%s with a wrong key: handshake-failed, the client is refused', async (bin) => {
    const server = await startServer({ cipherSuites: ['PSK-AES128-CCM8'], pskLookup: (id) => (id === IDENTITY ? KEY : null) });
    const failed = firstEvent<DtlsHandshakeFailedEvent>(server, 'handshake-failed');
    const run = await runClient(bin, ['-u', IDENTITY, '-k', 'not-the-right-key', `coaps://127.0.0.1:${server.local.port}/x`]);
    expect(failed.get()?.alerts).toContainEqual(expect.objectContaining({ level: 'fatal', sent: true }));
    expect(run.stdout).not.toContain('ok');
    expect(`${run.stdout}${run.stderr}`).not.toContain(KEY_TEXT);
  });
});

describeIf(CLIENTS.length > 0 && HAVE_OPENSSL, HAVE_OPENSSL ? NO_COAP_CLIENT : 'no openssl on PATH to make the test PKI')('libcoap clients, certificates (ECDHE-ECDSA-AES128-CCM8)', () => {
  let dir = '';
  const pem = (name: string) => readFileSync(join(dir, name), 'utf8');

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'geisa-dtls-pki-'));
    const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    for (const ca of ['ca', 'other-ca']) {
      ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${ca}.key`);
      ossl('req', '-x509', '-new', '-key', `${ca}.key`, '-subj', `/CN=GEISA test ${ca}`, '-days', '2', '-out', `${ca}.pem`);
    }
    writeFileSync(join(dir, 'leaf.ext'), 'basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\nkeyUsage=digitalSignature\n');
    const leaf = (name: string, ca: string) => {
      ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`);
      ossl('req', '-new', '-key', `${name}.key`, '-subj', '/CN=127.0.0.1', '-out', `${name}.csr`);
      ossl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-out', `${name}.pem`, '-extfile', 'leaf.ext');
    };
    leaf('server', 'ca');
    leaf('client', 'ca');
    leaf('stranger', 'other-ca');
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const certServer = (over: Partial<DtlsServerOptions> = {}) =>
    startServer({
      cipherSuites: ['ECDHE-ECDSA-AES128-CCM8'],
      certPem: pem('server.pem'),
      keyPem: pem('server.key'),
      caPem: pem('ca.pem'),
      requestClientCert: true,
      ...over,
    });
  const clientArgs = (name: string, port: number) => ['-c', join(dir, `${name}.pem`), '-j', join(dir, `${name}.key`), '-C', join(dir, 'ca.pem'), `coaps://127.0.0.1:${port}/x`];

  test.each(CLIENTS)('%s: handshake with a client certificate, chain and verify result reported', async (bin) => {
    const server = await certServer();
    const hs = firstEvent<DtlsHandshakeEvent>(server, 'handshake');
    const run = await runClient(bin, clientArgs('client', server.local.port));
    const e = hs.get();
    expect(e).toBeDefined();
    expect(e!.cipher).toBe('ECDHE-ECDSA-AES128-CCM8');
    expect(e!.cipherId).toBe(0xc0ae);
    expect(e!.pskIdentity).toBeNull();
    expect(e!.peerCertChainDer.length).toBeGreaterThanOrEqual(1);
    const leaf = new X509Certificate(e!.peerCertChainDer[0]!);
    expect(leaf.fingerprint256).toBe(new X509Certificate(pem('client.pem')).fingerprint256);
    expect(e!.verifyResult).toBe(0);
    expect(e!.verifyResultText).toBe('ok');
    expect(run.stdout).toContain('ok');
    expect(run.code).toBe(0);
  });

  test('a certificate from another CA: reported as unverified, the handshake still completes', async () => {
    const server = await certServer();
    const hs = firstEvent<DtlsHandshakeEvent>(server, 'handshake');
    await runClient(CLIENTS[0]!, clientArgs('stranger', server.local.port));
    const e = hs.get();
    expect(e).toBeDefined();
    expect(new X509Certificate(e!.peerCertChainDer[0]!).fingerprint256).toBe(new X509Certificate(pem('stranger.pem')).fingerprint256);
    // 20 unable to get local issuer certificate / 21 unable to verify the first certificate,
    // depending on whether the client also sent its CA
    expect([20, 21]).toContain(e!.verifyResult);
    expect(e!.verifyResultText).toMatch(/issuer|verify the first certificate/);
  });

  test('requireValidClientCert: the same certificate fails the handshake', async () => {
    const server = await certServer({ requireValidClientCert: true });
    const failed = firstEvent<DtlsHandshakeFailedEvent>(server, 'handshake-failed');
    const hs = firstEvent<DtlsHandshakeEvent>(server, 'handshake');
    await runClient(CLIENTS[0]!, clientArgs('stranger', server.local.port));
    expect(hs.get()).toBeUndefined();
    expect(failed.get()?.error).toMatch(/certificate verify failed/);
    expect(failed.get()?.alerts).toContainEqual(expect.objectContaining({ level: 'fatal', sent: true }));
  });

  test('a key that does not match the certificate is refused when the server is made', async () => {
    await expect(certServer({ keyPem: pem('client.key') })).rejects.toThrow(/keyPem does not match certPem/);
  });
});
