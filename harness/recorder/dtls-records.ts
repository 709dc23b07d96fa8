/**
 * Reads DTLS 1.2 records (RFC 6347 §4.1) out of a datagram for the evidence trace. Up to
 * the Finished messages the handshake is plaintext, so the ClientHello's cipher list and
 * the PSK identity of the ClientKeyExchange are observable: cases judge them, auditors
 * read them. Encrypted records are described, never opened. Never throws.
 */
import { cipherSuiteName } from '../dtls/cipher-suites.js';
import { ALERT_NAMES, CONTENT_ALERT, CONTENT_HANDSHAKE, RECORD_HEADER, readHandshakeHeader, splitRecords } from '../dtls/records.js';

export interface DtlsHandshakeView {
  type: string;
  length: number;
  messageSeq: number;
  fragmentOffset: number;
  fragmentLength: number;
  clientVersion?: string;
  cookieLength?: number;
  cipherSuites?: number[];
  cipherSuite?: number;
  pskIdentity?: string;
  certificateCount?: number;
}

export interface DtlsRecordView {
  contentType: string;
  version: string;
  epoch: number;
  sequence: number;
  length: number;
  handshake?: DtlsHandshakeView;
  alert?: { level: string; description: string };
  encrypted?: boolean;
}

export interface DecodedDtls {
  records: DtlsRecordView[];
  /** Bytes after the last whole record, or a reason the datagram stopped parsing. */
  trailing?: string;
}

const CONTENT_TYPES: Record<number, string> = { 20: 'change_cipher_spec', 21: 'alert', 22: 'handshake', 23: 'application_data' };

const HANDSHAKE_TYPES: Record<number, string> = {
  0: 'hello_request',
  1: 'client_hello',
  2: 'server_hello',
  3: 'hello_verify_request',
  11: 'certificate',
  12: 'server_key_exchange',
  13: 'certificate_request',
  14: 'server_hello_done',
  15: 'certificate_verify',
  16: 'client_key_exchange',
  20: 'finished',
};

// Suites by IANA name: one table for the trace and the reasons.
export { cipherSuiteName };

function versionName(major: number, minor: number): string {
  if (major === 0xfe && minor === 0xfd) return 'DTLS 1.2';
  if (major === 0xfe && minor === 0xff) return 'DTLS 1.0';
  return `0x${major.toString(16)}${minor.toString(16).padStart(2, '0')}`;
}

/** A DTLS record starts with a known content type and a DTLS version (0xFEnn). */
export function looksLikeDtls(buf: Buffer): boolean {
  return buf.length >= RECORD_HEADER && CONTENT_TYPES[buf[0]!] !== undefined && buf[1] === 0xfe;
}

export function decodeDtlsDatagram(buf: Buffer): DecodedDtls {
  const split = splitRecords(buf);
  const records = split.records.map((r) => {
    const rec: DtlsRecordView = { contentType: CONTENT_TYPES[r.type] ?? `unknown(${r.type})`, version: versionName(r.versionMajor, r.versionMinor), epoch: r.epoch, sequence: r.sequence, length: r.length };
    if (r.epoch > 0) rec.encrypted = true;
    else if (r.type === CONTENT_HANDSHAKE) {
      const hs = readHandshake(r.body);
      if (hs) rec.handshake = hs;
    } else if (r.type === CONTENT_ALERT && r.body.length >= 2) {
      rec.alert = { level: r.body[0] === 2 ? 'fatal' : 'warning', description: ALERT_NAMES[r.body[1]!] ?? `alert(${r.body[1]})` };
    }
    return rec;
  });
  return split.malformed === undefined ? { records } : { records, trailing: split.malformed };
}

function readHandshake(b: Buffer): DtlsHandshakeView | undefined {
  const h = readHandshakeHeader(b);
  if (!h) return undefined;
  const hs: DtlsHandshakeView = {
    type: HANDSHAKE_TYPES[h.msgType] ?? `unknown(${h.msgType})`,
    length: h.length,
    messageSeq: h.messageSeq,
    fragmentOffset: h.fragmentOffset,
    fragmentLength: h.fragmentLength,
  };
  // Only a whole, unfragmented message is read further.
  if (hs.fragmentOffset !== 0 || hs.fragmentLength !== hs.length || h.fragment.length < hs.length) return hs;
  const m = h.fragment;
  try {
    switch (h.msgType) {
      case 1: {
        let p = 2 + 32;
        hs.clientVersion = versionName(m[0]!, m[1]!);
        p += 1 + m[p]!; // session id
        hs.cookieLength = m[p]!;
        p += 1 + m[p]!;
        const n = m.readUInt16BE(p);
        hs.cipherSuites = [];
        for (let k = 0; k + 1 < n; k += 2) hs.cipherSuites.push(m.readUInt16BE(p + 2 + k));
        break;
      }
      case 2: {
        let p = 2 + 32;
        p += 1 + m[p]!;
        hs.cipherSuite = m.readUInt16BE(p);
        break;
      }
      case 3:
        hs.cookieLength = m[2]!;
        break;
      case 11: {
        // certificate_list<0..2^24-1> of ASN.1Cert<1..2^24-1>
        let p = 3;
        let count = 0;
        while (p + 3 <= m.length) {
          p += 3 + m.readUIntBE(p, 3);
          count += 1;
        }
        hs.certificateCount = count;
        break;
      }
      case 16: {
        // PSK ClientKeyExchange: psk_identity<0..2^16-1> (RFC 4279 §2). An ECDHE exchange
        // has a one-byte point length instead, so only a length that fits the body exactly is read.
        const n = m.readUInt16BE(0);
        if (n + 2 === m.length) hs.pskIdentity = m.subarray(2, 2 + n).toString('utf8');
        break;
      }
    }
  } catch {
    // A truncated message body: the header fields above are still evidence.
  }
  return hs;
}

/** One line for the trace: "handshake client_hello (ciphers TLS_PSK_WITH_AES_128_CCM_8) | ..." */
export function describeDtls(d: DecodedDtls): string {
  const parts = d.records.map((r) => {
    if (r.handshake) {
      const h = r.handshake;
      const extra: string[] = [];
      if (h.cipherSuites) extra.push(`ciphers ${h.cipherSuites.map(cipherSuiteName).join(',')}`);
      if (h.cipherSuite !== undefined) extra.push(`cipher ${cipherSuiteName(h.cipherSuite)}`);
      if (h.cookieLength) extra.push(`cookie ${h.cookieLength} B`);
      if (h.pskIdentity !== undefined) extra.push(`psk_identity "${h.pskIdentity}"`);
      if (h.certificateCount !== undefined) extra.push(`${h.certificateCount} certificate(s)`);
      return `${h.type}${extra.length ? ` (${extra.join('; ')})` : ''}`;
    }
    if (r.alert) return `alert ${r.alert.level} ${r.alert.description}`;
    return `${r.contentType}${r.encrypted ? ` (epoch ${r.epoch}, ${r.length} B encrypted)` : ''}`;
  });
  return `DTLS ${parts.join(' | ')}${d.trailing ? ` [${d.trailing}]` : ''}`;
}
