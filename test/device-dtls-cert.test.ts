/**
 * The reference device in certificate mode (Security Mode 2), against scripted servers on
 * the harness's OpenSSL DTLS server asking for the client's certificate: provisioning with
 * an IDevID from a manufacturer CA, the bootstrap handshake with it, a Mode-2 account for
 * the LwM2M Server written at bootstrap (operational certificate from the run's CA, /0/x/4
 * the server's own certificate under Certificate Usage 3), and the Register over DTLS.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createCa, issueCertificate, type CertificateMaterial } from '../harness/pki/certificates.js';
import { DEFECTS } from '../fixtures/device/defects.js';
import { loadState } from '../fixtures/device/state.js';
import type { DefectName } from '../fixtures/device/defects.js';
import { type CertificateAccount, DeviceBench, PROMPT_MS, type ServerIdentity, certificateSecurityRecords, serverRecords, benchPerTest } from './support/device-bench.js';
import { isBootstrapRequest, isRegister } from './support/scripted-peers.js';

const CCM8 = 0xc0ae;
const GCM = 0xc02b;
/** TLS_EMPTY_RENEGOTIATION_INFO_SCSV: OpenSSL's signal in every ClientHello, not a suite offered. */
const RENEGOTIATION_SCSV = 0x00ff;
const suites = (offered: number[] | undefined) => offered?.filter((c) => c !== RENEGOTIATION_SCSV);

const der = (m: CertificateMaterial) => Buffer.from(m.cert.raw);
const keyDer = (m: CertificateMaterial) => createPrivateKey(m.keyPem).export({ format: 'der', type: 'pkcs8' });
const sec1Der = (m: CertificateMaterial) => createPrivateKey(m.keyPem).export({ format: 'der', type: 'sec1' });

interface Pki {
  manufacturer: Awaited<ReturnType<typeof createCa>>;
  run: Awaited<ReturnType<typeof createCa>>;
  idevid: CertificateMaterial;
  operational: CertificateMaterial;
  bs: CertificateMaterial;
  server: CertificateMaterial;
  /** A certificate the LwM2M Server does not present: /0/x/4 naming it must fail the handshake. */
  stranger: CertificateMaterial;
}

let pki: Pki;
beforeAll(async () => {
  const manufacturer = await createCa('GEISA test manufacturer');
  const run = await createCa('GEISA test run');
  pki = {
    manufacturer,
    run,
    idevid: await issueCertificate(manufacturer, { commonName: 'urn:dev:ops:bench-0001 IDevID', usage: 'client' }),
    operational: await issueCertificate(run, { commonName: 'urn:dev:ops:bench-0001', usage: 'client' }),
    bs: await issueCertificate(run, { commonName: 'test bootstrap server', hosts: ['127.0.0.1'], usage: 'server' }),
    server: await issueCertificate(run, { commonName: 'test lwm2m server', hosts: ['127.0.0.1'], usage: 'server' }),
    stranger: await issueCertificate(run, { commonName: 'some other server', hosts: ['127.0.0.1'], usage: 'server' }),
  };
});

const openBench = benchPerTest();

function identities(overrides: { bs?: Partial<ServerIdentity>; server?: Partial<ServerIdentity> } = {}): { bs: ServerIdentity; server: ServerIdentity } {
  return {
    // The Bootstrap-Server knows devices by the manufacturer's CA; the LwM2M Server by the run's.
    bs: { certPem: pki.bs.certPem, keyPem: pki.bs.keyPem, caPem: pki.manufacturer.certPem, ...overrides.bs },
    server: { certPem: pki.server.certPem, keyPem: pki.server.keyPem, caPem: pki.run.certPem, ...overrides.server },
  };
}

async function bench(opts: { defect?: DefectName; bs?: Partial<ServerIdentity>; server?: Partial<ServerIdentity> } = {}): Promise<DeviceBench> {
  const b = await openBench({ cert: identities(opts), defect: opts.defect, dtlsHandshakeTimeoutMs: 2000 });
  return b;
}

/** Provisioned with the IDevID, /0/0/4 = the Bootstrap-Server's own certificate (usage 3). */
async function provisionAndStart(b: DeviceBench) {
  await b.provisionCertificate({ certDer: der(pki.idevid), keyDer: keyDer(pki.idevid), trustDer: der(pki.bs) });
  await b.start();
  return b.expectBootstrapRequest(3 * PROMPT_MS);
}

function account(over: Partial<CertificateAccount> = {}): CertificateAccount {
  return { certDer: der(pki.operational), keyDer: keyDer(pki.operational), serverCertDer: der(pki.server), certificateUsage: 3, ...over };
}

async function bootstrapCert(b: DeviceBench, acc: CertificateAccount, retry: { bootstrapOnFailure?: boolean; retryCount?: number; retryTimerS?: number } = {}) {
  return [await b.write('/0/1', certificateSecurityRecords(1, b.server.uri, 101, acc)), await b.write('/1/0', serverRecords(0, { lifetimeS: 30, ...retry })), await b.finish()];
}

describe('certificate mode: provisioning, bootstrap and registration', () => {
  test('bootstrap with the IDevID, then Register presenting exactly the certificate written in /0/1/3', async () => {
    const b = await bench();
    const req = await provisionAndStart(b);
    expect(req.msg.type).toBe('CON');
    expect(req.query.get('ep')).toEqual([b.endpoint]);

    const bsHs = await b.bsCert!.handshakes.next(() => true, PROMPT_MS);
    expect(bsHs?.cipher).toBe('ECDHE-ECDSA-AES128-CCM8');
    expect(suites(bsHs?.clientOfferedCiphers)).toEqual([CCM8]);
    expect(bsHs?.peerCertChainDer[0]?.equals(der(pki.idevid))).toBe(true);
    expect(bsHs?.verifyResult).toBe(0);
    expect(`${req.remote.address}:${req.remote.port}`).toBe(`${bsHs!.remote.address}:${bsHs!.remote.port}`);

    // The provisioned account as the contract has it: DER certificate, trust, PKCS#8 key, usage 3.
    const json = JSON.parse(await readFile(b.stateFile, 'utf8'));
    expect(json.objects['0']['0']).toMatchObject({
      '2': 2,
      '3': der(pki.idevid).toString('hex'),
      '4': der(pki.bs).toString('hex'),
      '5': keyDer(pki.idevid).toString('hex'),
      '15': 3,
    });
    expect(json.factoryIdentity.certificate).toBe(der(pki.idevid).toString('hex'));

    expect(await bootstrapCert(b, account())).toEqual(['2.04', '2.04', '2.04']);
    const reg = await b.must(b.server, isRegister, 3 * PROMPT_MS, 'Register over DTLS with certificates');
    expect(reg.query.get('ep')).toEqual([b.endpoint]);
    const dmHs = await b.serverCert!.handshakes.next(() => true, PROMPT_MS);
    expect(dmHs?.peerCertChainDer[0]?.equals(der(pki.operational))).toBe(true);
    expect(dmHs?.verifyResult).toBe(0);
    expect(dmHs?.cipher).toBe('ECDHE-ECDSA-AES128-CCM8');
    expect(`${reg.remote.address}:${reg.remote.port}`).toBe(`${dmHs!.remote.address}:${dmHs!.remote.port}`);
    await b.waitForLog(/registered at \/rd\//, PROMPT_MS);
    // The factory identity survives the bootstrap that replaced /0.
    expect((await loadState(b.stateFile)).factoryIdentity?.certDer.equals(der(pki.idevid))).toBe(true);
    // Neither server ever got plaintext CoAP.
    expect(b.bsCert!.dropped.all).toHaveLength(0);
    expect(b.serverCert!.dropped.all).toHaveLength(0);
    // The log names certificates and key fingerprints, never a key.
    const log = b.logs.join('\n');
    for (const m of [pki.idevid, pki.operational]) {
      expect(log).not.toContain(keyDer(m).toString('hex'));
      expect(log).not.toContain(keyDer(m).toString('base64').slice(0, 40));
    }
  });

  test('a LwM2M Server whose certificate is not /0/x/4 (usage 3) gets no Register: the handshake fails on the device side', async () => {
    const b = await bench();
    b.serverCert!.expectServerCertificate({ der: der(pki.stranger), usage: 3, resource: '/0/1/4' });
    await provisionAndStart(b);
    expect(await bootstrapCert(b, account({ serverCertDer: der(pki.stranger) }), { bootstrapOnFailure: false, retryCount: 1 })).toEqual(['2.04', '2.04', '2.04']);
    await b.waitForLog(/DTLS handshake with .* failed: .*verif/i, 3 * PROMPT_MS);
    // The server side says who refused what, from the wire.
    const refused = await b.serverCert!.handshakeFailures.next(() => true, 3 * PROMPT_MS);
    const x = b.serverCert!.explainFailure(refused!);
    expect(x.outcome).toMatch(/^the device sent fatal alert bad_certificate after our Certificate \(flight ServerHello, Certificate, .*ServerHelloDone\): it refused the LwM2M Server's certificate$/);
    expect(x.text).toContain("the LwM2M Server's certificate: subject CN=test lwm2m server, SAN iPAddress 127.0.0.1, issuer CN=GEISA test run");
    expect(x.text).toContain('it is not the certificate the device was given as /0/1/4 under Certificate Usage 3');
    expect(x.text).toContain('(that one: subject CN=some other server');
    await b.waitForLog(/Register failed/, 4 * PROMPT_MS);
    expect(b.server.inbox.all.filter(isRegister)).toHaveLength(0);
    expect(b.serverCert!.handshakes.all).toHaveLength(0);
  });

  test('usage absent means 3; usage 2 takes /0/x/4 as the trust anchor', async () => {
    const b = await bench();
    await provisionAndStart(b);
    expect(await bootstrapCert(b, account({ certificateUsage: undefined }))).toEqual(['2.04', '2.04', '2.04']);
    await b.must(b.server, isRegister, 3 * PROMPT_MS, 'Register with the default usage');

    const b2 = await bench();
    await provisionAndStart(b2);
    expect(await bootstrapCert(b2, account({ serverCertDer: der(pki.run), certificateUsage: 2 }))).toEqual(['2.04', '2.04', '2.04']);
    await b2.must(b2.server, isRegister, 3 * PROMPT_MS, 'Register under usage 2');
  });

  test('/0/x/16 written: the ClientHello toward the LwM2M Server offers exactly those suites', async () => {
    const b = await bench({ server: { cipherSuites: ['ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-ECDSA-AES128-CCM8'] } });
    await provisionAndStart(b);
    expect(await bootstrapCert(b, account({ ciphersuites: [GCM, CCM8] }))).toEqual(['2.04', '2.04', '2.04']);
    await b.must(b.server, isRegister, 3 * PROMPT_MS, 'Register');
    const hs = await b.serverCert!.handshakes.next(() => true, 0);
    expect(suites(hs?.clientOfferedCiphers)).toEqual([GCM, CCM8]);
  });

  test('a SEC1 EC private key in /0/x/5 is accepted', async () => {
    const b = await bench();
    await provisionAndStart(b);
    expect(await bootstrapCert(b, account({ keyDer: sec1Der(pki.operational) }))).toEqual(['2.04', '2.04', '2.04']);
    await b.must(b.server, isRegister, 3 * PROMPT_MS, 'Register');
  });

  test.each([
    ['/0/x/5 missing', (a: CertificateAccount) => ({ ...a, keyDer: Buffer.alloc(0) }), /\/0\/1\/5 \(Secret Key\) is not a private key/],
    ['/0/x/4 missing', (a: CertificateAccount) => ({ ...a, serverCertDer: Buffer.alloc(0) }), /\/0\/1\/4 \(Server Public Key\) is not a certificate/],
    ['/0/x/3 not a certificate', (a: CertificateAccount) => ({ ...a, certDer: Buffer.from('not a certificate') }), /\/0\/1\/3 .* is not the device certificate/],
    ['a key of another certificate', (a: CertificateAccount) => ({ ...a, keyDer: keyDer(pki.idevid) }), /does not belong to the certificate/],
    ['usage 7', (a: CertificateAccount) => ({ ...a, certificateUsage: 7 }), /Certificate Usage\) is 7/],
  ])('Bootstrap-Finish is 4.06 with %s', async (_what, change, why) => {
    const b = await bench();
    await provisionAndStart(b);
    const [w0, w1, fin] = await bootstrapCert(b, change(account()));
    expect([w0, w1]).toEqual(['2.04', '2.04']);
    expect(fin).toBe('4.06');
    await b.waitForLog(why, PROMPT_MS);
  });
});

describe('certificate-mode defects', () => {
  test('wrong-client-certificate: the IDevID toward the LwM2M Server, the bootstrap unchanged', async () => {
    const b = await bench({ defect: 'wrong-client-certificate' });
    await provisionAndStart(b);
    const bsHs = await b.bsCert!.handshakes.next(() => true, PROMPT_MS);
    expect(bsHs?.peerCertChainDer[0]?.equals(der(pki.idevid))).toBe(true);
    expect(await bootstrapCert(b, account())).toEqual(['2.04', '2.04', '2.04']);
    await b.must(b.server, isRegister, 3 * PROMPT_MS, 'Register');
    const hs = await b.serverCert!.handshakes.next(() => true, PROMPT_MS);
    expect(hs?.peerCertChainDer[0]?.equals(der(pki.idevid))).toBe(true);
    expect(hs?.peerCertChainDer[0]?.equals(der(pki.operational))).toBe(false);
    // The LwM2M Server trusts the run's CA only: the IDevID does not verify there.
    expect(hs?.verifyResult).not.toBe(0);
  });

  test('no-ecdhe-ccm8: offers only ECDHE-ECDSA-AES128-GCM-SHA256, so a CCM_8-only Bootstrap-Server never sees a request', async () => {
    const b = await bench({ defect: 'no-ecdhe-ccm8' });
    await b.provisionCertificate({ certDer: der(pki.idevid), keyDer: keyDer(pki.idevid), trustDer: der(pki.bs) });
    await b.start();
    const failed = await b.bsCert!.handshakeFailures.next(() => true, 3 * PROMPT_MS);
    expect(suites(failed?.clientOfferedCiphers)).toEqual([GCM]);
    await b.waitForLog(/Bootstrap-Request failed/, 4 * PROMPT_MS);
    expect(b.bs.inbox.all.filter(isBootstrapRequest)).toHaveLength(0);
  });

  test('no-ecdhe-ccm8 does not touch PSK mode', () => {
    const d = DEFECTS.find((x) => x.name === 'no-ecdhe-ccm8')!;
    expect(d.leavesAlone).toEqual(expect.arrayContaining(['TC-SEC-01', 'TC-SEC-02']));
  });

  test('accept-any-server-certificate: registers with a server whose certificate is not /0/x/4', async () => {
    const b = await bench({ defect: 'accept-any-server-certificate' });
    await provisionAndStart(b);
    expect(await bootstrapCert(b, account({ serverCertDer: der(pki.stranger) }))).toEqual(['2.04', '2.04', '2.04']);
    await b.must(b.server, isRegister, 3 * PROMPT_MS, 'Register despite the certificate mismatch');
    await b.waitForLog(/server certificate NOT checked/, 0);
  });
});

describe('certificate mode from the command line', () => {
  const CLI = resolve('dist/bin/geisa-adm.js');
  let dir: string;
  const children: ChildProcess[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'geisa-device-cert-'));
  });
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  test('provision from GEISA_* files and run: bootstrap with the IDevID, and no private key on stdout', async () => {
    const b = await bench();
    const files = { cert: join(dir, 'idevid.pem'), key: join(dir, 'idevid.key'), trust: join(dir, 'bs-trust.pem') };
    await writeFile(files.cert, pki.idevid.certPem);
    await writeFile(files.key, pki.idevid.keyPem, { mode: 0o600 });
    await writeFile(files.trust, pki.bs.certPem);
    const state = join(dir, 'state.json');
    const env: NodeJS.ProcessEnv = { ...process.env, GEISA_CERT_FILE: files.cert, GEISA_KEY_FILE: files.key, GEISA_TRUST_FILE: files.trust, GEISA_CERTIFICATE_USAGE: '3' };
    delete env.GEISA_PSK_IDENTITY;
    delete env.GEISA_PSK_HEX;
    const p = spawnSync(process.execPath, [CLI, 'device', 'provision', '--state', state, '--bs-uri', b.bs.uri, '--endpoint', 'urn:dev:ops:cert-proc'], {
      encoding: 'utf8',
      env,
      timeout: 30_000,
    });
    expect(p.stderr).toBe('');
    expect(p.status).toBe(0);
    expect(p.stdout).toMatch(/certificate CN=urn:dev:ops:bench-0001 IDevID/);
    expect(p.stdout).toMatch(/Certificate Usage 3/);

    const child = spawn(process.execPath, [CLI, 'device', 'run', '--state', state, '--ack-timeout-ms', '100', '--max-retransmit', '2', '--max-latency-ms', '50'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = p.stdout;
    child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    const req = await b.bs.next(isBootstrapRequest, 5 * PROMPT_MS);
    expect(req?.query.get('ep')).toEqual(['urn:dev:ops:cert-proc']);
    const hs = await b.bsCert!.handshakes.next(() => true, PROMPT_MS);
    expect(hs?.peerCertChainDer[0]?.equals(new X509Certificate(pki.idevid.certPem).raw)).toBe(true);
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;

    const k = keyDer(pki.idevid);
    const pemBody = pki.idevid.keyPem.split('\n').filter((l) => l && !l.startsWith('-----'));
    expect(out).not.toContain('PRIVATE KEY');
    for (const line of pemBody) expect(out).not.toContain(line);
    expect(out).not.toContain(k.toString('hex'));
    expect(out).not.toContain(k.toString('base64'));
    expect(out).toMatch(/key [0-9a-f]{8}/);
  });

  test('a certificate flag beside a PSK flag is refused', () => {
    const r = spawnSync(process.execPath, [CLI, 'device', 'provision', '--state', join(dir, 's.json'), '--bs-uri', 'coaps://127.0.0.1:5684', '--endpoint', 'x', '--psk-identity', 'id', '--cert-file', 'c.pem'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/either/);
  });
});
