/**
 * A fake server in certificate mode (coaps://, ECDHE-ECDSA-AES128-CCM8, client certificate
 * requested): a real DTLS client presenting a device certificate reaches the Bootstrap
 * interface, and the handshake evidence names the certificate and its verification.
 */
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MANDATORY_CERT_SUITE_ID } from '../harness/servers/security.js';
import { createCa, issueCertificate } from '../harness/pki/certificates.js';
import { hasTool, describeIf } from './support/tools.js';
import { openCertificateBootstrapServer } from './support/dtls-servers.js';

const CLIENT = 'coap-client-openssl';

describeIf(hasTool(CLIENT), `no ${CLIENT} (Debian libcoap3-bin)`)('Bootstrap-Server in certificate mode', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'geisa-certbs-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function scenario(deviceCaName: 'manufacturer' | 'stranger') {
    const runCa = await createCa('GEISA ADM run CA');
    const manufacturer = await createCa('Acme manufacturer CA');
    const stranger = await createCa('Some other CA');
    const serverCert = await issueCertificate(runCa, { commonName: 'bootstrap-server', hosts: ['127.0.0.1'], usage: 'server' });
    const idevid = await issueCertificate(deviceCaName === 'manufacturer' ? manufacturer : stranger, { commonName: 'urn:dev:ops:acme-1', usage: 'client' });
    writeFileSync(join(dir, 'ca.pem'), runCa.certPem);
    writeFileSync(join(dir, 'dev.pem'), idevid.certPem);
    writeFileSync(join(dir, 'dev.key'), idevid.keyPem, { mode: 0o600 });
    const bs = await openCertificateBootstrapServer(serverCert, manufacturer.certPem);
    try {
      const child = spawn(CLIENT, ['-B', '5', '-m', 'post', '-c', join(dir, 'dev.pem'), '-j', join(dir, 'dev.key'), '-C', join(dir, 'ca.pem'), `${bs.uri}/bs?ep=urn:dev:ops:acme-1`], { stdio: 'ignore' });
      const exited = new Promise((r) => child.on('exit', r));
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const req = await Promise.race([bs.expectBootstrapRequest(10_000), exited.then(() => undefined)]);
      clearTimeout(timer);
      child.kill('SIGKILL');
      const hs = bs.dtls!.handshakes.all[0];
      return { bs: bs.uri, req, hs, idevid };
    } finally {
      await bs.close();
    }
  }

  test('a device certificate from the declared CA: handshake verified, Bootstrap-Request served', async () => {
    const { bs, req, hs, idevid } = await scenario('manufacturer');
    expect(bs).toMatch(/^coaps:\/\/127\.0\.0\.1:\d+$/);
    expect(req?.query.get('ep')).toEqual(['urn:dev:ops:acme-1']);
    expect(hs?.cipherId).toBe(MANDATORY_CERT_SUITE_ID);
    expect(hs?.verifyResult).toBe(0);
    expect(new X509Certificate(hs!.peerCertChainDer[0]!).fingerprint256).toBe(idevid.cert.fingerprint256);
  }, 30_000);

  test('a device certificate from another CA is reported as not verified, so a case can fail it', async () => {
    const { hs } = await scenario('stranger');
    expect(hs).toBeDefined();
    expect(hs!.verifyResult).not.toBe(0);
    expect(hs!.verifyResultText).toMatch(/issuer|verify|self/i);
  }, 30_000);
});
