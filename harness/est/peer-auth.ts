/**
 * How the peer behind one EST request authenticated its DTLS session, taken from the
 * handshake our server completed with it: a client certificate (and which trust anchor
 * its chain reaches: the manufacturer CA of an IDevID, or our EST CA of an LDevID), a PSK,
 * nothing at all, or no DTLS. RFC 9148 §3 asks for a client certificate; a case judges
 * from this record, which names certificates by subject and fingerprint only.
 */
import { X509Certificate } from 'node:crypto';
import type { Address } from '../coap/transport.js';
import type { DtlsHandshakeEvent } from '../dtls/server-types.js';
import { certificateFingerprint } from '../pki/certificates.js';
import { publicKeyFingerprint } from '../pki/csr.js';

export interface TrustAnchor {
  /** 'manufacturer' (IDevID), 'est-ca' (an LDevID we issued), or a case's own label. */
  label: string;
  pem: string;
}

export interface PresentedCertificate {
  subject: string;
  issuer: string;
  fingerprint: string;
  publicKeyFingerprint: string;
  notBefore: string;
  notAfter: string;
  serial: string;
}

export type PeerAuthentication =
  | {
      kind: 'certificate';
      cipher: string | null;
      /** Leaf first, as the peer sent it (DER; certificates are public). */
      chainDer: Buffer[];
      leaf: PresentedCertificate;
      /** OpenSSL's verdict against every anchor the server trusts (0 = ok). */
      verifyResult: number | null;
      verifyResultText: string | null;
      /** The anchor the chain reaches by signature, or null: none of ours. */
      anchor: string | null;
    }
  | { kind: 'psk'; cipher: string | null; identity: string }
  /** A DTLS session without a client certificate or PSK (certificate suite, client stayed silent when asked). */
  | { kind: 'anonymous'; cipher: string | null }
  /** The request did not come over DTLS at all. */
  | { kind: 'none' };

export function describeCertificateBrief(der: Buffer): PresentedCertificate {
  const c = new X509Certificate(der);
  const spki = c.publicKey.export({ format: 'der', type: 'spki' });
  return {
    subject: c.subject.replace(/\n/g, ', '),
    issuer: c.issuer.replace(/\n/g, ', '),
    fingerprint: certificateFingerprint(der),
    publicKeyFingerprint: publicKeyFingerprint(spki),
    notBefore: c.validFrom,
    notAfter: c.validTo,
    serial: c.serialNumber.toLowerCase(),
  };
}

/**
 * The label of the first anchor `chain` reaches, checking each signature with node:crypto
 * (OpenSSL's verify result already covers validity periods; this says which anchor).
 */
export function anchorOf(chainDer: Buffer[], anchors: TrustAnchor[]): string | null {
  let chain: X509Certificate[];
  try {
    chain = chainDer.map((d) => new X509Certificate(d));
  } catch {
    return null;
  }
  if (chain.length === 0) return null;
  for (const a of anchors) {
    let ca: X509Certificate;
    try {
      ca = new X509Certificate(a.pem);
    } catch {
      continue;
    }
    // Walk up from the leaf through the certificates the peer sent; stop at the anchor.
    let current = chain[0]!;
    for (let depth = 0; depth <= chain.length; depth++) {
      if (current.raw.equals(ca.raw)) return a.label;
      if (current.checkIssued(ca) && current.verify(ca.publicKey)) return a.label;
      const parent = chain.find((p) => p !== current && current.checkIssued(p) && current.verify(p.publicKey));
      if (!parent) break;
      current = parent;
    }
  }
  return null;
}

export function authenticationFromHandshake(h: DtlsHandshakeEvent | undefined, anchors: TrustAnchor[]): PeerAuthentication {
  if (!h) return { kind: 'none' };
  if (h.pskIdentity !== null && h.peerCertChainDer.length === 0) return { kind: 'psk', cipher: h.cipher, identity: h.pskIdentity };
  if (h.peerCertChainDer.length === 0) return { kind: 'anonymous', cipher: h.cipher };
  let leaf: PresentedCertificate;
  try {
    leaf = describeCertificateBrief(h.peerCertChainDer[0]!);
  } catch (e) {
    leaf = { subject: `unparsable certificate (${(e as Error).message})`, issuer: '', fingerprint: certificateFingerprint(h.peerCertChainDer[0]!), publicKeyFingerprint: '', notBefore: '', notAfter: '', serial: '' };
  }
  return {
    kind: 'certificate',
    cipher: h.cipher,
    chainDer: h.peerCertChainDer.map((d) => Buffer.from(d)),
    leaf,
    verifyResult: h.verifyResult,
    verifyResultText: h.verifyResultText,
    anchor: anchorOf(h.peerCertChainDer, anchors),
  };
}

/** For a report line. */
export function describeAuthentication(a: PeerAuthentication): string {
  switch (a.kind) {
    case 'none':
      return 'no DTLS (plain CoAP)';
    case 'anonymous':
      return `DTLS (${a.cipher ?? '?'}) without a client certificate`;
    case 'psk':
      return `DTLS-PSK (${a.cipher ?? '?'}), identity ${JSON.stringify(a.identity)}`;
    case 'certificate':
      return `client certificate ${a.leaf.subject} issued by ${a.leaf.issuer}, ${a.leaf.fingerprint}, chains to ${a.anchor ?? 'no trusted anchor'}, verify ${a.verifyResult === 0 ? 'ok' : `${a.verifyResult} (${a.verifyResultText})`}`;
  }
}

export const peerKey = (a: Address): string => `${a.address}|${a.port}`;
