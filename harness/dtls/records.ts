/**
 * DTLS 1.2 record and handshake headers (RFC 6347 §4.1, §4.2.2), read from a datagram as
 * it crossed the wire. One reader for every part of the harness that looks at handshakes
 * without OpenSSL: the server's ClientHello triage, the per-handshake wire record
 * (handshake-wire.ts) and the evidence trace (recorder/dtls-records.ts). Never throws:
 * what cannot be read is said in `malformed`.
 */

export const RECORD_HEADER = 13;
export const HANDSHAKE_HEADER = 12;

export const CONTENT_CHANGE_CIPHER_SPEC = 20;
export const CONTENT_ALERT = 21;
export const CONTENT_HANDSHAKE = 22;
export const CONTENT_APPLICATION_DATA = 23;

export interface RawRecord {
  /** ContentType byte. */
  type: number;
  versionMajor: number;
  versionMinor: number;
  epoch: number;
  sequence: number;
  length: number;
  body: Buffer;
}

export interface RecordSplit {
  records: RawRecord[];
  /** Why the bytes after the last whole record are not one. */
  malformed?: string;
}

/** Every whole record in the datagram, in order. */
export function splitRecords(b: Buffer): RecordSplit {
  const records: RawRecord[] = [];
  let i = 0;
  while (i < b.length) {
    if (b.length - i < RECORD_HEADER) return { records, malformed: `${b.length - i} bytes after the last record, shorter than a record header` };
    const length = b.readUInt16BE(i + 11);
    if (i + RECORD_HEADER + length > b.length) return { records, malformed: `record length ${length} runs past the end of the datagram` };
    records.push({
      type: b[i]!,
      versionMajor: b[i + 1]!,
      versionMinor: b[i + 2]!,
      epoch: b.readUInt16BE(i + 3),
      sequence: b.readUIntBE(i + 5, 6),
      length,
      body: b.subarray(i + RECORD_HEADER, i + RECORD_HEADER + length),
    });
    i += RECORD_HEADER + length;
  }
  return { records };
}

export interface RawHandshake {
  msgType: number;
  /** The whole message's length; a fragment carries fragmentLength bytes of it from fragmentOffset. */
  length: number;
  messageSeq: number;
  fragmentOffset: number;
  fragmentLength: number;
  /** The fragment's bytes present in the record (fewer than fragmentLength if cut short). */
  fragment: Buffer;
}

/** The handshake header at the start of a plaintext handshake record's body, if it holds one. */
export function readHandshakeHeader(body: Buffer): RawHandshake | undefined {
  if (body.length < HANDSHAKE_HEADER) return undefined;
  const fragmentLength = body.readUIntBE(9, 3);
  return {
    msgType: body[0]!,
    length: body.readUIntBE(1, 3),
    messageSeq: body.readUInt16BE(4),
    fragmentOffset: body.readUIntBE(6, 3),
    fragmentLength,
    fragment: body.subarray(HANDSHAKE_HEADER, HANDSHAKE_HEADER + fragmentLength),
  };
}

export interface ClientHelloView {
  messageSeq: number;
  /** hex; absent when the first fragment is too short to hold it */
  random?: string;
  cookieLength?: number;
}

const HS_CLIENT_HELLO = 1;

/**
 * Looks at the first record only: a ClientHello starts a datagram (RFC 6347 §4.2.3
 * puts nothing before it in a flight), in epoch 0, in plaintext.
 */
export function inspectClientHello(d: Buffer): ClientHelloView | null {
  const first = splitRecords(d).records[0];
  if (!first || first.type !== CONTENT_HANDSHAKE || first.versionMajor !== 0xfe || first.epoch !== 0) return null;
  const h = readHandshakeHeader(first.body);
  if (!h || h.msgType !== HS_CLIENT_HELLO) return null;
  const view: ClientHelloView = { messageSeq: h.messageSeq };
  // client_version(2) random(32) session_id<0..32> cookie<0..2^8-1> (RFC 6347 §4.2.1)
  const m = h.fragment;
  if (h.fragmentOffset === 0 && m.length >= 35) {
    view.random = m.subarray(2, 34).toString('hex');
    const cookieAt = 35 + m[34]!;
    if (cookieAt < m.length) view.cookieLength = m[cookieAt]!;
  }
  return view;
}

/** RFC 5246 §7.2 and RFC 4279 AlertDescription, by their registry names. */
export const ALERT_NAMES: Readonly<Record<number, string>> = {
  0: 'close_notify',
  10: 'unexpected_message',
  20: 'bad_record_mac',
  21: 'decryption_failed',
  22: 'record_overflow',
  30: 'decompression_failure',
  40: 'handshake_failure',
  41: 'no_certificate',
  42: 'bad_certificate',
  43: 'unsupported_certificate',
  44: 'certificate_revoked',
  45: 'certificate_expired',
  46: 'certificate_unknown',
  47: 'illegal_parameter',
  48: 'unknown_ca',
  49: 'access_denied',
  50: 'decode_error',
  51: 'decrypt_error',
  60: 'export_restriction',
  70: 'protocol_version',
  71: 'insufficient_security',
  80: 'internal_error',
  86: 'inappropriate_fallback',
  90: 'user_canceled',
  100: 'no_renegotiation',
  110: 'unsupported_extension',
  111: 'certificate_unobtainable',
  112: 'unrecognized_name',
  113: 'bad_certificate_status_response',
  114: 'bad_certificate_hash_value',
  115: 'unknown_psk_identity',
  120: 'no_application_protocol',
};

export function alertName(code: number): string {
  return ALERT_NAMES[code] ?? `alert ${code}`;
}
