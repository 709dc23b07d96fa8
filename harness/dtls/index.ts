/** The harness's DTLS 1.2 server (coaps://), over an OpenSSL addon. See README.md. */
export {
  DtlsServer,
  DtlsNoSessionError,
  inspectClientHello,
  keyFingerprint,
  peerLabel,
  type Address,
  type DtlsAlert,
  type DtlsCloseReason,
  type DtlsDroppedEvent,
  type DtlsHandshakeEvent,
  type DtlsHandshakeFailedEvent,
  type DtlsMessageEvent,
  type DtlsRecordEvent,
  type DtlsServerEvents,
  type DtlsServerOptions,
  type DtlsSessionClosedEvent,
} from './session-layer.js';
export { DtlsTransport } from './dtls-transport.js';
export {
  loadNative,
  type FeedResult,
  type NativeAlert,
  type NativeBinding,
  type NativeCipher,
  type NativeContext,
  type NativeContextOptions,
  type NativeSession,
  type SessionCallbacks,
  type SessionInfo,
  type TimeoutResult,
  type WriteResult,
} from './native.js';
