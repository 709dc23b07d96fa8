/**
 * How a fake server secures its endpoint: plain CoAP, or DTLS 1.2 with pre-shared keys
 * (coaps://). The PSK table is filled as the case goes: the Bootstrap-Server's entry is
 * what the device was provisioned with, the LwM2M Server's what the Bootstrap-Server wrote.
 */
import { randomBytes } from 'node:crypto';
import type { DatagramTap } from '../coap/endpoint.js';
import type { DatagramTransport } from '../coap/transport.js';
import { DtlsTransport } from '../dtls/dtls-transport.js';

/** LwM2M Transport §5.2.9.1 (1.1: §5.2.8.1): the PSK suite every client MUST support. */
export const MANDATORY_PSK_SUITE = 'PSK-AES128-CCM8';
export const MANDATORY_PSK_SUITE_ID = 0xc0a8;

export class PskTable {
  private readonly keys = new Map<string, Buffer>();

  set(identity: string, key: Buffer): void {
    this.keys.set(identity, Buffer.from(key));
  }

  lookup(identity: string): Buffer | null {
    return this.keys.get(identity) ?? null;
  }

  get identities(): string[] {
    return [...this.keys.keys()];
  }
}

export interface PskCredentials {
  identity: string;
  key: Buffer;
}

/** Fresh credentials for one case: a recognisable identity and a 128-bit random key. */
export function freshPsk(label: string): PskCredentials {
  return { identity: `geisa-${label}-${randomBytes(4).toString('hex')}`, key: randomBytes(16) };
}

/** LwM2M Transport §5.2.9.3 (1.1: §5.2.8.3): the certificate-mode suite every client MUST support. */
export const MANDATORY_CERT_SUITE = 'ECDHE-ECDSA-AES128-CCM8';
export const MANDATORY_CERT_SUITE_ID = 0xc0ae;

export interface CertificateSecurity {
  mode: 'certificate';
  /** The fake server's own certificate and key (SAN = the address the device contacts). */
  certPem: string;
  keyPem: string;
  /** CA(s) the device's certificate must chain to: the manufacturer's for an IDevID. */
  trustedClientCaPem: string;
  cipherSuites?: string[];
}

export type ServerSecurity = { mode: 'nosec' } | { mode: 'psk'; table: PskTable; cipherSuites?: string[] } | CertificateSecurity;

export const NOSEC: ServerSecurity = { mode: 'nosec' };

/** The transport for a fake server; undefined means plain UDP (the endpoint binds it). */
export async function secureTransport(security: ServerSecurity | undefined, listenAddress: string, port: number, name: string, tap?: DatagramTap): Promise<DtlsTransport | undefined> {
  if (!security || security.mode === 'nosec') return undefined;
  if (security.mode === 'certificate') {
    return DtlsTransport.listen(
      {
        address: listenAddress,
        port,
        cipherSuites: security.cipherSuites ?? [MANDATORY_CERT_SUITE],
        certPem: security.certPem,
        keyPem: security.keyPem,
        caPem: security.trustedClientCaPem,
        // Mutual authentication is judged by the case from the reported verify result, so a
        // device with a wrong certificate is seen (and named) rather than just cut off.
        requestClientCert: true,
      },
      name,
      tap,
    );
  }
  const table = security.table;
  return DtlsTransport.listen(
    {
      address: listenAddress,
      port,
      cipherSuites: security.cipherSuites ?? [MANDATORY_PSK_SUITE],
      pskLookup: (identity) => table.lookup(identity),
    },
    name,
    tap,
  );
}

export function isDtls(t: DatagramTransport | undefined): t is DtlsTransport {
  return t instanceof DtlsTransport;
}
