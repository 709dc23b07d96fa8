/**
 * What a DtlsClient is told (its options) and the OpenSSL client context they make: the
 * cipher list, the PSK, the client certificate, and how the server is verified (PKIX or
 * an LwM2M Certificate Usage). Inconsistent options are refused here, before any socket.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { loadNative, type NativeClientContext, type NativeClientContextOptions } from './native.js';
import type { Address, DtlsRecordEvent } from './types.js';

/**
 * LwM2M Certificate Usage (Security /0/x/15), i.e. the TLSA usage of RFC 6698:
 * 0 CA constraint, 1 service certificate constraint, 2 trust anchor assertion,
 * 3 domain-issued certificate.
 */
export type CertificateUsage = 0 | 1 | 2 | 3;

/** The value /0/x/15 takes when the bootstrap left it out (LwM2M 1.2 §E.1). */
export const LWM2M_DEFAULT_CERTIFICATE_USAGE: CertificateUsage = 3;

export interface DtlsClientOptions {
  /** The server: an IP address (a name is resolved once, before the socket is made). */
  remote: Address;
  /** Where to bind; default the wildcard of the remote's family, port 0 (the OS chooses). */
  local?: { address?: string; port?: number };
  /** OpenSSL or IANA names, in the order the ClientHello offers them. */
  cipherSuites: string[];
  /** Identity and key for the PSK suites among cipherSuites. */
  psk?: { identity: string | Buffer; key: Buffer };
  /** Client certificate (chain allowed) and its key, sent when the server asks. */
  certPem?: string;
  keyPem?: string;
  /**
   * Without certificateUsage: the PKIX trust store the server's chain must reach.
   * With certificateUsage: the certificate the usage refers to (LwM2M's Server Public Key,
   * /0/x/4): a CA for 0 and 2, the server's own certificate for 1 and 3.
   */
  caPem?: string;
  /**
   * Verify the server as LwM2M's Certificate Usage says (OpenSSL DANE, Cert/Full records):
   * 0 PKIX-TA: caPem must appear in the validated chain, which must reach trustStorePem
   *   (default caPem itself);
   * 1 PKIX-EE: the server's certificate must equal caPem and validate to trustStorePem;
   * 2 DANE-TA: caPem is the trust anchor (the server need not send it); expiry checked;
   * 3 DANE-EE: the server's certificate must equal caPem byte for byte; nothing else
   *   (no chain, no expiry: RFC 7671 §5.1) unless expectedServerName is given.
   * Not given: plain PKIX against caPem. LwM2M's own default is 3
   * (LWM2M_DEFAULT_CERTIFICATE_USAGE); a device applying /0/x/15 passes it explicitly.
   */
  certificateUsage?: CertificateUsage;
  /** The PKIX trust store of usages 0 and 1. */
  trustStorePem?: string;
  /** 'chain' (default when caPem is given): an unverified server fails the handshake. */
  verifyServer?: 'none' | 'chain';
  /** DNS name or IP literal the server certificate's subjectAltName must carry. */
  expectedServerName?: string;
  /** server_name extension (RFC 6066); none sent unless given. */
  sni?: string;
  /** Largest datagram sent during the handshake (default 1232). */
  mtu?: number;
  /** The handshake fails if not done by then (default 30 s). */
  handshakeTimeoutMs?: number;
  /** First flight retransmission timer, doubled up to 60 s (default 1 s, RFC 6347 §4.2.4.1). */
  retransmitInitialMs?: number;
  /** Bytes the server may send before the handshake completes (default 64 KiB). */
  maxHandshakeBytes?: number;
  /** NSS key log lines, for Wireshark. Off unless given: they decrypt the traffic. */
  keylog?: (line: string) => void;
  /**
   * Every datagram in and out from the first ClientHello on: the 'record' event only
   * reaches listeners added after connect() resolved, i.e. after the handshake.
   */
  onRecord?: (e: DtlsRecordEvent) => void;
  /** Abandons the handshake (connect() rejects); no effect once established. */
  signal?: AbortSignal;
}

export function makeClientContext(o: DtlsClientOptions): NativeClientContext {
  const usage = o.certificateUsage;
  const ctx: NativeClientContextOptions = { role: 'client', cipherSuites: o.cipherSuites, psk: o.psk !== undefined };
  if (o.certPem !== undefined) ctx.certPem = o.certPem;
  if (o.keyPem !== undefined) ctx.keyPem = o.keyPem;
  if (usage === undefined) {
    if (o.trustStorePem !== undefined) throw new Error('DtlsClient: trustStorePem goes with certificateUsage 0 or 1; without a usage, caPem is the trust store');
    if (o.caPem !== undefined) ctx.caPem = o.caPem;
  } else {
    if (![0, 1, 2, 3].includes(usage)) throw new Error(`DtlsClient: certificateUsage must be 0, 1, 2 or 3, not ${String(usage)}`);
    if (!o.caPem) throw new Error(`DtlsClient: certificateUsage ${usage} needs caPem, the certificate it refers to`);
    ctx.dane = { usage, certPem: o.caPem };
    if (usage === 0) ctx.caPem = o.trustStorePem ?? o.caPem;
    else if (usage === 1) {
      if (!o.trustStorePem) throw new Error('DtlsClient: certificateUsage 1 (PKIX-EE) needs trustStorePem, the CAs the server chain must validate to');
      ctx.caPem = o.trustStorePem;
    } else if (o.trustStorePem !== undefined) {
      throw new Error(`DtlsClient: certificateUsage ${usage} takes no trustStorePem: caPem alone is what the server is checked against`);
    }
  }
  if (o.verifyServer !== undefined) ctx.verifyServer = o.verifyServer;
  if (o.expectedServerName !== undefined) ctx.expectedServerName = o.expectedServerName;
  if (o.sni !== undefined) ctx.sni = o.sni;
  if (o.mtu !== undefined) ctx.mtu = o.mtu;
  if (o.psk) {
    if (!Buffer.isBuffer(o.psk.key) || o.psk.key.length === 0) throw new Error('DtlsClient: psk.key must be a non-empty Buffer');
  }
  return new (loadNative().DtlsContext)(ctx);
}

export async function resolveRemote(remote: Address): Promise<Address> {
  if (isIP(remote.address) !== 0) return remote;
  const { address } = await lookup(remote.address);
  return { address, port: remote.port };
}
