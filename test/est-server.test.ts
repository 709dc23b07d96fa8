/**
 * The harness's EST-coaps server (RFC 9148) over real DTLS on 127.0.0.1: our DTLS client
 * with a client certificate (an IDevID from a manufacturer CA made here) does discovery,
 * crts, sen with CSRs built by @peculiar/x509 over node:crypto keys, sren with the
 * certificate it was issued, Block1/Block2 with small blocks, 5.03 with Max-Age; PSK,
 * anonymous and wrong-CA clients are refused and recorded as such. Every exchange is
 * checked in the server's record, which is what the EST cases will judge.
 */
import 'reflect-metadata';
import { X509Certificate, createPrivateKey, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { OPTION, uintOption } from '../harness/coap/message.js';
import { parseLinkFormat } from '../harness/lwm2m/link-format.js';
import { certificateFingerprint, createCa, issueCertificate, type CertificateMaterial } from '../harness/pki/certificates.js';
import { publicKeyFingerprint } from '../harness/pki/csr.js';
import { EstCa, certsFromPkcs7, type EstCaOptions } from '../harness/pki/est-ca.js';
import { EstServer, type EstServerOptions } from '../harness/est/est-server.js';
import { EST_CF, type EstExchange } from '../harness/est/est-service.js';
import { EstTestClient } from './support/est-client.js';

x509.cryptoProvider.set(webcrypto as never);

const FAST = { ackTimeoutMs: 500, ackRandomFactor: 1.5, maxRetransmit: 2, nstart: 1 };
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const ENDPOINT = 'urn:dev:ops:geisa-est-0001';

let manufacturer: Awaited<ReturnType<typeof createCa>>;
let idevid: CertificateMaterial;
let stranger: CertificateMaterial;

beforeAll(async () => {
  manufacturer = await createCa('GEISA test manufacturer CA');
  idevid = await issueCertificate(manufacturer, { commonName: ENDPOINT, usage: 'client' });
  const otherCa = await createCa('Someone else CA');
  stranger = await issueCertificate(otherCa, { commonName: ENDPOINT, usage: 'client' });
});

const servers: EstServer[] = [];
const clients: EstTestClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(over: Partial<EstServerOptions> = {}, caOpts: EstCaOptions = {}): Promise<{ server: EstServer; ca: EstCa }> {
  const ca = await EstCa.create({ lifetimeSeconds: 3600, ...caOpts });
  const server = await EstServer.open({ listenAddress: '127.0.0.1', advertiseHost: '127.0.0.1', params: FAST, ca, manufacturerCaPem: manufacturer.certPem, ...over });
  servers.push(server);
  return { server, ca };
}

async function connect(server: EstServer, ca: EstCa, cred: { certPem?: string; keyPem?: string } | { psk: { identity: string; key: Buffer } } = idevid): Promise<EstTestClient> {
  const psk = 'psk' in cred;
  const c = await EstTestClient.connect({
    remote: server.local,
    cipherSuites: psk ? ['PSK-AES128-CCM8'] : ['ECDHE-ECDSA-AES128-CCM8'],
    ...(psk ? { psk: cred.psk } : { caPem: ca.certPem, expectedServerName: '127.0.0.1', ...(cred.certPem ? { certPem: cred.certPem, keyPem: cred.keyPem! } : {}) }),
  });
  clients.push(c);
  return c;
}

async function keyPair(alg: object = EC): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(alg as never, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

async function csrFor(keys: webcrypto.CryptoKeyPair, cn = ENDPOINT, opts: { san?: string; alg?: object } = {}): Promise<Buffer> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${cn}`,
    keys: keys as never,
    signingAlgorithm: (opts.alg ?? EC) as never,
    extensions: opts.san ? [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: opts.san }])] : [],
  });
  return Buffer.from(csr.rawData);
}

async function spkiOf(keys: webcrypto.CryptoKeyPair): Promise<Buffer> {
  return Buffer.from(await webcrypto.subtle.exportKey('spki', keys.publicKey));
}

/** The PEM of a key pair's private key, for a DTLS client that presents the issued certificate. */
async function keyPem(keys: webcrypto.CryptoKeyPair): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return `-----BEGIN PRIVATE KEY-----\n${der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trim()}\n-----END PRIVATE KEY-----\n`;
}

async function lastExchange(server: EstServer, op: EstExchange['operation']): Promise<EstExchange> {
  const ex = await server.expect(op, 2000);
  expect(ex).toBeDefined();
  return ex!;
}

describe('discovery and crts', () => {
  test('GET /.well-known/core?rt=ace.est* lists crts, sen, sren under the short root with rt and ct "281 287"', async () => {
    const { server, ca } = await start();
    const c = await connect(server, ca);
    const res = await c.request('GET', '/.well-known/core', { query: ['rt=ace.est*'] });
    expect(res.msg.code).toBe('2.05');
    expect(uintOption(res.msg, OPTION.CONTENT_FORMAT)).toBe(40);
    const links = parseLinkFormat(res.msg.payload.toString());
    expect(links.map((l) => l.target)).toEqual(['/est/crts', '/est/sen', '/est/sren']);
    expect(links.map((l) => l.attributes.rt)).toEqual(['ace.est.crts', 'ace.est.sen', 'ace.est.sren']);
    expect(links.every((l) => l.attributes.ct === '281 287')).toBe(true);
    const ex = await lastExchange(server, 'discovery');
    expect(ex.query).toEqual(['rt=ace.est*']);
    expect(ex.auth.kind).toBe('certificate');

    const one = await c.request('GET', '/.well-known/core', { query: ['rt=ace.est.sen'] });
    expect(parseLinkFormat(one.msg.payload.toString()).map((l) => l.target)).toEqual(['/est/sen']);
  });

  test('crts on the default root and on the discovered short root: 2.05, PKCS#7 certs-only holding the EST CA; the IDevID authentication is recorded', async () => {
    const { server, ca } = await start();
    const c = await connect(server, ca);
    for (const path of ['/.well-known/est/crts', '/est/crts']) {
      const res = await c.request('GET', path);
      expect(res.msg.code).toBe('2.05');
      expect(uintOption(res.msg, OPTION.CONTENT_FORMAT)).toBe(EST_CF.PKCS7_CERTS);
      const certs = certsFromPkcs7(res.msg.payload);
      expect(certs).toHaveLength(1);
      expect(certs[0]!.equals(ca.certDer)).toBe(true);
      const ex = await lastExchange(server, 'crts');
      expect(ex.path).toBe(path);
      expect(ex.root).toBe(path.startsWith('/.well-known') ? '/.well-known/est' : '/est');
      expect(ex.type).toBe('CON');
      expect(ex.answeredWith).toBe('2.05');
      expect(ex.auth.kind).toBe('certificate');
      if (ex.auth.kind !== 'certificate') return;
      expect(ex.auth.anchor).toBe('manufacturer');
      expect(ex.auth.verifyResult).toBe(0);
      expect(ex.auth.leaf.subject).toBe(`CN=${ENDPOINT}`);
      expect(ex.auth.leaf.fingerprint).toBe(certificateFingerprint(idevid.certPem));
      expect(ex.auth.cipher).toBe('ECDHE-ECDSA-AES128-CCM8');
    }
  });

  test('crts with Accept 287 is the CA certificate alone; an Accept the server cannot serve is 4.06', async () => {
    const { server, ca } = await start();
    const c = await connect(server, ca);
    const res = await c.request('GET', '/.well-known/est/crts', { accept: EST_CF.PKIX_CERT });
    expect(res.msg.code).toBe('2.05');
    expect(uintOption(res.msg, OPTION.CONTENT_FORMAT)).toBe(287);
    expect(res.msg.payload.equals(ca.certDer)).toBe(true);
    const bad = await c.request('GET', '/.well-known/est/crts', { accept: 40 });
    expect(bad.msg.code).toBe('4.06');
    await lastExchange(server, 'crts');
    expect((await lastExchange(server, 'crts')).refusal).toMatch(/Accept 40/);
  });
});

describe('sen and sren', () => {
  test('sen: a P-256 CSR gets a certificate for that key, subject and SAN, signed by the EST CA; the CSR findings are recorded', async () => {
    const { server, ca } = await start();
    const c = await connect(server, ca);
    const keys = await keyPair();
    const csr = await csrFor(keys, ENDPOINT, { san: ENDPOINT });
    const res = await c.request('POST', '/.well-known/est/sen', { contentFormat: EST_CF.PKCS10, payload: csr });
    expect(res.msg.code).toBe('2.04');
    expect(uintOption(res.msg, OPTION.CONTENT_FORMAT)).toBe(281);
    const [der] = certsFromPkcs7(res.msg.payload);
    const cert = new X509Certificate(der!);
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(cert.subject).toBe(`CN=${ENDPOINT}`);
    expect(cert.subjectAltName).toBe(`URI:${ENDPOINT}`);
    expect(Buffer.from(cert.publicKey.export({ format: 'der', type: 'spki' })).equals(await spkiOf(keys))).toBe(true);
    const ex = await lastExchange(server, 'sen');
    expect(ex.contentFormat).toBe(286);
    expect(ex.csr?.parsed).toBe(true);
    if (!ex.csr?.parsed) return;
    expect(ex.csr.signatureValid).toBe(true);
    expect(ex.csr.key.description).toBe('EC P-256');
    expect(ex.csr.commonName).toBe(ENDPOINT);
    expect(ex.csr.san).toEqual([{ type: 'url', value: ENDPOINT }]);
    expect(ex.csr.publicKeyFingerprint).toBe(publicKeyFingerprint(await spkiOf(keys)));
    expect(ex.issued?.der.equals(der!)).toBe(true);
    expect(ex.issued?.publicKeyFingerprint).toBe(ex.csr.publicKeyFingerprint);
    expect(ca.issuedCertificate(der!)).toBeDefined();
  });

  test('sen with Accept 287 answers the bare certificate; two enrollments with fresh keys show different key fingerprints, the same key the same', async () => {
    const { server, ca } = await start();
    const c = await connect(server, ca);
    const k1 = await keyPair();
    const k2 = await keyPair();
    const fps: string[] = [];
    for (const k of [k1, k2, k1]) {
      const res = await c.request('POST', '/est/sen', { contentFormat: 286, accept: 287, payload: await csrFor(k) });
      expect(res.msg.code).toBe('2.04');
      expect(uintOption(res.msg, OPTION.CONTENT_FORMAT)).toBe(287);
      expect(new X509Certificate(res.msg.payload).subject).toBe(`CN=${ENDPOINT}`);
      const ex = await lastExchange(server, 'sen');
      fps.push(ex.csr?.parsed ? ex.csr.publicKeyFingerprint : '');
    }
    expect(fps[0]).not.toBe(fps[1]);
    expect(fps[0]).toBe(fps[2]);
  });

  test('an RSA 2048 CSR is read as such', async () => {
    const { server, ca } = await start();
    const c = await connect(server, ca);
    const rsa = { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
    const keys = await keyPair(rsa);
    const res = await c.request('POST', '/est/sen', { contentFormat: 286, payload: await csrFor(keys, ENDPOINT, { alg: rsa }) });
    expect(res.msg.code).toBe('2.04');
    const ex = await lastExchange(server, 'sen');
    expect(ex.csr?.parsed && ex.csr.key).toEqual({ type: 'rsa', bits: 2048, description: 'RSA 2048' });
  });

  test('sren over a new session with the issued certificate: 2.04, authenticated as est-ca; sren with the IDevID is 4.03; a changed subject is 4.00', async () => {
    const { server, ca } = await start();
    const first = await connect(server, ca);
    const keys = await keyPair();
    const res = await first.request('POST', '/est/sen', { contentFormat: 286, accept: 287, payload: await csrFor(keys) });
    const ldevid = { certPem: new X509Certificate(res.msg.payload).toString(), keyPem: await keyPem(keys) };

    const withIdevid = await first.request('POST', '/est/sren', { contentFormat: 286, payload: await csrFor(await keyPair()) });
    expect(withIdevid.msg.code).toBe('4.03');
    const refused = await lastExchange(server, 'sren');
    expect(refused.refusal).toMatch(/certificate this EST server issued/);

    const second = await connect(server, ca, ldevid);
    const next = await keyPair();
    const ok = await second.request('POST', '/.well-known/est/sren', { contentFormat: 286, payload: await csrFor(next) });
    expect(ok.msg.code).toBe('2.04');
    const ex = await lastExchange(server, 'sren');
    expect(ex.auth.kind === 'certificate' && ex.auth.anchor).toBe('est-ca');
    expect(ex.auth.kind === 'certificate' && ex.auth.leaf.fingerprint).toBe(certificateFingerprint(ldevid.certPem));
    const renewed = new X509Certificate(certsFromPkcs7(ok.msg.payload)[0]!);
    expect(Buffer.from(renewed.publicKey.export({ format: 'der', type: 'spki' })).equals(await spkiOf(next))).toBe(true);

    const other = await second.request('POST', '/est/sren', { contentFormat: 286, payload: await csrFor(await keyPair(), 'urn:dev:ops:someone-else') });
    expect(other.msg.code).toBe('4.00');
    expect((await lastExchange(server, 'sren')).refusal).toMatch(/RFC 7030 §4.2.2/);
  });

  test('short-lived certificates: the lifetime in seconds is what the certificate says', async () => {
    const { server, ca } = await start();
    ca.lifetimeSeconds = 30;
    const c = await connect(server, ca);
    const res = await c.request('POST', '/est/sen', { contentFormat: 286, accept: 287, payload: await csrFor(await keyPair()) });
    const cert = new X509Certificate(res.msg.payload);
    const left = (Date.parse(cert.validTo) - Date.now()) / 1000;
    expect(left).toBeGreaterThan(25);
    expect(left).toBeLessThanOrEqual(30);
  });
});

describe('block-wise transfer (RFC 7959)', () => {
  test('Block2: crts in 64-byte blocks, reassembled to the same PKCS#7; the record counts the blocks served', async () => {
    const extra = await createCa('an extra trust anchor');
    const { server, ca } = await start({ blockSize: 64 }, { extraCaPems: [extra.certPem] });
    const c = await connect(server, ca);
    const { responses, body } = await c.exchange('GET', '/est/crts');
    expect(responses.length).toBeGreaterThan(5);
    expect(responses.every((r) => r.msg.code === '2.05')).toBe(true);
    expect(responses.slice(0, -1).every((r) => r.msg.payload.length === 64)).toBe(true);
    expect(uintOption(responses[0]!.msg, OPTION.SIZE2)).toBe(body.length);
    expect(body.equals(ca.caCertsPkcs7())).toBe(true);
    expect(certsFromPkcs7(body)).toHaveLength(2);
    const ex = await lastExchange(server, 'crts');
    expect(ex.block2).toEqual({ blockSize: 64, blocks: responses.length, blocksServed: responses.length });
  });

  test('Block2 early negotiation: the client asks for 32-byte blocks in its first request on a 1024-byte server', async () => {
    const { server, ca } = await start();
    const c = await connect(server, ca);
    const { responses, body } = await c.exchange('GET', '/.well-known/est/crts', { block2Size: 32 });
    expect(responses[0]!.msg.payload.length).toBe(32);
    expect(body.equals(ca.caCertsPkcs7())).toBe(true);
  });

  test('Block1 then Block2: a CSR in 64-byte blocks (2.31 each), the certificate back in 64-byte blocks over POST', async () => {
    const { server, ca } = await start({ blockSize: 64 });
    const c = await connect(server, ca);
    const csr = await csrFor(await keyPair(), ENDPOINT, { san: ENDPOINT });
    const { responses, body } = await c.exchange('POST', '/est/sen', { contentFormat: 286, payload: csr, block1Size: 64 });
    const nBlock1 = Math.ceil(csr.length / 64);
    expect(responses.slice(0, nBlock1 - 1).every((r) => r.msg.code === '2.31')).toBe(true);
    expect(responses.slice(nBlock1 - 1).every((r) => r.msg.code === '2.04')).toBe(true);
    const b1 = uintOption(responses[nBlock1 - 1]!.msg, OPTION.BLOCK1)!;
    expect([Math.floor(b1 / 16), b1 & 8]).toEqual([nBlock1 - 1, 0]);
    const ex = await lastExchange(server, 'sen');
    expect(ex.block1).toEqual({ blocks: nBlock1, firstBlockSize: 64 });
    expect(ex.requestBytes).toBe(csr.length);
    expect(ex.issued).toBeDefined();
    expect(certsFromPkcs7(body)[0]!.equals(ex.issued!.der)).toBe(true);
    expect(ex.block2?.blocksServed).toBe(ex.block2?.blocks);
    expect(server.exchanges.all.filter((e) => e.operation === 'sen')).toHaveLength(1);
  });

  test('Block1 size negotiation: 256-byte blocks to a 64-byte server are asked down in the first 2.31 and the CSR still arrives whole', async () => {
    const { server, ca } = await start({ blockSize: 64 });
    const c = await connect(server, ca);
    const csr = await csrFor(await keyPair(), ENDPOINT, { san: `${ENDPOINT}-with-a-longer-san-so-it-spans-blocks` });
    const { responses } = await c.exchange('POST', '/est/sen', { contentFormat: 286, accept: 287, payload: csr, block1Size: 256 });
    expect(uintOption(responses[0]!.msg, OPTION.BLOCK1)! & 7).toBe(2);
    const ex = await lastExchange(server, 'sen');
    expect(ex.answeredWith).toBe('2.04');
    expect(ex.requestBytes).toBe(csr.length);
    expect(ex.block1?.firstBlockSize).toBe(256);
  });

  test('a Block1 block that does not follow the previous one is 4.08', async () => {
    const { server, ca } = await start();
    const c = await connect(server, ca);
    const res = await c.request('POST', '/est/sen', { contentFormat: 286, payload: Buffer.alloc(64, 1), options: [{ number: OPTION.BLOCK1, value: Buffer.from([0x2a]) }] });
    expect(res.msg.code).toBe('4.08');
    expect((await lastExchange(server, 'sen')).refusal).toMatch(/without block 0/);
  });
});

describe('policies and refusals', () => {
  test('try later: 5.03 with Max-Age, the CSR recorded; the identical CSR sent again is served', async () => {
    const { server, ca } = await start();
    server.policies.sen = { kind: 'retry-later', maxAgeSeconds: 2, times: 1 };
    const c = await connect(server, ca);
    const csr = await csrFor(await keyPair());
    const first = await c.request('POST', '/est/sen', { contentFormat: 286, payload: csr });
    expect(first.msg.code).toBe('5.03');
    expect(uintOption(first.msg, OPTION.MAX_AGE)).toBe(2);
    const again = await c.request('POST', '/est/sen', { contentFormat: 286, payload: csr });
    expect(again.msg.code).toBe('2.04');
    const a = await lastExchange(server, 'sen');
    const b = await lastExchange(server, 'sen');
    expect([a.answeredWith, a.maxAgeSeconds, a.issued]).toEqual(['5.03', 2, undefined]);
    expect(b.answeredWith).toBe('2.04');
    expect(a.csr?.parsed && b.csr?.parsed && a.csr.publicKeyFingerprint === b.csr.publicKeyFingerprint).toBe(true);
  });

  test('a slow server: empty ACK first, the certificate in a separate response (RFC 9148 §4.7 short wait)', async () => {
    const { server, ca } = await start();
    server.policies.sen = { kind: 'delay', delayMs: 300 };
    const c = await connect(server, ca);
    const res = await c.request('POST', '/est/sen', { contentFormat: 286, payload: await csrFor(await keyPair()) });
    expect(res.separate).toBe(true);
    expect(res.msg.code).toBe('2.04');
    const ex = await lastExchange(server, 'sen');
    expect(Number(ex.answeredMonoNs! - ex.completeMonoNs) / 1e6).toBeGreaterThanOrEqual(290);
  });

  test('a case can arm 4.03 for sen', async () => {
    const { server, ca } = await start();
    server.policies.sen = { kind: 'reject', code: '4.03' };
    const c = await connect(server, ca);
    const res = await c.request('POST', '/est/sen', { contentFormat: 286, payload: await csrFor(await keyPair()) });
    expect(res.msg.code).toBe('4.03');
    expect((await lastExchange(server, 'sen')).issued).toBeUndefined();
  });

  test('malformed requests: 4.15 without Content-Format 286, 4.00 for an unreadable CSR and for a broken self-signature, 4.05, 4.04', async () => {
    const { server, ca } = await start();
    const c = await connect(server, ca);
    const csr = await csrFor(await keyPair());
    expect((await c.request('POST', '/est/sen', { contentFormat: 0, payload: csr })).msg.code).toBe('4.15');
    expect((await lastExchange(server, 'sen')).refusal).toMatch(/Content-Format 286/);

    expect((await c.request('POST', '/est/sen', { contentFormat: 286, payload: Buffer.from('not a CSR') })).msg.code).toBe('4.00');
    const garbage = await lastExchange(server, 'sen');
    expect(garbage.csr).toMatchObject({ parsed: false });

    const tampered = Buffer.from(csr);
    tampered[tampered.length - 1] ^= 0x01;
    expect((await c.request('POST', '/est/sen', { contentFormat: 286, payload: tampered })).msg.code).toBe('4.00');
    const bad = await lastExchange(server, 'sen');
    expect(bad.csr).toMatchObject({ parsed: true, signatureValid: false });
    expect(bad.refusal).toMatch(/self-signature/);

    expect((await c.request('GET', '/est/sen')).msg.code).toBe('4.05');
    expect((await c.request('POST', '/est/skg', { contentFormat: 286, payload: csr })).msg.code).toBe('4.04');
    expect((await lastExchange(server, 'sen')).answeredWith).toBe('4.05');
    expect((await lastExchange(server, 'other')).refusal).toMatch(/optional EST-coaps function/);
  });

  test('a certificate from another CA: recorded with no anchor and a failed verify result, refused 4.03', async () => {
    const { server, ca } = await start();
    const c = await connect(server, ca, stranger);
    const res = await c.request('GET', '/est/crts');
    expect(res.msg.code).toBe('4.03');
    const ex = await lastExchange(server, 'crts');
    expect(ex.auth.kind).toBe('certificate');
    if (ex.auth.kind !== 'certificate') return;
    expect(ex.auth.anchor).toBeNull();
    expect(ex.auth.verifyResult).not.toBe(0);
    expect(ex.auth.leaf.fingerprint).toBe(certificateFingerprint(stranger.certPem));
  });

  test('no client certificate (certificate suite, nothing sent when asked): recorded as anonymous, 4.01', async () => {
    const { server, ca } = await start();
    const c = await connect(server, ca, {});
    const res = await c.request('POST', '/est/sen', { contentFormat: 286, payload: await csrFor(await keyPair()) });
    expect(res.msg.code).toBe('4.01');
    const ex = await lastExchange(server, 'sen');
    expect(ex.auth).toEqual({ kind: 'anonymous', cipher: 'ECDHE-ECDSA-AES128-CCM8' });
  });

  test('a PSK client, where the case lets PSK handshakes through: recorded with its identity, 4.01; without that, its handshake fails and is recorded', async () => {
    const key = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const { server, ca } = await start({ pskLookup: (id) => (id === 'dev-psk' ? key : null) });
    const c = await connect(server, ca, { psk: { identity: 'dev-psk', key } });
    const res = await c.request('GET', '/est/crts');
    expect(res.msg.code).toBe('4.01');
    const ex = await lastExchange(server, 'crts');
    expect(ex.auth).toEqual({ kind: 'psk', cipher: 'PSK-AES128-CCM8', identity: 'dev-psk' });
    expect(ex.refusal).toMatch(/requires a client certificate/);

    const strict = await start();
    await expect(connect(strict.server, strict.ca, { psk: { identity: 'dev-psk', key } })).rejects.toThrow();
    expect(await strict.server.dtls.handshakeFailures.next(() => true, 2000)).toBeDefined();
    expect(strict.server.exchanges.all).toHaveLength(0);
  });

  test('nothing recorded carries a private key', async () => {
    const { server, ca } = await start({ blockSize: 64 });
    const c = await connect(server, ca);
    const keys = await keyPair();
    await c.exchange('POST', '/est/sen', { contentFormat: 286, payload: await csrFor(keys), block1Size: 64 });
    await c.request('GET', '/est/crts');
    const text = JSON.stringify(server.exchanges.all, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
    // The private scalars themselves, in every form a record could hold them (base64, hex, a JSON Buffer's numbers).
    const d = Buffer.from((await webcrypto.subtle.exportKey('jwk', keys.privateKey)).d!, 'base64url');
    const idevidD = Buffer.from(createPrivateKey(idevid.keyPem).export({ format: 'jwk' }).d!, 'base64url');
    for (const scalar of [d, idevidD]) {
      for (const form of [scalar.toString('base64'), scalar.toString('hex'), [...scalar.subarray(0, 12)].join(',')]) expect(text).not.toContain(form);
    }
    expect(text).not.toContain('PRIVATE KEY');
    expect(server.exchanges.all.length).toBeGreaterThanOrEqual(2);
  });
});
