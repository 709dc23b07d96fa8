/**
 * The CA behind the harness's EST server (one per case): it signs what a device asks for
 * in a CSR (its LDevID) and hands out its own certificate as the EST trust anchor
 * (crts). Lifetimes are in seconds, so a re-enrollment case can make a certificate that
 * expires while it watches. Every certificate it issued is remembered, so sren can tell
 * "the certificate we issued" from any other that happens to chain to us.
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import type * as X509 from '@peculiar/x509';
// @peculiar/x509 is loaded when a certificate is first issued or read, not when the suites are listed.
import { certificateFingerprint, createCa, issueCertificate, loadX509, x509Now, type CertificateMaterial } from './certificates.js';
import { publicKeyFingerprint } from './csr.js';

const ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;

export interface IssuedCertificate {
  der: Buffer;
  pem: string;
  serial: string;
  subject: string;
  fingerprint: string;
  publicKeyFingerprint: string;
  notBefore: Date;
  notAfter: Date;
  /** process.hrtime.bigint() when it was signed. */
  monoNs: bigint;
}

export interface EstCaOptions {
  commonName?: string;
  /** Lifetime of the certificates it issues, in seconds (default one day). */
  lifetimeSeconds?: number;
  /**
   * How far notBefore lies before the moment of issue, in seconds (default 60): a device
   * whose clock is a little behind still accepts its certificate. Not counted in the lifetime.
   */
  backdateSeconds?: number;
  /** More CA certificates for crts (an explicit TA database holding several), PEM. */
  extraCaPems?: string[];
}

function serial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString('hex');
}

export class EstCa {
  /** Settable per case: the next certificate issued lives this long. */
  lifetimeSeconds: number;
  backdateSeconds: number;
  readonly issued = new Map<string, IssuedCertificate>();

  private constructor(
    private readonly ca: Awaited<ReturnType<typeof createCa>>,
    private readonly extraCaDers: Buffer[],
    opts: EstCaOptions,
  ) {
    this.lifetimeSeconds = opts.lifetimeSeconds ?? 86_400;
    this.backdateSeconds = opts.backdateSeconds ?? 60;
  }

  static async create(opts: EstCaOptions = {}): Promise<EstCa> {
    const ca = await createCa(opts.commonName ?? 'GEISA ADM EST CA');
    const extra = (opts.extraCaPems ?? []).map((p, i) => {
      try {
        return Buffer.from(new X509Certificate(p).raw);
      } catch (e) {
        throw new Error(`EST CA: extraCaPems[${i}] is not a PEM certificate (${(e as Error).message})`);
      }
    });
    return new EstCa(ca, extra, opts);
  }

  /**
   * An EST CA over a CA the case already has (the run CA that signed the fake LwM2M
   * Server's certificate): the LDevIDs it issues are then the certificates the LwM2M
   * Server trusts, and the anchor crts hands out is the one that validates that server.
   */
  static fromCa(ca: Awaited<ReturnType<typeof createCa>>, opts: Omit<EstCaOptions, 'commonName'> = {}): EstCa {
    const extra = (opts.extraCaPems ?? []).map((p) => Buffer.from(new X509Certificate(p).raw));
    return new EstCa(ca, extra, opts);
  }

  /** The trust anchor a device should install from crts (and use toward the LwM2M Server's issuer). */
  get certPem(): string {
    return this.ca.certPem;
  }

  get certDer(): Buffer {
    return Buffer.from(this.ca.cert.raw);
  }

  get fingerprint(): string {
    return certificateFingerprint(this.certDer);
  }

  /** Every CA certificate crts hands out, the issuing CA first. */
  get caCertsDer(): Buffer[] {
    return [this.certDer, ...this.extraCaDers];
  }

  /** application/pkcs7-mime; smime-type=certs-only (Content-Format 281): a degenerate SignedData. */
  caCertsPkcs7(): Buffer {
    return certsOnlyPkcs7(this.caCertsDer);
  }

  /**
   * Signs the key in `csr` for the subject (and subjectAltName) it asks for, as a client
   * certificate. The CSR must have been checked by the caller (signature, key type):
   * this only refuses a key it cannot put in a certificate.
   */
  async issue(csrDer: Buffer, opts: { lifetimeSeconds?: number } = {}): Promise<IssuedCertificate> {
    const x509 = await loadX509();
    const csr = new x509.Pkcs10CertificateRequest(new Uint8Array(csrDer));
    const now = Date.now();
    const lifetime = opts.lifetimeSeconds ?? this.lifetimeSeconds;
    const extensions: X509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
      await x509.AuthorityKeyIdentifierExtension.create(this.ca.keys.publicKey),
      await x509.SubjectKeyIdentifierExtension.create(csr.publicKey),
    ];
    const san = csr.getExtension('2.5.29.17');
    if (san) extensions.push(new x509.Extension('2.5.29.17', false, san.value));
    const sn = serial();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: sn,
      subject: csr.subjectName,
      issuer: this.ca.cert.subject,
      notBefore: new Date(Math.floor((now - this.backdateSeconds * 1000) / 1000) * 1000),
      notAfter: new Date(Math.floor((now + lifetime * 1000) / 1000) * 1000),
      signingKey: this.ca.keys.privateKey,
      publicKey: csr.publicKey,
      signingAlgorithm: ALG,
      extensions,
    });
    const der = Buffer.from(cert.rawData);
    const node = new X509Certificate(der);
    const issued: IssuedCertificate = {
      der,
      pem: cert.toString('pem'),
      serial: node.serialNumber.toLowerCase(),
      subject: node.subject.replace(/\n/g, ', '),
      fingerprint: certificateFingerprint(der),
      publicKeyFingerprint: publicKeyFingerprint(Buffer.from(csr.publicKey.rawData)),
      notBefore: new Date(node.validFrom),
      notAfter: new Date(node.validTo),
      monoNs: process.hrtime.bigint(),
    };
    this.issued.set(issued.serial, issued);
    return issued;
  }

  /**
   * A DTLS server certificate for the EST server itself, signed by this CA, so a device
   * that took this CA as its EST trust anchor (explicit TA) can authenticate the server.
   */
  serverCertificate(hosts: string[], commonName = 'geisa-adm est-server'): Promise<CertificateMaterial> {
    return issueCertificate(this.ca, { commonName, hosts, usage: 'server' });
  }

  /** The certificate this CA issued with exactly these bytes, if any. */
  issuedCertificate(der: Buffer): IssuedCertificate | undefined {
    try {
      const found = this.issued.get(new X509Certificate(der).serialNumber.toLowerCase());
      return found && found.der.equals(der) ? found : undefined;
    } catch {
      return undefined;
    }
  }
}

/** A certs-only PKCS#7 (RFC 5652 SignedData with no signers) holding `certsDer`, DER. */
export function certsOnlyPkcs7(certsDer: Buffer[]): Buffer {
  const x509 = x509Now();
  const certs = new x509.X509Certificates(certsDer.map((d) => new x509.X509Certificate(new Uint8Array(d))));
  return Buffer.from(certs.export('raw'));
}

/** The certificates inside a certs-only PKCS#7, DER each; throws with a plain message when it is not one. */
export function certsFromPkcs7(p7Der: Buffer): Buffer[] {
  const x509 = x509Now();
  try {
    return [...new x509.X509Certificates(new Uint8Array(p7Der))].map((c) => Buffer.from(c.rawData));
  } catch (e) {
    throw new Error(`not a certs-only PKCS#7 (${(e as Error).message})`);
  }
}
