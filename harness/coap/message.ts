/**
 * CoAP messages (RFC 7252 §3) as the harness reasons about them: numeric option numbers,
 * dotted codes, raw token and payload. coap-packet does the byte work; the header checks
 * it skips are done here so a malformed datagram from the device becomes a clear
 * CoapFormatError instead of an exception deep in a socket callback.
 */
import { generate, parse } from 'coap-packet';

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
  Object.entries(OPTION).map(([k, v]) => [v, k.toLowerCase().replace(/_(\w)/g, (_m, c: string) => '-' + c.toUpperCase()).replace(/^\w/, (c) => c.toUpperCase())]),
);

/** coap-packet reports known options by name; map them back to numbers. */
const NAME_TO_NUMBER: Record<string, number> = {
  'If-Match': 1,
  'Uri-Host': 3,
  ETag: 4,
  'If-None-Match': 5,
  Observe: 6,
  'Uri-Port': 7,
  'Location-Path': 8,
  OSCORE: 9,
  'Uri-Path': 11,
  'Content-Format': 12,
  'Max-Age': 14,
  'Uri-Query': 15,
  'Hop-Limit': 16,
  Accept: 17,
  'Q-Block1': 19,
  'Location-Query': 20,
  Block2: 23,
  Block1: 27,
  Size2: 28,
  'Q-Block2': 31,
  'Proxy-Uri': 35,
  'Proxy-Scheme': 39,
  Size1: 60,
  'No-Response': 258,
};

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

/** Parses a datagram; throws CoapFormatError only. */
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
  if (buf[buf.length - 1] === 0xff && payloadMarkerAtEnd(buf, tkl)) {
    throw new CoapFormatError('payload marker followed by a zero-length payload (RFC 7252 §3)');
  }
  let parsed;
  try {
    parsed = parse(buf);
  } catch (e) {
    throw new CoapFormatError(`options could not be parsed (${(e as Error).message})`);
  }
  const type = TYPES[(buf[0]! >> 4) & 0x03]!;
  return {
    type,
    code: parsed.code,
    mid: parsed.messageId,
    token: Buffer.from(parsed.token),
    options: parsed.options.map((o) => ({
      number: typeof o.name === 'number' ? o.name : (NAME_TO_NUMBER[o.name] ?? Number(o.name)),
      value: Buffer.from(o.value),
    })),
    payload: Buffer.from(parsed.payload),
  };
}

/** Walks the options to find whether a trailing 0xFF is the payload marker itself. */
function payloadMarkerAtEnd(buf: Buffer, tkl: number): boolean {
  let i = 4 + tkl;
  while (i < buf.length) {
    const b = buf[i]!;
    if (b === 0xff) return i === buf.length - 1;
    let delta = b >> 4;
    let len = b & 0x0f;
    i += 1;
    if (delta === 13) i += 1;
    else if (delta === 14) i += 2;
    if (len === 13) len = buf[i++]! + 13;
    else if (len === 14) {
      len = buf.readUInt16BE(i) + 269;
      i += 2;
    }
    if (delta === 15 || len === 15) return false;
    i += len;
  }
  return false;
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
  return '/' + optionValues(msg, OPTION.URI_PATH).map((v) => v.toString('utf8')).join('/');
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
