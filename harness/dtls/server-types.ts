/**
 * What the DTLS server (server.ts) takes and what it tells: its options and its events.
 * dtls-transport.ts, explain.ts and the EST server read these without the server itself.
 */
import type { HandshakeWireView } from './handshake-wire.js';
import type { SessionInfo } from './native.js';
import { peerLabel, type Address, type DtlsAlert, type DtlsMessageEvent, type DtlsRecordEvent } from './types.js';

export interface DtlsServerOptions {
  /** Default '0.0.0.0'; an IPv6 address binds a udp6 socket. */
  address?: string;
  /** Default 0: the OS chooses; read it back from `local`. */
  port?: number;
  /** Preference order; OpenSSL or IANA names. */
  cipherSuites: string[];
  /**
   * The PSK for an identity, or null/undefined for an unknown identity (the handshake
   * then fails with unknown_psk_identity). Called synchronously during the handshake.
   * Giving it enables PSK cipher suites.
   */
  pskLookup?: (identity: string, remote: Address) => Buffer | null | undefined;
  certPem?: string;
  keyPem?: string;
  caPem?: string;
  /** Ask for a client certificate, report what verification says, let the handshake finish. */
  requestClientCert?: boolean;
  /** Ask for a client certificate and fail the handshake unless it verifies against caPem. */
  requireValidClientCert?: boolean;
  /** HelloVerifyRequest cookie key; random per server by default. */
  cookieSecret?: Buffer;
  /** Largest datagram the server sends during the handshake (default 1232). */
  mtu?: number;
  /** Sessions kept at once (default 64); a new peer evicts one (see evictOne: unverified handshakes first). */
  maxSessions?: number;
  /** A session without traffic for this long is closed (default 5 min). */
  idleTimeoutMs?: number;
  /** A handshake not finished this long after the first ClientHello fails (default 60 s). */
  handshakeTimeoutMs?: number;
  /** First flight retransmission timer, doubled up to 60 s (default 1 s, RFC 6347 §4.2.4.1). */
  retransmitInitialMs?: number;
  /** Bytes a peer may send before its handshake completes (default 64 KiB). */
  maxHandshakeBytes?: number;
  /** NSS key log lines, for Wireshark. Off unless given: they decrypt the traffic. */
  keylog?: (line: string, remote: Address) => void;
}

/** What the session reports once established, as OpenSSL has it. */
export const HANDSHAKE_INFO_FIELDS = [
  'version',
  'cipher',
  'cipherStandardName',
  'cipherId',
  'pskIdentity',
  'peerCertChainDer',
  // X509_V_OK (0) also when no certificate was requested or sent: read peerCertChainDer.
  'verifyResult',
  'verifyResultText',
  'resumed',
  'clientOfferedCiphers',
  'clientOfferedExtensions',
] as const satisfies readonly (keyof SessionInfo)[];

export interface DtlsHandshakeEvent extends Pick<SessionInfo, (typeof HANDSHAKE_INFO_FIELDS)[number]> {
  remote: Address;
  local: Address;
  durationMs: number;
}

export interface DtlsHandshakeFailedEvent {
  remote: Address;
  error: string;
  alerts: DtlsAlert[];
  durationMs: number;
  /** The identity the client offered, if it got that far. */
  pskIdentity: string | null;
  clientOfferedCiphers: number[];
  /** process.hrtime.bigint() when the handshake was given up. */
  monoNs: bigint;
  /** The handshake's datagrams reduced to records, and the Certificates each side sent: what explain.ts reads. */
  wire: HandshakeWireView;
}

export type DtlsCloseReason = 'peer-close-notify' | 'peer-alert' | 'idle' | 'evicted' | 'replaced' | 'server-close' | 'error';

export interface DtlsSessionClosedEvent {
  remote: Address;
  reason: DtlsCloseReason;
  error?: string;
  alerts: DtlsAlert[];
}

export interface DtlsDroppedEvent {
  remote: Address;
  reason: string;
  length: number;
}

export interface DtlsServerEvents {
  record: [DtlsRecordEvent];
  handshake: [DtlsHandshakeEvent];
  'handshake-failed': [DtlsHandshakeFailedEvent];
  message: [DtlsMessageEvent];
  'session-closed': [DtlsSessionClosedEvent];
  dropped: [DtlsDroppedEvent];
  error: [Error];
}

/** Thrown by send() when there is no established session with the peer. */
export class DtlsNoSessionError extends Error {
  constructor(readonly remote: Address) {
    super(`no established DTLS session with ${peerLabel(remote)}`);
    this.name = 'DtlsNoSessionError';
  }
}
