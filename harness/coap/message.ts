/**
 * CoAP messages (RFC 7252 §3) as the harness reasons about them: numeric option numbers,
 * dotted codes, raw token and payload. Decoding is done here, every length checked against
 * the datagram, so a malformed datagram from the device becomes a clear CoapFormatError
 * instead of a request or an exception deep in a socket callback; coap-packet encodes.
 */
import { generate } from 'coap-packet';

export type CoapType = 'CON' | 'NON' | 'ACK' | 'RST';

export interface CoapOption {
  number: number;
  value: Buffer;
}

export interface CoapMessage {
  type: CoapType;
  /** Dotted class.detail, e.g. "0.02" (POST), "2.04" (Changed), "0.00" (empty). */
  code: string;
  mid: number;
  token: Buffer;
  options: CoapOption[];
  payload: Buffer;
}

export const OPTION = {
  IF_MATCH: 1,
  URI_HOST: 3,
  ETAG: 4,
  IF_NONE_MATCH: 5,
  OBSERVE: 6,
  URI_PORT: 7,
  LOCATION_PATH: 8,
  OSCORE: 9,
  URI_PATH: 11,
  CONTENT_FORMAT: 12,
  MAX_AGE: 14,
  URI_QUERY: 15,
  HOP_LIMIT: 16,
  ACCEPT: 17,
  LOCATION_QUERY: 20,
  BLOCK2: 23,
  BLOCK1: 27,
  SIZE2: 28,
  PROXY_URI: 35,
  PROXY_SCHEME: 39,
  SIZE1: 60,
  NO_RESPONSE: 258,
} as const;

const OPTION_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(OPTION).map(([k, v]) => [
    v,
    k
      .toLowerCase()
      .replace(/_(\w)/g, (_m, c: string) => '-' + c.toUpperCase())
      .replace(/^\w/, (c) => c.toUpperCase()),
  ]),
);

export function optionName(n: number): string {
  return OPTION_NAMES[n] ?? `Option-${n}`;
}

export const METHOD_CODES: Record<string, string> = {
  GET: '0.01',
  POST: '0.02',
  PUT: '0.03',
  DELETE: '0.04',
  FETCH: '0.05',
  PATCH: '0.06',
  IPATCH: '0.07',
};

const CODE_NAMES: Record<string, string> = {
  '0.00': 'Empty',
  '0.01': 'GET',
  '0.02': 'POST',
  '0.03': 'PUT',
  '0.04': 'DELETE',
  '0.05': 'FETCH',
  '0.06': 'PATCH',
  '0.07': 'iPATCH',
  '2.01': 'Created',
  '2.02': 'Deleted',
  '2.03': 'Valid',
  '2.04': 'Changed',
  '2.05': 'Content',
  '2.31': 'Continue',
  '4.00': 'Bad Request',
  '4.01': 'Unauthorized',
  '4.02': 'Bad Option',
  '4.03': 'Forbidden',
  '4.04': 'Not Found',
  '4.05': 'Method Not Allowed',
  '4.06': 'Not Acceptable',
  '4.08': 'Request Entity Incomplete',
  '4.12': 'Precondition Failed',
  '4.13': 'Request Entity Too Large',
  '4.15': 'Unsupported Content-Format',
  '5.00': 'Internal Server Error',
  '5.01': 'Not Implemented',
  '5.02': 'Bad Gateway',
  '5.03': 'Service Unavailable',
  '5.04': 'Gateway Timeout',
  '5.05': 'Proxying Not Supported',
};

export function codeName(code: string): string {
  return CODE_NAMES[code] ?? code;
}

export function isRequestCode(code: string): boolean {
  return code.startsWith('0.') && code !== '0.00';
}

export function isEmpty(msg: CoapMessage): boolean {
  return msg.code === '0.00';
}

export class CoapFormatError extends Error {
  constructor(readonly detail: string) {
    super(`malformed CoAP message: ${detail}`);
    this.name = 'CoapFormatError';
  }
}

const TYPES: CoapType[] = ['CON', 'NON', 'ACK', 'RST'];

/**
 * Parses a datagram; throws CoapFormatError only. The whole framing (RFC 7252 §3, §3.1) is
 * checked here byte by byte: coap-packet trusts the lengths a datagram declares, so an
 * option claiming more bytes than arrived would otherwise become a short, plausible value
 * and a truncated datagram a request the suite answers and judges.
 */
export function decodeCoap(buf: Buffer): CoapMessage {
  if (buf.length < 4) throw new CoapFormatError(`datagram of ${buf.length} bytes is shorter than the 4-byte CoAP header`);
  const version = buf[0]! >> 6;
  if (version !== 1) throw new CoapFormatError(`version ${version} in the header, CoAP is version 1`);
  const tkl = buf[0]! & 0x0f;
  if (tkl > 8) throw new CoapFormatError(`token length ${tkl} is reserved (RFC 7252 §3: 9-15 are a format error)`);
  if (buf.length < 4 + tkl) throw new CoapFormatError(`token length ${tkl} runs past the end of a ${buf.length}-byte datagram`);
  const codeByte = buf[1]!;
  const cls = codeByte >> 5;
  if (cls === 1 || cls === 6 || cls === 7) throw new CoapFormatError(`code class ${cls} is reserved`);
  if (codeByte === 0 && buf.length > 4) {
    throw new CoapFormatError('an Empty message (code 0.00) carries bytes after the header (RFC 7252 §4.1)');
  }
  const { options, payloadAt } = readOptions(buf, 4 + tkl);
  return {
    type: TYPES[(buf[0]! >> 4) & 0x03]!,
    code: `${cls}.${String(codeByte & 0x1f).padStart(2, '0')}`,
    mid: buf.readUInt16BE(2),
    token: Buffer.from(buf.subarray(4, 4 + tkl)),
    options,
    payload: Buffer.from(buf.subarray(payloadAt)),
  };
}

/** Highest option number: the delta extensions could otherwise climb past 16 bits. */
const MAX_OPTION_NUMBER = 0xffff;

/** Reads the options from `start` up to the payload marker or the end (RFC 7252 §3.1). */
function readOptions(buf: Buffer, start: number): { options: CoapOption[]; payloadAt: number } {
  const options: CoapOption[] = [];
  let i = start;
  let number = 0;
  while (i < buf.length) {
    const at = i;
    const b = buf[i]!;
    if (b === 0xff) {
      if (i === buf.length - 1) throw new CoapFormatError(`payload marker at byte ${at} followed by a zero-length payload (RFC 7252 §3)`);
      return { options, payloadAt: i + 1 };
    }
    const where = `option ${options.length + 1} (byte ${at})`;
    i += 1;
    const nibble = (n: number, what: 'delta' | 'length'): number => {
      if (n === 15) throw new CoapFormatError(`${where}: ${what} nibble 15 is reserved outside the payload marker 0xFF (RFC 7252 §3.1)`);
      if (n < 13) return n;
      const extra = n === 13 ? 1 : 2;
      if (i + extra > buf.length) throw new CoapFormatError(`${where}: the ${extra}-byte ${what} extension runs past the end of a ${buf.length}-byte datagram`);
      const v = n === 13 ? buf[i]! + 13 : buf.readUInt16BE(i) + 269;
      i += extra;
      return v;
    };
    const delta = nibble(b >> 4, 'delta');
    const length = nibble(b & 0x0f, 'length');
    number += delta;
    if (number > MAX_OPTION_NUMBER) throw new CoapFormatError(`${where}: option number ${number} is beyond ${MAX_OPTION_NUMBER}`);
    if (i + length > buf.length) {
      throw new CoapFormatError(`${where}: ${optionName(number)} declares ${length} bytes but only ${buf.length - i} remain in the ${buf.length}-byte datagram`);
    }
    options.push({ number, value: Buffer.from(buf.subarray(i, i + length)) });
    i += length;
  }
  return { options, payloadAt: buf.length };
}

export function encodeCoap(msg: CoapMessage): Buffer {
  return generate(
    {
      code: msg.code,
      messageId: msg.mid,
      token: msg.token,
      confirmable: msg.type === 'CON',
      ack: msg.type === 'ACK',
      reset: msg.type === 'RST',
      options: msg.options.map((o) => ({ name: o.number, value: o.value })),
      payload: msg.payload,
    },
    65535,
  );
}

// ---- option helpers -------------------------------------------------------------------

export function optionValues(msg: CoapMessage, number: number): Buffer[] {
  return msg.options.filter((o) => o.number === number).map((o) => o.value);
}

export function uintOption(msg: CoapMessage, number: number): number | undefined {
  const v = optionValues(msg, number)[0];
  if (v === undefined) return undefined;
  let n = 0;
  for (const b of v) n = n * 256 + b;
  return n;
}

export function encodeUint(n: number): Buffer {
  if (n === 0) return Buffer.alloc(0);
  const bytes: number[] = [];
  while (n > 0) {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return Buffer.from(bytes);
}

export function uriPath(msg: CoapMessage): string {
  return (
    '/' +
    optionValues(msg, OPTION.URI_PATH)
      .map((v) => v.toString('utf8'))
      .join('/')
  );
}

export function locationPath(msg: CoapMessage): string[] {
  return optionValues(msg, OPTION.LOCATION_PATH).map((v) => v.toString('utf8'));
}

export function uriQuery(msg: CoapMessage): string[] {
  return optionValues(msg, OPTION.URI_QUERY).map((v) => v.toString('utf8'));
}

/**
 * Uri-Query as a map; RFC 7252 gives the options no order that matters to LwM2M, so cases
 * compare parameters as an unordered set. A repeated key keeps every value.
 */
export function queryParams(msg: CoapMessage): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const q of uriQuery(msg)) {
    const eq = q.indexOf('=');
    const key = eq < 0 ? q : q.slice(0, eq);
    const value = eq < 0 ? '' : q.slice(eq + 1);
    m.set(key, [...(m.get(key) ?? []), value]);
  }
  return m;
}

export function contentFormat(msg: CoapMessage): number | undefined {
  return uintOption(msg, OPTION.CONTENT_FORMAT);
}

/** Builds Uri-Path options from "/a/b" (empty segments dropped, root is no option). */
export function pathOptions(path: string): CoapOption[] {
  return path
    .split('/')
    .filter((s) => s.length > 0)
    .map((s) => ({ number: OPTION.URI_PATH, value: Buffer.from(s, 'utf8') }));
}

export function queryOptions(query: string[]): CoapOption[] {
  return query.map((q) => ({ number: OPTION.URI_QUERY, value: Buffer.from(q, 'utf8') }));
}

export function describe(msg: CoapMessage): string {
  const parts = [msg.type, codeName(msg.code), `mid=${msg.mid}`];
  if (msg.token.length) parts.push(`token=${msg.token.toString('hex')}`);
  if (isRequestCode(msg.code)) {
    const q = uriQuery(msg);
    parts.push(uriPath(msg) + (q.length ? '?' + q.join('&') : ''));
  }
  const loc = locationPath(msg);
  if (loc.length) parts.push(`Location-Path=/${loc.join('/')}`);
  return parts.join(' ');
}
