/**
 * The harness's own PKI for certificate mode: an ECDSA P-256 CA made for the run, the
 * fake servers' certificates (with an IP or DNS SAN for the address the device contacts,
 * since a device checks it), and device certificates for the reference device. Node has
 * no certificate builder; @peculiar/x509 does the ASN.1 over WebCrypto. Private keys leave
 * this module only as PEM for the DTLS layer and the device's state; reports get
 * certificateFingerprint() and never a key.
 */
import { createHash, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { createRequire } from 'node:module';
import type * as X509 from '@peculiar/x509';

// @peculiar/x509 (with its reflect-metadata polyfill) costs most of a second to load on a
// slow machine, and every command that lists or selects cases reaches this module through
// the suites: it is loaded the first time a certificate is actually made.
// csr.ts and est-ca.ts take it from here too, so there is one instance and one crypto provider.
let x509Module: Promise<typeof X509> | undefined;
let x509Loaded: typeof X509 | undefined;
export function loadX509(): Promise<typeof X509> {
  x509Module ??= (async () => {
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto as never);
    x509Loaded = x509;
    return x509;
  })();
  return x509Module;
}

/**
 * For the few synchronous users (reading a certificate or a PKCS#7 someone already made):
 * the module loadX509 loaded, or, if nothing loaded it yet, loaded now through require
 * (@peculiar/x509 is a CommonJS package, so import and require give the same instance).
 */
export function x509Now(): typeof X509 {
  if (!x509Loaded) {
    const require = createRequire(import.meta.url);
    require('reflect-metadata');
    const x509 = require('@peculiar/x509') as typeof X509;
    x509.cryptoProvider.set(webcrypto as never);
    x509Loaded = x509;
    x509Module ??= Promise.resolve(x509);
  }
  return x509Loaded;
}

type KeyPair = webcrypto.CryptoKeyPair;

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

export interface CertificateMaterial {
  certPem: string;
  /** PKCS#8 PEM. Secret: never log it, never put it in a report. */
  keyPem: string;
  /** Parsed, for checks (subject, SAN, issuer, validity). */
  cert: X509Certificate;
}

export interface IssueOptions {
  commonName: string;
  /** SAN entries: IP addresses and DNS names the certificate is valid for. */
  hosts?: string[];
  usage: 'server' | 'client' | 'both';
  validDays?: number;
  /** Backdated start, so a device clock slightly behind still accepts it. */
  notBefore?: Date;
}

async function exportKey(key: webcrypto.CryptoKey): Promise<string> {
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const b64 = pkcs8
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trim();
  return `-----BEGIN PRIVATE KEY-----\n${b64}\n-----END PRIVATE KEY-----\n`;
}

function serial(): string {
  // Positive, 16 random bytes: RFC 5280 §4.1.2.2 asks for at most 20 octets, unique per CA.
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString('hex');
}

function subjectName(cn: string): string {
  return `CN=${cn.replace(/[,+="\\<>;#]/g, '_')}`;
}

export async function createCa(commonName: string, validDays = 30): Promise<CertificateMaterial & { keys: KeyPair }> {
  const x509 = await loadX509();
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as KeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: subjectName(commonName),
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + validDays * DAY_MS),
    keys,
    signingAlgorithm: ALG,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true), await x509.SubjectKeyIdentifierExtension.create(keys.publicKey)],
  });
  const certPem = cert.toString('pem');
  return { certPem, keyPem: await exportKey(keys.privateKey), cert: new X509Certificate(certPem), keys };
}

export async function issueCertificate(ca: Awaited<ReturnType<typeof createCa>>, opts: IssueOptions): Promise<CertificateMaterial> {
  const x509 = await loadX509();
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as KeyPair;
  const now = Date.now();
  const eku: string[] = [];
  if (opts.usage !== 'client') eku.push(x509.ExtendedKeyUsage.serverAuth);
  if (opts.usage !== 'server') eku.push(x509.ExtendedKeyUsage.clientAuth);
  const extensions: X509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
    new x509.ExtendedKeyUsageExtension(eku, false),
    await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
  ];
  if (opts.hosts?.length) {
    extensions.push(new x509.SubjectAlternativeNameExtension(opts.hosts.map((h) => (isIP(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h }))));
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: subjectName(opts.commonName),
    issuer: ca.cert.subject,
    notBefore: opts.notBefore ?? new Date(now - DAY_MS),
    notAfter: new Date(now + (opts.validDays ?? 30) * DAY_MS),
    signingKey: ca.keys.privateKey,
    publicKey: keys.publicKey,
    signingAlgorithm: ALG,
    extensions,
  });
  const certPem = cert.toString('pem');
  return { certPem, keyPem: await exportKey(keys.privateKey), cert: new X509Certificate(certPem) };
}

/** `sha256:1a2b3c4d…` of the DER: names a certificate in a report. */
export function certificateFingerprint(certPemOrDer: string | Buffer): string {
  const der = typeof certPemOrDer === 'string' ? new X509Certificate(certPemOrDer).raw : certPemOrDer;
  return `sha256:${createHash('sha256').update(der).digest('hex').slice(0, 16)}`;
}

/** What a report may say of a certificate: subject, issuer, SAN, validity, fingerprint. */
export function describeCertificate(certPemOrDer: string | Buffer): string {
  try {
    const c = new X509Certificate(certPemOrDer);
    const san = c.subjectAltName ? `, SAN ${c.subjectAltName}` : '';
    return `${c.subject.replace(/\n/g, ', ')} issued by ${c.issuer.replace(/\n/g, ', ')}${san}, valid ${c.validFrom} to ${c.validTo}, ${certificateFingerprint(c.raw)}`;
  } catch (e) {
    return `not a parsable X.509 certificate (${(e as Error).message})`;
  }
}
