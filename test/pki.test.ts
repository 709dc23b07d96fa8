/**
 * The harness's own PKI: certificates it makes are what a DTLS peer expects (IP SAN for
 * the address the device contacts, EKU, chain to the run's CA), proven by a real mutual
 * handshake between the harness's DTLS server and libcoap's OpenSSL client.
 */
import { spawn } from 'node:child_process';
import { hasTool, testIf } from './support/tools.js';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificateFingerprint, createCa, describeCertificate, issueCertificate } from '../harness/pki/certificates.js';
import { DtlsServer, type DtlsHandshakeEvent } from '../harness/dtls/index.js';

const HAVE_CLIENT = hasTool('coap-client-openssl');

describe('harness PKI', () => {
  test('a server certificate for an IP address chains to the run CA and carries that IP SAN', async () => {
    const ca = await createCa('GEISA ADM test CA');
    const server = await issueCertificate(ca, { commonName: 'bootstrap-server', hosts: ['127.0.0.1', 'bs.example'], usage: 'server' });
    expect(server.cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(server.cert.checkHost('bs.example')).toBe('bs.example');
    expect(server.cert.checkIP('127.0.0.2')).toBeUndefined();
    expect(server.cert.verify(ca.cert.publicKey)).toBe(true);
    expect(server.cert.checkIssued(ca.cert)).toBe(true);
    expect(server.cert.ca).toBe(false);
    expect(ca.cert.ca).toBe(true);
    expect(createPrivateKey(server.keyPem).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    // Another CA's certificate does not verify: the check above can fail.
    const other = await createCa('other CA');
    expect(server.cert.verify(other.cert.publicKey)).toBe(false);
  });

  test('a report names a certificate without its key', async () => {
    const ca = await createCa('GEISA ADM test CA');
    const dev = await issueCertificate(ca, { commonName: 'urn:dev:ops:x', usage: 'client' });
    const text = describeCertificate(dev.certPem);
    expect(text).toContain('CN=urn:dev:ops:x');
    expect(text).toContain(certificateFingerprint(dev.certPem));
    expect(text).not.toContain('PRIVATE');
  });

  testIf(HAVE_CLIENT, 'no coap-client-openssl (Debian libcoap3-bin)')(
    'mutual DTLS handshake with these certificates: libcoap client cert verified by the harness server',
    async () => {
      const ca = await createCa('GEISA ADM test CA');
      const serverCert = await issueCertificate(ca, { commonName: 'lwm2m-server', hosts: ['127.0.0.1'], usage: 'server' });
      const clientCert = await issueCertificate(ca, { commonName: 'urn:dev:ops:geisa-ref-0001', usage: 'client' });
      const dir = mkdtempSync(join(tmpdir(), 'geisa-pki-'));
      writeFileSync(join(dir, 'ca.pem'), ca.certPem);
      writeFileSync(join(dir, 'client.pem'), clientCert.certPem);
      writeFileSync(join(dir, 'client.key'), clientCert.keyPem, { mode: 0o600 });
      const server = await DtlsServer.listen({
        address: '127.0.0.1',
        cipherSuites: ['ECDHE-ECDSA-AES128-CCM8'],
        certPem: serverCert.certPem,
        keyPem: serverCert.keyPem,
        caPem: ca.certPem,
        requireValidClientCert: true,
      });
      try {
        const handshake = new Promise<DtlsHandshakeEvent>((resolve) => server.once('handshake', resolve));
        server.on('message', (m) => {
          // Answer the client's CoAP request with a piggybacked 2.05 so it exits cleanly.
          const b = m.bytes;
          const tkl = b[0]! & 0x0f;
          server.send(Buffer.concat([Buffer.from([0x60 | tkl, 0x45, b[2]!, b[3]!]), b.subarray(4, 4 + tkl)]), m.remote);
        });
        const child = spawn('coap-client-openssl', ['-B', '5', '-c', join(dir, 'client.pem'), '-j', join(dir, 'client.key'), '-C', join(dir, 'ca.pem'), `coaps://127.0.0.1:${server.local.port}/x`], { stdio: 'ignore' });
        const exited = new Promise((r) => child.on('exit', r));
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        const hs = await Promise.race([handshake, exited.then(() => undefined)]);
        clearTimeout(timer);
        child.kill('SIGKILL');
        expect(hs).toBeDefined();
        expect(hs!.cipherId).toBe(0xc0ae);
        expect(hs!.verifyResult).toBe(0);
        expect(new X509Certificate(hs!.peerCertChainDer[0]!).fingerprint256).toBe(clientCert.cert.fingerprint256);
      } finally {
        await server.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
    30_000,
  );
});
