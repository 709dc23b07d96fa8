/**
 * What a PKCS#10 Certificate Signing Request (RFC 2986) a device sent says about it, as
 * findings a case can judge: is it well formed, is its self-signature valid (proof the
 * device holds the key), which key type and size, which subject and SAN, and the public
 * key's fingerprint, so two enrollments can be compared (a fresh key each time, or the
 * IDevID's key reused). @peculiar/x509 parses the ASN.1; node:crypto names the key.
 * Nothing here throws on bad input: a CSR that cannot be read is a finding too.
 */
import { createHash, createPublicKey } from 'node:crypto';
import type * as X509 from '@peculiar/x509';
// @peculiar/x509 is loaded when a CSR is first read, not when the suites are listed.
import { loadX509, x509Now } from './certificates.js';

export interface CsrKey {
  /** node:crypto's name: 'ec', 'rsa', 'rsa-pss', 'ed25519', 'ed448', ... */
  type: string;
  /** EC: the named curve as OpenSSL names it ('prime256v1', 'secp384r1'). */
  curve?: string;
  /** RSA modulus or EC field size in bits. */
  bits?: number;
  /** 'EC P-256', 'RSA 2048', 'Ed25519': for a report. */
  description: string;
}

export interface CsrSan {
  type: string;
  value: string;
}

export type CsrFindings =
  | {
      parsed: false;
      /** What could not be read, in words (no stack, no bytes). */
      error: string;
      bytes: number;
    }
  | {
      parsed: true;
      bytes: number;
      /** The CSR's signature verifies with the public key it carries (proof of possession). */
      signatureValid: boolean;
      /** Why the signature could not be checked at all (an algorithm WebCrypto lacks), if so. */
      signatureError?: string;
      signatureAlgorithm: string;
      key: CsrKey;
      /** RFC 4514 string, e.g. "CN=urn:dev:ops:geisa-0001". */
      subject: string;
      /** The subject Name's DER, for an exact comparison with a certificate's. */
      subjectDer: Buffer;
      commonName: string | undefined;
      /** From the extensionRequest attribute's subjectAltName, if requested. */
      san: CsrSan[];
      /** OIDs of every requested extension. */
      requestedExtensions: string[];
      /** A challengePassword attribute (RFC 9148 §3 proof-of-possession via tls-unique) is present. */
      challengePassword: boolean;
      /** `sha256:…` of the SubjectPublicKeyInfo DER: equal for the same key, whatever the CSR. */
      publicKeyFingerprint: string;
      /** The SubjectPublicKeyInfo DER itself (public), for exact comparisons. */
      publicKeySpki: Buffer;
    };

const CN_OID = '2.5.4.3';
const SAN_OID = '2.5.29.17';
const CHALLENGE_PASSWORD_OID = '1.2.840.113549.1.9.7';

/** `sha256:` and the first 16 hex digits of SHA-256 over a SubjectPublicKeyInfo DER. */
export function publicKeyFingerprint(spkiDer: Buffer): string {
  return `sha256:${createHash('sha256').update(spkiDer).digest('hex').slice(0, 16)}`;
}

function describeKey(spki: Buffer): CsrKey {
  try {
    const k = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    const type = k.asymmetricKeyType ?? 'unknown';
    const d = k.asymmetricKeyDetails ?? {};
    if (type === 'ec') {
      const curve = d.namedCurve;
      const names: Record<string, [string, number]> = { prime256v1: ['P-256', 256], secp384r1: ['P-384', 384], secp521r1: ['P-521', 521] };
      const known = curve ? names[curve] : undefined;
      return { type, ...(curve ? { curve } : {}), ...(known ? { bits: known[1] } : {}), description: `EC ${known?.[0] ?? curve ?? 'unknown curve'}` };
    }
    if (type === 'rsa' || type === 'rsa-pss') return { type, ...(d.modulusLength ? { bits: d.modulusLength } : {}), description: `${type.toUpperCase()} ${d.modulusLength ?? '?'}` };
    if (type === 'ed25519') return { type, bits: 256, description: 'Ed25519' };
    if (type === 'ed448') return { type, bits: 456, description: 'Ed448' };
    return { type, description: type };
  } catch (e) {
    return { type: 'unknown', description: `a public key node:crypto cannot read (${(e as Error).message})` };
  }
}

function sanOf(x509: typeof X509, csr: X509.Pkcs10CertificateRequest): CsrSan[] {
  const ext = csr.getExtension(SAN_OID);
  if (!ext) return [];
  try {
    const san = ext instanceof x509.SubjectAlternativeNameExtension ? ext : new x509.SubjectAlternativeNameExtension(ext.rawData);
    return san.names.items.map((n) => ({ type: n.type, value: n.value }));
  } catch (e) {
    return [{ type: 'unreadable', value: (e as Error).message }];
  }
}

/** Reads and checks a DER-encoded PKCS#10 request (the payload of an EST-coaps sen/sren, Content-Format 286). */
export async function inspectCsr(der: Buffer): Promise<CsrFindings> {
  const x509 = await loadX509();
  let csr: X509.Pkcs10CertificateRequest;
  try {
    if (der.length === 0) return { parsed: false, error: 'the payload is empty', bytes: 0 };
    csr = new x509.Pkcs10CertificateRequest(new Uint8Array(der));
  } catch (e) {
    return { parsed: false, error: `not a DER PKCS#10 CertificationRequest (${(e as Error).message})`, bytes: der.length };
  }
  let spki: Buffer;
  let signatureAlgorithm: string;
  try {
    spki = Buffer.from(csr.publicKey.rawData);
    const alg = csr.signatureAlgorithm as { name?: string; hash?: { name?: string } };
    signatureAlgorithm = [alg.name, alg.hash?.name].filter(Boolean).join(' with ') || 'unknown';
  } catch (e) {
    return { parsed: false, error: `the request's public key or signature algorithm cannot be read (${(e as Error).message})`, bytes: der.length };
  }
  let signatureValid = false;
  let signatureError: string | undefined;
  try {
    signatureValid = await csr.verify();
  } catch (e) {
    signatureError = (e as Error).message;
  }
  let commonName: string | undefined;
  try {
    commonName = csr.subjectName.getField(CN_OID)[0];
  } catch {
    commonName = undefined;
  }
  return {
    parsed: true,
    bytes: der.length,
    signatureValid,
    ...(signatureError ? { signatureError } : {}),
    signatureAlgorithm,
    key: describeKey(spki),
    subject: csr.subject,
    subjectDer: Buffer.from(csr.subjectName.toArrayBuffer()),
    commonName,
    san: sanOf(x509, csr),
    requestedExtensions: csr.extensions.map((e) => e.type),
    challengePassword: csr.getAttribute(CHALLENGE_PASSWORD_OID) !== null,
    publicKeyFingerprint: publicKeyFingerprint(spki),
    publicKeySpki: spki,
  };
}

/**
 * Whether a re-enrollment CSR asks for the identity of the certificate it renews: RFC 7030
 * §4.2.2 wants Subject and subjectAltName identical. Compared as DER (subject) and as the
 * set of SAN entries; `detail` says what differs.
 */
export function sameIdentityAs(findings: CsrFindings, certDer: Buffer): { same: boolean; detail: string } {
  if (!findings.parsed) return { same: false, detail: 'the CSR is unreadable' };
  const x509 = x509Now();
  let cert: X509.X509Certificate;
  try {
    cert = new x509.X509Certificate(new Uint8Array(certDer));
  } catch (e) {
    return { same: false, detail: `the certificate is unreadable (${(e as Error).message})` };
  }
  if (!Buffer.from(cert.subjectName.toArrayBuffer()).equals(findings.subjectDer)) {
    return { same: false, detail: `subject ${findings.subject || '(empty)'} differs from the certificate's ${cert.subject}` };
  }
  const ext = cert.getExtension(x509.SubjectAlternativeNameExtension);
  const certSan = ext ? ext.names.items.map((n) => `${n.type}:${n.value}`).sort() : [];
  const csrSan = findings.san.map((n) => `${n.type}:${n.value}`).sort();
  if (certSan.join('\n') !== csrSan.join('\n')) {
    return { same: false, detail: `subjectAltName [${csrSan.join(' ')}] differs from the certificate's [${certSan.join(' ')}]` };
  }
  return { same: true, detail: 'subject and subjectAltName identical' };
}

/** Whether the CSR names `name` in its subject CN or in a SAN entry (any type). */
export function csrNames(findings: CsrFindings, name: string): boolean {
  if (!findings.parsed) return false;
  return findings.commonName === name || findings.san.some((s) => s.value === name);
}

/** One line for a report: never the key, only its description and fingerprint. */
export function describeCsrFindings(f: CsrFindings): string {
  if (!f.parsed) return `unreadable CSR (${f.bytes} bytes): ${f.error}`;
  const san = f.san.length ? `, SAN ${f.san.map((s) => `${s.type}:${s.value}`).join(' ')}` : '';
  const sig = f.signatureValid ? 'self-signature valid' : `self-signature INVALID${f.signatureError ? ` (${f.signatureError})` : ''}`;
  return `${f.subject || '(empty subject)'}${san}, ${f.key.description}, ${f.signatureAlgorithm}, ${sig}, key ${f.publicKeyFingerprint}`;
}
