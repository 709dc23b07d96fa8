/**
 * The few DNS message pieces (RFC 1035 §4) the DNS-SD responder needs: decoding a query
 * (header, questions; answers and additional records skipped over, EDNS0's OPT included)
 * and encoding a response with A, AAAA, PTR, SRV (RFC 2782) and TXT records. Written here
 * because no maintained DNS package is a dependency of the project. Names are encoded
 * without compression (allowed: RFC 1035 §4.1.4 makes it optional for a sender), and
 * compression pointers in what we read are followed with a loop guard.
 */
import { isIPv4, isIPv6 } from 'node:net';

export const DNS_TYPE = { A: 1, PTR: 12, TXT: 16, AAAA: 28, SRV: 33, OPT: 41, ANY: 255 } as const;
export const DNS_CLASS_IN = 1;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

export const TYPE_NAMES: Readonly<Record<number, string>> = { 1: 'A', 12: 'PTR', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 41: 'OPT', 255: 'ANY' };

export class DnsFormatError extends Error {
  constructor(detail: string) {
    super(`malformed DNS message: ${detail}`);
    this.name = 'DnsFormatError';
  }
}

export interface DnsQuestion {
  name: string;
  type: number;
  class: number;
}

export interface DnsHeader {
  id: number;
  qr: boolean;
  opcode: number;
  rd: boolean;
}

export interface DnsQuery extends DnsHeader {
  questions: DnsQuestion[];
  /** The query carried an EDNS0 OPT record (RFC 6891). */
  edns: boolean;
}

export type DnsRecordData =
  { type: 'A'; address: string } | { type: 'AAAA'; address: string } | { type: 'PTR'; target: string } | { type: 'SRV'; priority: number; weight: number; port: number; target: string } | { type: 'TXT'; strings: string[] };

export interface DnsRecord {
  name: string;
  ttl: number;
  data: DnsRecordData;
}

/** Reads just the header: enough to answer FORMERR to a message whose body is broken. */
export function decodeHeader(buf: Buffer): DnsHeader {
  if (buf.length < 12) throw new DnsFormatError(`${buf.length} bytes is shorter than the 12-byte header`);
  const flags = buf.readUInt16BE(2);
  return { id: buf.readUInt16BE(0), qr: (flags & 0x8000) !== 0, opcode: (flags >> 11) & 0xf, rd: (flags & 0x0100) !== 0 };
}

function readName(buf: Buffer, start: number): { name: string; next: number } {
  const labels: string[] = [];
  let pos = start;
  let next = -1;
  let jumps = 0;
  let length = 0;
  for (;;) {
    if (pos >= buf.length) throw new DnsFormatError(`a name at byte ${start} runs past the end`);
    const len = buf[pos]!;
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= buf.length) throw new DnsFormatError(`a compression pointer at byte ${pos} is cut short`);
      if (++jumps > 32) throw new DnsFormatError(`compression pointers loop at byte ${start}`);
      if (next < 0) next = pos + 2;
      pos = ((len & 0x3f) << 8) | buf[pos + 1]!;
      continue;
    }
    if ((len & 0xc0) !== 0) throw new DnsFormatError(`label type 0x${(len & 0xc0).toString(16)} at byte ${pos} is not supported`);
    if (len === 0) {
      if (next < 0) next = pos + 1;
      break;
    }
    if (pos + 1 + len > buf.length) throw new DnsFormatError(`a label at byte ${pos} runs past the end`);
    length += len + 1;
    if (length > 255) throw new DnsFormatError(`a name at byte ${start} is longer than 255 bytes`);
    labels.push(buf.subarray(pos + 1, pos + 1 + len).toString('latin1'));
    pos += 1 + len;
  }
  return { name: labels.join('.'), next };
}

/** Decodes a query; throws DnsFormatError with what and where. */
export function decodeQuery(buf: Buffer): DnsQuery {
  const header = decodeHeader(buf);
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6);
  const ns = buf.readUInt16BE(8);
  const ar = buf.readUInt16BE(10);
  let pos = 12;
  const questions: DnsQuestion[] = [];
  for (let i = 0; i < qd; i++) {
    const { name, next } = readName(buf, pos);
    if (next + 4 > buf.length) throw new DnsFormatError(`question ${i + 1} is cut short`);
    questions.push({ name, type: buf.readUInt16BE(next), class: buf.readUInt16BE(next + 2) & 0x7fff });
    pos = next + 4;
  }
  let edns = false;
  for (let i = 0; i < an + ns + ar; i++) {
    const { next } = readName(buf, pos);
    if (next + 10 > buf.length) throw new DnsFormatError(`resource record ${i + 1} is cut short`);
    const type = buf.readUInt16BE(next);
    const rdlength = buf.readUInt16BE(next + 8);
    if (next + 10 + rdlength > buf.length) throw new DnsFormatError(`the data of resource record ${i + 1} runs past the end`);
    if (type === DNS_TYPE.OPT && i >= an + ns) edns = true;
    pos = next + 10 + rdlength;
  }
  return { ...header, questions, edns };
}

function encodeName(name: string): Buffer {
  const labels = name
    .replace(/\.$/, '')
    .split('.')
    .filter((l) => l.length > 0);
  const parts: Buffer[] = [];
  for (const l of labels) {
    const b = Buffer.from(l, 'utf8');
    if (b.length > 63) throw new Error(`DNS label ${JSON.stringify(l)} is longer than 63 bytes`);
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0]));
  const out = Buffer.concat(parts);
  if (out.length > 255) throw new Error(`DNS name ${JSON.stringify(name)} is longer than 255 bytes`);
  return out;
}

function ipv6Bytes(address: string): Buffer {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail.length > 0 ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

function rdata(d: DnsRecordData): { type: number; bytes: Buffer } {
  switch (d.type) {
    case 'A':
      if (!isIPv4(d.address)) throw new Error(`A record address ${JSON.stringify(d.address)} is not IPv4`);
      return { type: DNS_TYPE.A, bytes: Buffer.from(d.address.split('.').map(Number)) };
    case 'AAAA':
      if (!isIPv6(d.address) || d.address.includes('.')) throw new Error(`AAAA record address ${JSON.stringify(d.address)} is not a plain IPv6 address`);
      return { type: DNS_TYPE.AAAA, bytes: ipv6Bytes(d.address) };
    case 'PTR':
      return { type: DNS_TYPE.PTR, bytes: encodeName(d.target) };
    case 'SRV': {
      const head = Buffer.alloc(6);
      head.writeUInt16BE(d.priority, 0);
      head.writeUInt16BE(d.weight, 2);
      head.writeUInt16BE(d.port, 4);
      return { type: DNS_TYPE.SRV, bytes: Buffer.concat([head, encodeName(d.target)]) };
    }
    case 'TXT': {
      // RFC 6763 §6.1: no strings at all is sent as one empty string.
      const strings = d.strings.length ? d.strings : [''];
      return {
        type: DNS_TYPE.TXT,
        bytes: Buffer.concat(
          strings.map((s) => {
            const b = Buffer.from(s, 'utf8');
            if (b.length > 255) throw new Error(`TXT string ${JSON.stringify(s.slice(0, 20))}… is longer than 255 bytes`);
            return Buffer.concat([Buffer.from([b.length]), b]);
          }),
        ),
      };
    }
  }
}

function encodeRecord(r: DnsRecord): Buffer {
  const { type, bytes } = rdata(r.data);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(type, 0);
  fixed.writeUInt16BE(DNS_CLASS_IN, 2);
  fixed.writeUInt32BE(r.ttl, 4);
  fixed.writeUInt16BE(bytes.length, 8);
  return Buffer.concat([encodeName(r.name), fixed, bytes]);
}

export interface DnsResponse {
  id: number;
  opcode?: number;
  rd?: boolean;
  rcode: number;
  /** Authoritative Answer: we are the authority for the names we serve. */
  aa?: boolean;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  additionals?: DnsRecord[];
}

export function encodeResponse(r: DnsResponse): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(r.id, 0);
  const flags = 0x8000 | ((r.opcode ?? 0) << 11) | (r.aa ? 0x0400 : 0) | (r.rd ? 0x0100 : 0) | (r.rcode & 0xf);
  header.writeUInt16BE(flags, 2);
  header.writeUInt16BE(r.questions.length, 4);
  header.writeUInt16BE(r.answers.length, 6);
  header.writeUInt16BE(0, 8);
  header.writeUInt16BE(r.additionals?.length ?? 0, 10);
  const qs = r.questions.map((q) => {
    const t = Buffer.alloc(4);
    t.writeUInt16BE(q.type, 0);
    t.writeUInt16BE(q.class, 2);
    return Buffer.concat([encodeName(q.name), t]);
  });
  return Buffer.concat([header, ...qs, ...r.answers.map(encodeRecord), ...(r.additionals ?? []).map(encodeRecord)]);
}

/** Decodes the records of a response (for tests and diagnostics): A, AAAA, PTR, SRV, TXT; others as raw. */
export function decodeResponse(buf: Buffer): { header: DnsHeader; rcode: number; aa: boolean; questions: DnsQuestion[]; answers: (DnsRecord | { name: string; type: number; raw: Buffer })[] } {
  const header = decodeHeader(buf);
  const flags = buf.readUInt16BE(2);
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6);
  let pos = 12;
  const questions: DnsQuestion[] = [];
  for (let i = 0; i < qd; i++) {
    const { name, next } = readName(buf, pos);
    questions.push({ name, type: buf.readUInt16BE(next), class: buf.readUInt16BE(next + 2) });
    pos = next + 4;
  }
  const answers: (DnsRecord | { name: string; type: number; raw: Buffer })[] = [];
  for (let i = 0; i < an; i++) {
    const { name, next } = readName(buf, pos);
    if (next + 10 > buf.length) throw new DnsFormatError(`answer ${i + 1} is cut short`);
    const type = buf.readUInt16BE(next);
    const ttl = buf.readUInt32BE(next + 4);
    const len = buf.readUInt16BE(next + 8);
    const at = next + 10;
    if (at + len > buf.length) throw new DnsFormatError(`the data of answer ${i + 1} runs past the end`);
    const raw = buf.subarray(at, at + len);
    pos = at + len;
    if (type === DNS_TYPE.A && len === 4) answers.push({ name, ttl, data: { type: 'A', address: [...raw].join('.') } });
    else if (type === DNS_TYPE.AAAA && len === 16) {
      const groups = Array.from({ length: 8 }, (_v, g) => raw.readUInt16BE(g * 2).toString(16));
      answers.push({ name, ttl, data: { type: 'AAAA', address: groups.join(':') } });
    } else if (type === DNS_TYPE.PTR) answers.push({ name, ttl, data: { type: 'PTR', target: readName(buf, at).name } });
    else if (type === DNS_TYPE.SRV && len >= 7) {
      answers.push({ name, ttl, data: { type: 'SRV', priority: raw.readUInt16BE(0), weight: raw.readUInt16BE(2), port: raw.readUInt16BE(4), target: readName(buf, at + 6).name } });
    } else if (type === DNS_TYPE.TXT) {
      const strings: string[] = [];
      for (let i2 = 0; i2 < raw.length;) {
        const l = raw[i2]!;
        strings.push(raw.subarray(i2 + 1, i2 + 1 + l).toString('utf8'));
        i2 += 1 + l;
      }
      answers.push({ name, ttl, data: { type: 'TXT', strings } });
    } else answers.push({ name, type, raw: Buffer.from(raw) });
  }
  return { header, rcode: flags & 0xf, aa: (flags & 0x0400) !== 0, questions, answers };
}
