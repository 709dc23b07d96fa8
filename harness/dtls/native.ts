/**
 * Typed view of the C++ addon (native/src). The addon is built by `npm run build:native`
 * into native/build/Release; it is found from the package root so the same code loads it
 * from source (jest) and from dist/.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface NativeContextOptions {
  role: 'server';
  /** OpenSSL names ('PSK-AES128-CCM8') or IANA names ('TLS_PSK_WITH_AES_128_CCM_8'), in preference order. */
  cipherSuites: string[];
  psk?: boolean;
  certPem?: string;
  keyPem?: string;
  caPem?: string;
  /** Send a CertificateRequest; the verify result is reported, the handshake goes on regardless. */
  requestClientCert?: boolean;
  /** Send a CertificateRequest and fail the handshake unless the client certificate verifies. */
  requireValidClientCert?: boolean;
  /** Key for the stateless HelloVerifyRequest cookies (at least 16 bytes). */
  cookieSecret: Buffer;
  /** Largest datagram payload the server sends during the handshake (default 1232). */
  mtu?: number;
}

/**
 * The client role (the harness as a device). Verification of the server: `caPem` is the
 * PKIX trust store; `dane` expresses an LwM2M Certificate Usage (Security /0/x/15, the
 * TLSA usage of RFC 6698/7671) with the certificate it refers to (the Server Public Key,
 * /0/x/4), checked by OpenSSL's DANE verifier as a Cert(0)/Full(0) record:
 * 0 PKIX-TA (certPem must be in the validated chain, which must also reach caPem),
 * 1 PKIX-EE (the server's certificate must be certPem, and validate to caPem),
 * 2 DANE-TA (certPem is the trust anchor; validity and names still checked),
 * 3 DANE-EE (the server's certificate must be certPem byte for byte; no chain, no expiry).
 */
export interface NativeClientContextOptions {
  role: 'client';
  /** OpenSSL or IANA names, in the order the ClientHello offers them. */
  cipherSuites: string[];
  /** Offer the PSK suites among cipherSuites (the session's pskIdentity callback answers). */
  psk?: boolean;
  /** Client certificate (chain allowed) and its key, sent when the server asks for one. */
  certPem?: string;
  keyPem?: string;
  /** Trust store for PKIX validation of the server's chain. */
  caPem?: string;
  /** 'chain' (default when caPem or dane is given): a failed verification aborts the handshake. */
  verifyServer?: 'none' | 'chain';
  dane?: { usage: 0 | 1 | 2 | 3; certPem: string };
  /** DNS name or IP literal the server certificate's subjectAltName must match. */
  expectedServerName?: string;
  /** server_name extension (RFC 6066); none is sent unless given. */
  sni?: string;
  /** Largest datagram the client sends during the handshake (default 1232). */
  mtu?: number;
}

export interface NativeAlert {
  level: string;
  description: string;
  /** AlertDescription code (RFC 5246 §7.2). */
  code: number;
  /** true: this side sent it; false: the peer did. */
  sent: boolean;
}

export interface FeedResult {
  out: Buffer[];
  app: Buffer[];
  established: boolean;
  closed: boolean;
  /** The handshake failed (as opposed to an established session being closed). */
  failed: boolean;
  peerClosed: boolean;
  /** The peer returned a valid HelloVerifyRequest cookie: its address is real. */
  cookieVerified: boolean;
  error?: string;
  alerts: NativeAlert[];
}

export interface WriteResult {
  out: Buffer[];
  error?: string;
}

export interface TimeoutResult {
  out: Buffer[];
  failed: boolean;
  error?: string;
}

export interface SessionInfo {
  label: string;
  role: 'server' | 'client';
  /** OpenSSL's handshake state (SSL_state_string_long), e.g. where a stalled handshake stopped. */
  state: string | null;
  established: boolean;
  closed: boolean;
  version: string | null;
  cipher: string | null;
  cipherStandardName: string | null;
  cipherId: number | null;
  pskIdentity: string | null;
  /** The peer's certificate first, then whatever chain it sent. */
  peerCertChainDer: Buffer[];
  verifyResult: number | null;
  verifyResultText: string | null;
  resumed: boolean;
  /** ClientHellos that got past the cookie exchange (the callback runs after it). */
  clientHelloCount: number;
  clientOfferedCiphers: number[];
  clientOfferedExtensions: number[];
}

export interface SessionCallbacks {
  /** Called synchronously during the handshake. null: unknown identity (handshake fails). */
  pskLookup?(identity: string, identityBytes: Buffer): Buffer | null | undefined;
  /** NSS key log lines (for Wireshark). */
  keylog?(line: string): void;
  /** The next flight retransmission interval (µs) after `previousUs` (0: a new flight); see handshake-driver.ts. */
  retransmitTimerUs?(previousUs: number): number;
}

export interface ClientSessionInfo extends SessionInfo {
  role: 'client';
  /** The server's PSK identity hint (escaped), null when it sent none. */
  pskIdentityHint: string | null;
  /** Depth of the certificate the first verification complaint was about. */
  verifyErrorDepth: number | null;
  /** The Certificate Usage record that authenticated the server, and the depth it matched at. */
  dane: { usage: number; depth: number } | null;
}

export interface ClientSessionCallbacks {
  /**
   * Called synchronously when the server's flight is in. null: no PSK (the handshake
   * fails). `hint` is the server's PSK identity hint, null when it sent none.
   */
  pskIdentity?(hint: string | null): { identity: Buffer | string; key: Buffer } | null | undefined;
  /** NSS key log lines (for Wireshark). */
  keylog?(line: string): void;
  /** The next flight retransmission interval (µs) after `previousUs` (0: a new flight); see handshake-driver.ts. */
  retransmitTimerUs?(previousUs: number): number;
}

export interface NativeSession {
  feed(datagram: Buffer): FeedResult;
  write(data: Buffer): WriteResult;
  /** Milliseconds until handleTimeout() is due, or -1 when no retransmission timer runs. */
  timeoutMs(): number;
  handleTimeout(): TimeoutResult;
  shutdown(): { out: Buffer[] };
  info(): SessionInfo;
  free(): void;
}

export interface NativeClientSession extends Omit<NativeSession, 'info'> {
  /** Starts the handshake: `out` holds the ClientHello flight. */
  connect(): FeedResult;
  info(): ClientSessionInfo;
}

export interface NativeCipher {
  name: string;
  standardName: string | null;
  id: number;
}

export interface NativeContext {
  createSession(peerLabel: string, callbacks: SessionCallbacks): NativeSession;
  ciphers(): NativeCipher[];
}

export interface NativeClientContext {
  createSession(peerLabel: string, callbacks: ClientSessionCallbacks): NativeClientSession;
  ciphers(): NativeCipher[];
}

export interface NativeBinding {
  // The server signature last: InstanceType<> of an overloaded constructor takes the last.
  DtlsContext: {
    new (options: NativeClientContextOptions): NativeClientContext;
    new (options: NativeContextOptions): NativeContext;
  };
  opensslVersion(): string;
}

const PACKAGE_NAME = 'geisa-adm-conformance';
const ADDON = join('harness', 'dtls', 'native', 'build', 'Release', 'geisa_dtls.node');

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === PACKAGE_NAME) return dir;
      } catch {
        // an unreadable package.json on the way up is not ours
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the ${PACKAGE_NAME} package root above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

let binding: NativeBinding | undefined;

export function loadNative(): NativeBinding {
  if (binding) return binding;
  const file = join(packageRoot(), ADDON);
  if (!existsSync(file)) throw new Error(`the DTLS addon is not built (${file} is missing): run \`npm run build:native\``);
  binding = createRequire(import.meta.url)(file) as NativeBinding;
  return binding;
}
