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
  established: boolean;
  closed: boolean;
  version: string | null;
  cipher: string | null;
  cipherStandardName: string | null;
  cipherId: number | null;
  pskIdentity: string | null;
  /** The client's certificate first, then whatever chain it sent. */
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

export interface NativeCipher {
  name: string;
  standardName: string | null;
  id: number;
}

export interface NativeContext {
  createSession(peerLabel: string, callbacks: SessionCallbacks): NativeSession;
  ciphers(): NativeCipher[];
}

export interface NativeBinding {
  DtlsContext: new (options: NativeContextOptions) => NativeContext;
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
