/** The harness's DTLS 1.2 server (coaps://) and client, over an OpenSSL addon. See README.md. */
export { DtlsServer } from './server.js';
export { DtlsNoSessionError, type DtlsCloseReason, type DtlsDroppedEvent, type DtlsHandshakeEvent, type DtlsHandshakeFailedEvent, type DtlsServerEvents, type DtlsServerOptions, type DtlsSessionClosedEvent } from './server-types.js';
export { keyFingerprint, peerLabel, type Address, type DtlsAlert, type DtlsMessageEvent, type DtlsRecordEvent } from './types.js';
export { DtlsTransport } from './dtls-transport.js';
export { cipherSuiteName, cipherSuiteId, cipherSuiteFamily, describeCipherList, SIGNALLING_SUITE_IDS } from './cipher-suites.js';
export { explainHandshakeFailure, summariseHandshakeFailures, type ExpectedServerCertificate, type FailureContext, type FailureExplanation } from './explain.js';
export { HandshakeWire, type HandshakeWireView, type WireDatagram, type WireRecord } from './handshake-wire.js';
export { ALERT_NAMES, alertName, inspectClientHello, readHandshakeHeader, splitRecords, type ClientHelloView, type RawHandshake, type RawRecord } from './records.js';
export { DtlsClient, DtlsClientHandshakeError, type DtlsClientCloseEvent, type DtlsClientCloseReason, type DtlsClientEvents } from './client.js';
export { LWM2M_DEFAULT_CERTIFICATE_USAGE, type CertificateUsage, type DtlsClientOptions } from './client-options.js';
export {
  loadNative,
  type ClientSessionCallbacks,
  type ClientSessionInfo,
  type FeedResult,
  type NativeAlert,
  type NativeBinding,
  type NativeCipher,
  type NativeClientContext,
  type NativeClientContextOptions,
  type NativeClientSession,
  type NativeContext,
  type NativeContextOptions,
  type NativeSession,
  type SessionCallbacks,
  type SessionInfo,
  type TimeoutResult,
  type WriteResult,
} from './native.js';
