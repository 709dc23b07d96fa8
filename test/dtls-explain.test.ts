/**
 * A failed handshake said in a lab's words (issue 13, findings 7 and 8), over real UDP on
 * 127.0.0.1: which side sent which alert after which flight, what the refused certificate
 * holds and whether it is the one the device was given, the likely remedy; cipher lists by
 * IANA name and summarised; a flood of failed handshakes and stray records summarised into
 * a bounded reason. The refusing device is the harness's own DTLS client (configured as a
 * DNS-only TLS stack, or with another trust anchor) and libcoap's coap-client-openssl.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DtlsClient, DtlsClientHandshakeError, DtlsServer, DtlsTransport, type DtlsClientOptions, type DtlsHandshakeFailedEvent, type DtlsServerOptions } from '../harness/dtls/index.js';
import { cipherSuiteName, describeCipherList } from '../harness/dtls/cipher-suites.js';
import { BootstrapServer } from '../harness/servers/bootstrap-server.js';
import { createCa, issueCertificate, type CertificateMaterial } from '../harness/pki/certificates.js';
import { DTLS_TROUBLE_MAX_CHARS, dtlsTrouble } from '../suites/steps.js';
import { hasTool, testIf } from './support/tools.js';
import { openCertificateBootstrapServer } from './support/dtls-servers.js';

const DEVICE_EP = 'urn:dev:ops:explain-1';
/** A raw code in a reason: what a lab cannot read. */
const RAW_SUITE_CODE = /\b0x[0-9a-f]{4}\b/i;

type Ca = Awaited<ReturnType<typeof createCa>>;
let runCa: Ca;
let manufacturer: Ca;
let stranger: Ca;
let bsCert: CertificateMaterial;
let otherCert: CertificateMaterial;
let idevid: CertificateMaterial;

beforeAll(async () => {
  [runCa, manufacturer, stranger] = await Promise.all([createCa('GEISA ADM run CA'), createCa('Acme manufacturer CA'), createCa('Some other CA')]);
  [bsCert, otherCert, idevid] = await Promise.all([
    issueCertificate(runCa, { commonName: 'geisa-adm bootstrap-server', hosts: ['127.0.0.1'], usage: 'server' }),
    issueCertificate(runCa, { commonName: 'another server', hosts: ['127.0.0.1'], usage: 'server' }),
    issueCertificate(manufacturer, { commonName: DEVICE_EP, usage: 'client' }),
  ]);
});

const closers: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function certBootstrapServer(): Promise<BootstrapServer> {
  const bs = await openCertificateBootstrapServer(bsCert, manufacturer.certPem);
  closers.push(() => bs.close());
  return bs;
}

/** The Bootstrap-Server's DTLS server in certificate mode, asking for the device's certificate; closed after the test. */
async function certServer(over: Partial<DtlsServerOptions> = {}): Promise<DtlsTransport> {
  const server = await DtlsServer.listen({
    address: '127.0.0.1',
    port: 0,
    cipherSuites: ['ECDHE-ECDSA-AES128-CCM8'],
    certPem: bsCert.certPem,
    keyPem: bsCert.keyPem,
    caPem: manufacturer.certPem,
    requestClientCert: true,
    ...over,
  });
  closers.push(() => server.close());
  return DtlsTransport.over(server, 'bootstrap-server');
}

/** The harness's DTLS client as the device; its handshake is expected to be refused by itself. */
async function deviceRefuses(port: number, over: Partial<DtlsClientOptions>): Promise<DtlsClientHandshakeError> {
  try {
    const c = await DtlsClient.connect({
      remote: { address: '127.0.0.1', port },
      cipherSuites: ['ECDHE-ECDSA-AES128-CCM8'],
      certPem: idevid.certPem,
      keyPem: idevid.keyPem,
      handshakeTimeoutMs: 5000,
      ...over,
    });
    await c.close();
    throw new Error('the handshake unexpectedly succeeded');
  } catch (e) {
    if (!(e instanceof DtlsClientHandshakeError)) throw e;
    return e;
  }
}

async function failureOn(dtls: DtlsTransport): Promise<DtlsHandshakeFailedEvent> {
  const f = await dtls.handshakeFailures.next(() => true, 5000);
  if (!f) throw new Error('no handshake-failed event within 5 s');
  return f;
}

/** The epoch-0 handshake fragments of a datagram (RFC 6347 §4.1, §4.2.2 headers). */
function handshakeFragments(d: Buffer): { type: number; length: number; fragmentLength: number }[] {
  const out: { type: number; length: number; fragmentLength: number }[] = [];
  for (let i = 0; i + 13 <= d.length; i += 13 + d.readUInt16BE(i + 11)) {
    if (d[i] === 22 && d.readUInt16BE(i + 3) === 0 && i + 25 <= d.length) out.push({ type: d[i + 13]!, length: d.readUIntBE(i + 14, 3), fragmentLength: d.readUIntBE(i + 22, 3) });
  }
  return out;
}

describe('a device refusing the Bootstrap-Server certificate', () => {
  test('a TLS stack matching DNS names only (usage 3, our SAN an IP): side, alert, flight, certificate, /0/x/4 and the advertiseHost remedy', async () => {
    const bs = await certBootstrapServer();
    const dtls = bs.dtls!;
    dtls.expectServerCertificate({ der: Buffer.from(bsCert.cert.raw), usage: 3, resource: '/0/0/4' });
    // The pinned certificate is the right one; the device still checks a DNS name it was never told.
    const e = await deviceRefuses(dtls.local.port, { certificateUsage: 3, caPem: bsCert.certPem, expectedServerName: 'bootstrap.lab.example' });
    expect(e.alerts).toContainEqual(expect.objectContaining({ description: 'bad certificate', sent: true }));
    const f = await failureOn(dtls);
    // OpenSSL's own words are what a reason used to stop at.
    expect(f.error).toMatch(/alert bad certificate/);

    const x = dtls.explainFailure(f);
    expect(x.outcome).toBe("the device sent fatal alert bad_certificate after our Certificate (flight ServerHello, Certificate, ServerKeyExchange, CertificateRequest, ServerHelloDone): it refused the Bootstrap-Server's certificate");
    expect(x.text).toContain("the Bootstrap-Server's certificate: subject CN=geisa-adm bootstrap-server, SAN iPAddress 127.0.0.1, issuer CN=GEISA ADM run CA");
    expect(x.text).toContain('it is byte for byte the certificate the device was given as /0/0/4 under Certificate Usage 3');
    expect(x.text).toMatch(/likely remedy: .*some TLS stacks match the server's name against DNS names only: set harness\.advertiseHost in the profile to a DNS name/);
    expect(x.text).toContain('OpenSSL: ');
    expect(x.text).toContain('ClientHello offered TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8');
    expect(x.text).not.toMatch(RAW_SUITE_CODE);

    // The reason a case gives when nothing arrived carries the same explanation.
    const reason = dtlsTrouble(dtls);
    expect(reason).toContain('the device sent fatal alert bad_certificate after our Certificate');
    expect(reason).toContain('set harness.advertiseHost');
  }, 30_000);

  test('another trust anchor: unknown_ca, and our certificate is said not to be the one in /0/x/4', async () => {
    const bs = await certBootstrapServer();
    const dtls = bs.dtls!;
    dtls.expectServerCertificate({ der: Buffer.from(otherCert.cert.raw), usage: 3, resource: '/0/0/4' });
    await deviceRefuses(dtls.local.port, { caPem: stranger.certPem });
    const x = dtls.explainFailure(await failureOn(dtls));
    expect(x.outcome).toMatch(/^the device sent fatal alert unknown_ca after our Certificate \(flight ServerHello, Certificate, .*\): it refused the Bootstrap-Server's certificate$/);
    expect(x.text).toContain('it is not the certificate the device was given as /0/0/4 under Certificate Usage 3');
    expect(x.text).toContain('(that one: subject CN=another server');
    expect(x.text).toContain('refusing a certificate other than /0/0/4 is what Certificate Usage 3 asks');
    expect(x.text).not.toContain('likely remedy');
  }, 30_000);

  const COAP_CLIENT = 'coap-client-openssl';
  testIf(hasTool(COAP_CLIENT), `no ${COAP_CLIENT} (Debian libcoap3-bin)`)(
    'libcoap coap-client-openssl trusting another CA: its alert, after our Certificate, explained',
    async () => {
      const bs = await certBootstrapServer();
      const dir = mkdtempSync(join(tmpdir(), 'geisa-explain-'));
      closers.push(() => rmSync(dir, { recursive: true, force: true }));
      writeFileSync(join(dir, 'ca.pem'), stranger.certPem);
      writeFileSync(join(dir, 'dev.pem'), idevid.certPem);
      writeFileSync(join(dir, 'dev.key'), idevid.keyPem, { mode: 0o600 });
      const child = spawn(COAP_CLIENT, ['-B', '5', '-m', 'post', '-c', join(dir, 'dev.pem'), '-j', join(dir, 'dev.key'), '-C', join(dir, 'ca.pem'), `${bs.uri}/bs?ep=${DEVICE_EP}`], { stdio: 'ignore' });
      closers.push(() => {
        child.kill('SIGKILL');
      });
      const x = bs.dtls!.explainFailure(await failureOn(bs.dtls!));
      expect(x.outcome).toMatch(/^the device sent fatal alert (unknown_ca|bad_certificate|certificate_unknown) after our Certificate \(flight ServerHello, Certificate, .*ServerHelloDone\): it refused the Bootstrap-Server's certificate$/);
      expect(x.text).toContain('SAN iPAddress 127.0.0.1');
      expect(x.text).toMatch(/likely remedy: /);
      expect(x.text).not.toMatch(RAW_SUITE_CODE);
    },
    30_000,
  );
});

describe('what the wire shows when there is no simple answer', () => {
  test('our Certificate fragmented over several datagrams (MTU 300) is reassembled: the refused certificate is still described', async () => {
    const dtls = await certServer({ mtu: 300 });
    const fromServer: Buffer[] = [];
    dtls.server.on('record', (r) => r.direction === 'out' && fromServer.push(r.bytes));
    await deviceRefuses(dtls.local.port, { caPem: stranger.certPem });
    const x = dtls.explainFailure(await failureOn(dtls));
    // The Certificate (handshake type 11) left in fragments, in more than one datagram.
    const certificateFragments = fromServer.filter((d) => handshakeFragments(d).some((h) => h.type === 11 && h.fragmentLength < h.length));
    expect(certificateFragments.length).toBeGreaterThan(1);
    expect(x.outcome).toMatch(/^the device sent fatal alert unknown_ca after our Certificate/);
    expect(x.text).toContain("the Bootstrap-Server's certificate: subject CN=geisa-adm bootstrap-server, SAN iPAddress 127.0.0.1, issuer CN=GEISA ADM run CA");
  }, 30_000);

  test('a device gone silent after our flight: no alert, the flight named with how often we sent it', async () => {
    const dtls = await certServer({ handshakeTimeoutMs: 2500 });
    // A relay that lets the device's first two datagrams through (ClientHello, then with the cookie) and none after.
    const relay = dgram.createSocket('udp4');
    closers.push(() => {
      relay.close();
    });
    await new Promise<void>((r) => relay.bind(0, '127.0.0.1', () => r()));
    let device: { port: number } | undefined;
    let forwarded = 0;
    relay.on('message', (m, rinfo) => {
      if (rinfo.port === dtls.local.port) {
        if (device) relay.send(m, device.port, '127.0.0.1');
      } else {
        device = { port: rinfo.port };
        if (forwarded++ < 2) relay.send(m, dtls.local.port, '127.0.0.1');
      }
    });
    const ac = new AbortController();
    const client = DtlsClient.connect({
      remote: { address: '127.0.0.1', port: relay.address().port },
      cipherSuites: ['ECDHE-ECDSA-AES128-CCM8'],
      certPem: idevid.certPem,
      keyPem: idevid.keyPem,
      verifyServer: 'none',
      handshakeTimeoutMs: 5000,
      signal: ac.signal,
    }).catch(() => undefined);
    closers.push(async () => {
      ac.abort();
      await client;
    });
    const x = dtls.explainFailure(await failureOn(dtls));
    expect(x.outcome).toMatch(
      /^no alert: the device sent nothing after our flight ServerHello, Certificate, ServerKeyExchange, CertificateRequest, ServerHelloDone \(sent [2-9] times\); the handshake ended: handshake not completed within 2500 ms$/,
    );
    expect(x.brief).toBe('no alert');
  }, 30_000);
});

describe('refusals by the harness, said as ours', () => {
  test("a wrong PSK: we sent bad_record_mac after the device's Finished, the identity named, no key", async () => {
    const key = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const server = await DtlsServer.listen({ address: '127.0.0.1', port: 0, cipherSuites: ['PSK-AES128-CCM8'], pskLookup: (id) => (id === 'dev-1' ? key : null) });
    const dtls = DtlsTransport.over(server, 'lwm2m-server');
    closers.push(() => server.close());
    const wrong = Buffer.from('ffeeddccbbaa99887766554433221100', 'hex');
    await deviceRefuses(server.local.port, { cipherSuites: ['PSK-AES128-CCM8'], psk: { identity: 'dev-1', key: wrong }, certPem: undefined, keyPem: undefined });
    const x = dtls.explainFailure(await failureOn(dtls));
    expect(x.outcome).toBe(
      'we (the LwM2M Server) sent fatal alert bad_record_mac after the device\'s flight ClientKeyExchange, ChangeCipherSpec, Finished: the device\'s Finished did not authenticate: it holds another key than ours for PSK identity "dev-1" (/0/x/5 differs)',
    );
    expect(x.text).not.toContain(key.toString('hex'));
    expect(x.text).not.toContain(wrong.toString('hex'));
  }, 30_000);
});

describe('cipher lists by name', () => {
  test('names, GREASE and an unknown value; a long list is summarised with where the suites that matter stand', () => {
    expect(cipherSuiteName(0xc0a8)).toBe('TLS_PSK_WITH_AES_128_CCM_8');
    expect(cipherSuiteName(0xd003)).toBe('TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256');
    expect(cipherSuiteName(0x1a1a)).toBe('GREASE 0x1A1A');
    expect(cipherSuiteName(0xfefe)).toBe('0xFEFE (not a suite the harness knows)');
    expect(describeCipherList([0xc0a8, 0x00ff])).toBe('TLS_PSK_WITH_AES_128_CCM_8, TLS_EMPTY_RENEGOTIATION_INFO_SCSV');
    const many = [0xc02b, 0xc02c, 0xc0ae, 0xc023, 0xc009, 0xc00a, 0x009c, 0x009d, 0x002f, 0x0035, 0xc0a8, 0x00ae];
    expect(describeCipherList(many, { highlight: [0xc0a8, 0xc0a4] })).toBe(
      '12 suites (ECDHE_ECDSA 6, RSA 4, PSK 2), first TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256; TLS_PSK_WITH_AES_128_CCM_8 offered (position 11), TLS_PSK_WITH_AES_128_CCM not offered',
    );
  });

  test('a device offering some 80 suites and no PSK one: we refused its ClientHello, the offer named and summarised', async () => {
    const server = await DtlsServer.listen({ address: '127.0.0.1', port: 0, cipherSuites: ['PSK-AES128-CCM8'], pskLookup: () => null });
    const dtls = DtlsTransport.over(server, 'lwm2m-server');
    closers.push(() => server.close());
    const offer = LONG_OFFER;
    const e = await deviceRefuses(server.local.port, { cipherSuites: offer, certPem: undefined, keyPem: undefined, verifyServer: 'none' });
    expect(e.alerts).toContainEqual(expect.objectContaining({ description: 'handshake failure', sent: false }));
    const f = await failureOn(dtls);
    expect(f.clientOfferedCiphers.length).toBeGreaterThanOrEqual(70);
    const x = dtls.explainFailure(f);
    expect(x.outcome).toMatch(
      /^we \(the LwM2M Server\) sent fatal alert handshake_failure after the device's ClientHello: no cipher suite in common: the device offered \d+ suites \((\w+ \d+, )+signalling 1\), first TLS_\w+, TLS_\w+, TLS_\w+, TLS_\w+; TLS_PSK_WITH_AES_128_CCM_8 not offered; we accept TLS_PSK_WITH_AES_128_CCM_8$/,
    );
    expect(x.text).not.toMatch(RAW_SUITE_CODE);
    expect(x.text.length).toBeLessThan(700);
  }, 30_000);
});

/** Non-PSK DTLS 1.2 suites the OpenSSL in node offers (IANA names): a desktop-like list of some 80. */
const LONG_OFFER = [
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'DHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-CHACHA20-POLY1305',
  'ECDHE-ECDSA-AES256-CCM8',
  'ECDHE-ECDSA-AES256-CCM',
  'DHE-RSA-AES256-CCM8',
  'DHE-RSA-AES256-CCM',
  'ECDHE-ECDSA-ARIA256-GCM-SHA384',
  'ECDHE-ARIA256-GCM-SHA384',
  'DHE-DSS-AES256-GCM-SHA384',
  'DHE-RSA-ARIA256-GCM-SHA384',
  'DHE-DSS-ARIA256-GCM-SHA384',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES128-CCM8',
  'ECDHE-ECDSA-AES128-CCM',
  'DHE-RSA-AES128-CCM8',
  'DHE-RSA-AES128-CCM',
  'ECDHE-ECDSA-ARIA128-GCM-SHA256',
  'ECDHE-ARIA128-GCM-SHA256',
  'DHE-DSS-AES128-GCM-SHA256',
  'DHE-RSA-ARIA128-GCM-SHA256',
  'DHE-DSS-ARIA128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-SHA384',
  'ECDHE-RSA-AES256-SHA384',
  'DHE-RSA-AES256-SHA256',
  'DHE-DSS-AES256-SHA256',
  'ECDHE-ECDSA-CAMELLIA256-SHA384',
  'ECDHE-RSA-CAMELLIA256-SHA384',
  'DHE-RSA-CAMELLIA256-SHA256',
  'DHE-DSS-CAMELLIA256-SHA256',
  'ECDHE-ECDSA-AES128-SHA256',
  'ECDHE-RSA-AES128-SHA256',
  'DHE-RSA-AES128-SHA256',
  'DHE-DSS-AES128-SHA256',
  'ECDHE-ECDSA-CAMELLIA128-SHA256',
  'ECDHE-RSA-CAMELLIA128-SHA256',
  'DHE-RSA-CAMELLIA128-SHA256',
  'DHE-DSS-CAMELLIA128-SHA256',
  'ECDHE-ECDSA-AES256-SHA',
  'ECDHE-RSA-AES256-SHA',
  'DHE-RSA-AES256-SHA',
  'DHE-DSS-AES256-SHA',
  'DHE-RSA-CAMELLIA256-SHA',
  'DHE-DSS-CAMELLIA256-SHA',
  'ECDHE-ECDSA-AES128-SHA',
  'ECDHE-RSA-AES128-SHA',
  'DHE-RSA-AES128-SHA',
  'DHE-DSS-AES128-SHA',
  'DHE-RSA-CAMELLIA128-SHA',
  'DHE-DSS-CAMELLIA128-SHA',
  'AES256-GCM-SHA384',
  'AES256-CCM8',
  'AES256-CCM',
  'ARIA256-GCM-SHA384',
  'AES128-GCM-SHA256',
  'AES128-CCM8',
  'AES128-CCM',
  'ARIA128-GCM-SHA256',
  'AES256-SHA256',
  'CAMELLIA256-SHA256',
  'AES128-SHA256',
  'CAMELLIA128-SHA256',
  'AES256-SHA',
  'CAMELLIA256-SHA',
  'AES128-SHA',
  'CAMELLIA128-SHA',
];

describe('a flood of failed handshakes and stray records: the "nothing arrived" reason stays bounded', () => {
  test('300 ClientHellos from 300 new ports, each also sending a record of no association, plus 2 refusals: counted, first/last, distinct outcomes', async () => {
    // A handshake whose cookie never comes back is given up quickly, so 300 of them fail within the test.
    const dtls = await certServer({ handshakeTimeoutMs: 300, maxSessions: 400 });
    const port = dtls.local.port;

    // A real ClientHello to replay: the first datagram a DtlsClient sends.
    let hello: Buffer | undefined;
    await deviceRefuses(port, { caPem: stranger.certPem, onRecord: (r) => void (r.direction === 'out' && !hello && (hello = Buffer.from(r.bytes))) });
    await deviceRefuses(port, { caPem: stranger.certPem });
    expect(hello).toBeDefined();
    // An application_data record of an epoch this server never had: dropped, from each port.
    const stray = Buffer.concat([Buffer.from([23, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 7, 0, 16]), Buffer.alloc(16, 0xab)]);

    const FLOOD = 300;
    const sockets: dgram.Socket[] = [];
    closers.push(() => sockets.forEach((s) => s.close()));
    // Each port waits for its HelloVerifyRequest (bounded), so no datagram is lost to a full socket buffer.
    const onePort = async () => {
      const s = dgram.createSocket('udp4');
      sockets.push(s);
      await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
      const answered = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no HelloVerifyRequest within 5 s')), 5000);
        s.once('message', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      s.send(stray, port, '127.0.0.1');
      s.send(hello!, port, '127.0.0.1');
      await answered;
    };
    for (let i = 0; i < FLOOD; i += 20) await Promise.all(Array.from({ length: 20 }, onePort));
    for (let seen = 0; seen < FLOOD + 2; seen++) {
      const f = await dtls.handshakeFailures.next(() => true, 5000);
      if (!f) throw new Error(`only ${seen} handshake failures within the bound`);
    }
    for (let n = dtls.dropped.all.length; n < FLOOD; n = dtls.dropped.all.length) await new Promise((r) => setTimeout(r, 20));

    const reason = dtlsTrouble(dtls);
    expect(reason.length).toBeLessThanOrEqual(DTLS_TROUBLE_MAX_CHARS);
    expect(reason).toMatch(new RegExp(`^ — ${FLOOD + 2} DTLS handshakes failed \\(from 127\\.0\\.0\\.1, ${FLOOD + 2} source ports, \\d+\\.\\d s from first to last, 2 distinct outcomes\\): `));
    expect(reason).toContain(`${FLOOD}× no alert: the device never returned the cookie of our HelloVerifyRequest`);
    expect(reason).toContain('2× the device sent fatal alert unknown_ca after our Certificate');
    // The details are given once, for the outcome that has them.
    expect(reason).toContain("more on the 2× device alert unknown_ca: the Bootstrap-Server's certificate: subject CN=geisa-adm bootstrap-server, SAN iPAddress 127.0.0.1");
    expect(reason.match(/subject CN=/g)).toHaveLength(1);
    expect(reason).toMatch(/DTLS application_data record \(DTLS 1\.2, epoch 1, 16 bytes encrypted\) from 127\.0\.0\.1 \(300 source ports\) dropped: no session with this peer and not a ClientHello \(sequence 7\) \(300 times\)/);
    expect(reason).not.toMatch(RAW_SUITE_CODE);
  }, 60_000);
});
