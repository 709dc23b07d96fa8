/**
 * What one handshake looked like on the wire, kept by the server per peer until the
 * handshake ends: each datagram in and out reduced to its records (handshake message, alert,
 * ChangeCipherSpec), and the Certificate messages each side sent, reassembled from their
 * fragments. A failed handshake is explained from this (explain.ts), not from OpenSSL's
 * error string: the alert record the peer sent and the flight it answered are evidence.
 */
import { CONTENT_ALERT, CONTENT_HANDSHAKE, alertName, readHandshakeHeader, splitRecords } from './records.js';

export type Direction = 'in' | 'out';

export interface WireRecord {
  contentType: 'handshake' | 'alert' | 'change_cipher_spec' | 'application_data' | 'unknown';
  epoch: number;
  /** Handshake message ("ClientHello"); an encrypted one (epoch > 0) is the Finished. */
  message?: string;
  /** A plaintext alert; an encrypted one (epoch > 0) only says it is an alert. */
  alert?: { level: 'warning' | 'fatal' | 'unknown'; code: number; description: string };
}

export interface WireDatagram {
  direction: Direction;
  monoNs: bigint;
  length: number;
  records: WireRecord[];
  /** Why the rest of the datagram could not be read as records. */
  malformed?: string;
}

export interface HandshakeWireView {
  /** In order; when there were more than the bound, the first and last ones. */
  datagrams: WireDatagram[];
  /** Datagrams left out between the first and last ones kept. */
  omitted: number;
  /** The Certificate message the server (out) / the client (in) sent, leaf first, DER. */
  ourCertificates: Buffer[];
  peerCertificates: Buffer[];
}

/** RFC 5246 §7.4 / RFC 6347 §4.3.2 handshake types, named as the RFCs' prose does. */
const MESSAGES: Record<number, string> = {
  0: 'HelloRequest',
  1: 'ClientHello',
  2: 'ServerHello',
  3: 'HelloVerifyRequest',
  4: 'NewSessionTicket',
  11: 'Certificate',
  12: 'ServerKeyExchange',
  13: 'CertificateRequest',
  14: 'ServerHelloDone',
  15: 'CertificateVerify',
  16: 'ClientKeyExchange',
  20: 'Finished',
};

const CONTENT: Record<number, WireRecord['contentType']> = { 20: 'change_cipher_spec', 21: 'alert', 22: 'handshake', 23: 'application_data' };
/** Datagrams kept from the start and from the end of one handshake. */
const KEEP_FIRST = 24;
const KEEP_LAST = 24;
/** A Certificate message larger than this is not reassembled (the server caps a peer at 64 KiB anyway). */
const MAX_CERTIFICATE_MESSAGE = 64 * 1024;

/** Fragments of one Certificate message, put back together. */
class Reassembly {
  private buf: Buffer | undefined;
  private covered = 0;
  private seq = -1;
  private readonly ranges: [number, number][] = [];

  add(seq: number, total: number, offset: number, fragment: Buffer): void {
    if (total > MAX_CERTIFICATE_MESSAGE || offset + fragment.length > total) return;
    if (this.buf && seq !== this.seq) return; // one Certificate per direction and handshake
    if (!this.buf) {
      this.buf = Buffer.alloc(total);
      this.seq = seq;
    }
    if (this.buf.length !== total) return;
    // A retransmitted fragment covers what is already there: count only new bytes.
    const start = offset;
    const end = offset + fragment.length;
    if (this.ranges.some(([a, b]) => a <= start && end <= b)) return;
    fragment.copy(this.buf, offset);
    this.ranges.push([start, end]);
    this.covered = coveredLength(this.ranges);
  }

  certificates(): Buffer[] {
    if (!this.buf || this.covered < this.buf.length) return [];
    // certificate_list<0..2^24-1> of ASN.1Cert<1..2^24-1> (RFC 5246 §7.4.2)
    const m = this.buf;
    if (m.length < 3) return [];
    const end = Math.min(m.length, 3 + m.readUIntBE(0, 3));
    const out: Buffer[] = [];
    let p = 3;
    while (p + 3 <= end) {
      const n = m.readUIntBE(p, 3);
      if (p + 3 + n > end) break;
      out.push(Buffer.from(m.subarray(p + 3, p + 3 + n)));
      p += 3 + n;
    }
    return out;
  }
}

function coveredLength(ranges: [number, number][]): number {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let reach = 0;
  for (const [a, b] of sorted) {
    const from = Math.max(a, reach);
    if (b > from) total += b - from;
    reach = Math.max(reach, b);
  }
  return total;
}

export class HandshakeWire {
  private readonly first: WireDatagram[] = [];
  private readonly last: WireDatagram[] = [];
  private omitted = 0;
  private readonly certs: Record<Direction, Reassembly> = { in: new Reassembly(), out: new Reassembly() };

  add(direction: Direction, bytes: Buffer, monoNs: bigint): void {
    const d = this.read(direction, bytes, monoNs);
    if (this.first.length < KEEP_FIRST) {
      this.first.push(d);
      return;
    }
    this.last.push(d);
    if (this.last.length > KEEP_LAST) {
      this.last.shift();
      this.omitted += 1;
    }
  }

  view(): HandshakeWireView {
    return {
      datagrams: [...this.first, ...this.last],
      omitted: this.omitted,
      ourCertificates: this.certs.out.certificates(),
      peerCertificates: this.certs.in.certificates(),
    };
  }

  private read(direction: Direction, b: Buffer, monoNs: bigint): WireDatagram {
    const split = splitRecords(b);
    const d: WireDatagram = { direction, monoNs, length: b.length, records: split.records.map((r) => this.record(direction, r.type, r.epoch, r.body)) };
    if (split.malformed !== undefined) d.malformed = split.malformed;
    return d;
  }

  private record(direction: Direction, type: number, epoch: number, body: Buffer): WireRecord {
    const rec: WireRecord = { contentType: CONTENT[type] ?? 'unknown', epoch };
    if (type === CONTENT_HANDSHAKE) {
      const h = epoch === 0 ? readHandshakeHeader(body) : undefined;
      if (epoch > 0) rec.message = 'Finished';
      else if (h) {
        rec.message = MESSAGES[h.msgType] ?? `handshake type ${h.msgType}`;
        if (h.msgType === 11 && h.fragment.length === h.fragmentLength) this.certs[direction].add(h.messageSeq, h.length, h.fragmentOffset, h.fragment);
      }
    } else if (type === CONTENT_ALERT && epoch === 0 && body.length >= 2) {
      rec.alert = { level: body[0] === 2 ? 'fatal' : body[0] === 1 ? 'warning' : 'unknown', code: body[1]!, description: alertName(body[1]!) };
    }
    return rec;
  }
}
