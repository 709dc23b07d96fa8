/**
 * The vocabulary of the EST service shared with the cases that judge it: the EST-coaps
 * Content-Formats, the record of one exchange (the evidence), the answer policies a case
 * arms, and the service's options.
 */
import type { Address } from '../coap/endpoint.js';
import type { CoapType } from '../coap/message.js';
import type { CsrFindings } from '../pki/csr.js';
import type { EstCa, IssuedCertificate } from '../pki/est-ca.js';
import type { PeerAuthentication } from './peer-auth.js';

/** CoAP Content-Formats of EST-coaps (RFC 9148 §8.1; IANA CoAP Content-Formats registry). */
export const EST_CF = {
  /** application/pkcs7-mime; smime-type=server-generated-key */
  PKCS7_SERVER_KEY: 280,
  /** application/pkcs7-mime; smime-type=certs-only */
  PKCS7_CERTS: 281,
  /** application/pkcs8 */
  PKCS8: 284,
  /** application/csrattrs */
  CSRATTRS: 285,
  /** application/pkcs10 */
  PKCS10: 286,
  /** application/pkix-cert */
  PKIX_CERT: 287,
  LINK_FORMAT: 40,
} as const;

export const EST_CF_NAMES: Readonly<Record<number, string>> = {
  280: 'application/pkcs7-mime; smime-type=server-generated-key',
  281: 'application/pkcs7-mime; smime-type=certs-only',
  284: 'application/pkcs8',
  285: 'application/csrattrs',
  286: 'application/pkcs10',
  287: 'application/pkix-cert',
};

export type EstOperation = 'crts' | 'sen' | 'sren' | 'discovery' | 'other';

/** How the server answers one operation, armed by the case. */
export type EstAnswerPolicy =
  | { kind: 'serve' }
  /** 5.03 Service Unavailable with Max-Age (RFC 9148 §4.7) for the next `times` requests, then serve. */
  | { kind: 'retry-later'; maxAgeSeconds: number; times: number }
  /** `reason` goes out as the diagnostic payload instead of "the case armed …". */
  | { kind: 'reject'; code: string; reason?: string }
  /** No ACK, no response. */
  | { kind: 'silent' }
  /** Empty ACK now, the response after delayMs (RFC 9148 §4.7, short wait). */
  | { kind: 'delay'; delayMs: number };

export const SERVE: EstAnswerPolicy = { kind: 'serve' };

export interface EstExchange {
  operation: EstOperation;
  /** Names the endpoint that served it: 'est-server' (a separate RA) or 'bootstrap-server'. */
  via: string;
  local: Address;
  remote: Address;
  /** Arrival of the request's first datagram (first Block1 block). */
  monoNs: bigint;
  /** Arrival of the last one (the request complete). */
  completeMonoNs: bigint;
  method: string;
  path: string;
  /** '/.well-known/est' or the short root from discovery; undefined for discovery and unknown paths. */
  root?: string;
  /** An ArbitraryLabel between root and operation (RFC 9148 §4.1), if any. */
  label?: string;
  query: string[];
  type: CoapType;
  contentFormat?: number;
  accept?: number;
  auth: PeerAuthentication;
  requestBytes: number;
  /** Set when the request came in Block1 blocks. */
  block1?: { blocks: number; firstBlockSize: number };
  /** sen/sren: what the CSR says. */
  csr?: CsrFindings;
  /** The code answered, or null while not (yet) answered or when silent. */
  answeredWith: string | null;
  answeredMonoNs?: bigint;
  responseContentFormat?: number;
  maxAgeSeconds?: number;
  responseBytes?: number;
  /** Set when the response went in Block2 blocks; blocksServed grows as the client fetches them. */
  block2?: { blockSize: number; blocks: number; blocksServed: number };
  /** sen/sren answered 2.04: the certificate issued. */
  issued?: IssuedCertificate;
  /** Why the request was refused, in words, for a 4.xx/5.xx. */
  refusal?: string;
}

export interface EstServiceOptions {
  /** Endpoint name for the record ('est-server', 'bootstrap-server'). */
  via: string;
  ca: EstCa;
  /** How the peer behind an address authenticated its DTLS session. */
  authOf: (remote: Address) => PeerAuthentication;
  /** The endpoint's own address, for the record. */
  local: () => Address;
  /** Short root the server hands out in discovery (default '/est'); '/.well-known/est' is always served. */
  shortRoot?: string;
  /** Largest block we send and prefer to receive (default 1024). */
  blockSize?: number;
  /** Largest request body accepted (default 16 KiB). */
  maxRequestBytes?: number;
}
