/**
 * libcoap's `coap-client-openssl` (a client we did not write) against the harness's EST
 * server: GET crts and POST sen with a client certificate (the IDevID), the server's
 * certificate checked against the EST CA, and the server's small blocks (Block2, and
 * Block1 for the CSR) followed by libcoap on its own. The openssl tool reads what comes
 * back, also independently of our PKCS#7 code. Skipped without libcoap3-bin / openssl.
 *
 * The IDevID's key is written to a temporary folder for libcoap and the folder removed
 * after the file; the jest teardown fails the run if any key is left behind.
 */
import 'reflect-metadata';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate, webcrypto } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { createCa, issueCertificate, type CertificateMaterial } from '../harness/pki/certificates.js';
import { EstCa, certsFromPkcs7 } from '../harness/pki/est-ca.js';
import { EstServer } from '../harness/est/est-server.js';
import { hasTool, describeIf } from './support/tools.js';

x509.cryptoProvider.set(webcrypto as never);

const HAVE = hasTool('coap-client-openssl') && hasTool('openssl');
const maybe = describeIf(HAVE, 'needs coap-client-openssl (Debian libcoap3-bin) and openssl');
const FAST = { ackTimeoutMs: 500, ackRandomFactor: 1.5, maxRetransmit: 2, nstart: 1 };
const ENDPOINT = 'urn:dev:ops:geisa-libcoap-0001';

let dir: string;
let idevid: CertificateMaterial;
let manufacturerPem: string;
const servers: EstServer[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'geisa-est-interop-'));
  const manufacturer = await createCa('GEISA interop manufacturer CA');
  manufacturerPem = manufacturer.certPem;
  idevid = await issueCertificate(manufacturer, { commonName: ENDPOINT, usage: 'client' });
  writeFileSync(join(dir, 'idevid.pem'), idevid.certPem);
  writeFileSync(join(dir, 'idevid.key'), idevid.keyPem, { mode: 0o600 });
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(blockSize?: number): Promise<{ server: EstServer; ca: EstCa }> {
  const ca = await EstCa.create({ lifetimeSeconds: 3600 });
  const server = await EstServer.open({ listenAddress: '127.0.0.1', advertiseHost: '127.0.0.1', params: FAST, ca, manufacturerCaPem: manufacturerPem, ...(blockSize ? { blockSize } : {}) });
  servers.push(server);
  writeFileSync(join(dir, 'est-ca.pem'), ca.certPem);
  return { server, ca };
}

function coapClient(args: string[], ms = 15_000): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('coap-client-openssl', ['-B', '8', '-c', join(dir, 'idevid.pem'), '-j', join(dir, 'idevid.key'), '-C', join(dir, 'est-ca.pem'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stderr = '';
    child.stdout!.resume();
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stderr });
    });
  });
}

/** openssl's reading of a DER PKCS#7: the subjects it holds. */
function opensslSubjects(p7: string): string {
  return execFileSync('openssl', ['pkcs7', '-inform', 'DER', '-in', p7, '-print_certs', '-noout'], { encoding: 'utf8' });
}

maybe('libcoap coap-client-openssl against the EST server', () => {
  test('GET /.well-known/est/crts: the PKCS#7 libcoap saves holds the EST CA (openssl reads it), Block2 in 64-byte blocks followed by libcoap', async () => {
    const { server, ca } = await start(64);
    const out = join(dir, 'crts.p7');
    const run = await coapClient(['-m', 'get', '-A', '281', '-o', out, `coaps://127.0.0.1:${server.port}/.well-known/est/crts`]);
    expect(run.stderr).not.toMatch(/error|fail/i);
    expect(run.code).toBe(0);
    const body = readFileSync(out);
    expect(body.equals(ca.caCertsPkcs7())).toBe(true);
    expect(opensslSubjects(out)).toContain('subject=CN = GEISA ADM EST CA');
    const ex = await server.expect('crts', 2000);
    expect(ex?.answeredWith).toBe('2.05');
    expect(ex?.accept).toBe(281);
    expect(ex?.auth.kind === 'certificate' && ex.auth.anchor).toBe('manufacturer');
    expect(ex?.block2?.blocks).toBeGreaterThan(1);
    expect(ex?.block2?.blocksServed).toBe(ex?.block2?.blocks);
  });

  test('POST /.well-known/est/sen with a CSR from a file (Content-Format 286), in Block1 blocks: libcoap saves the issued certificate', async () => {
    const { server, ca } = await start(128);
    const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: `CN=${ENDPOINT}`,
      keys: keys as never,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as never,
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: ENDPOINT }])],
    });
    const csrFile = join(dir, 'dev.csr');
    writeFileSync(csrFile, Buffer.from(csr.rawData));
    const out = join(dir, 'issued.p7');
    const run = await coapClient(['-m', 'post', '-t', '286', '-A', '281', '-b', '64', '-f', csrFile, '-o', out, `coaps://127.0.0.1:${server.port}/.well-known/est/sen`]);
    expect(run.code).toBe(0);
    const [der] = certsFromPkcs7(readFileSync(out));
    const cert = new X509Certificate(der!);
    expect(cert.subject).toBe(`CN=${ENDPOINT}`);
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(Buffer.from(cert.publicKey.export({ format: 'der', type: 'spki' })).equals(Buffer.from(await webcrypto.subtle.exportKey('spki', keys.publicKey)))).toBe(true);
    expect(opensslSubjects(out)).toContain(`subject=CN = ${ENDPOINT}`);
    const ex = await server.expect('sen', 2000);
    expect(ex?.answeredWith).toBe('2.04');
    expect(ex?.contentFormat).toBe(286);
    expect(ex?.block1?.blocks).toBe(Math.ceil(csr.rawData.byteLength / 64));
    expect(ex?.csr?.parsed && ex.csr.signatureValid).toBe(true);
    expect(ex?.issued?.der.equals(der!)).toBe(true);
  });
});
