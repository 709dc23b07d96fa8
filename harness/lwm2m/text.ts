import { CodecError } from './errors.js';
import { coerceValue, decodeUtf8, formatObjectLink, inferType, normalizeInteger, parseObjectLink, type Lwm2mValue, type ObjectLink, type ResourceType } from './values.js';

/** text/plain (0) and application/octet-stream (42) for a single resource value. */

const INTEGER = /^-?[0-9]+$/;
const UNSIGNED = /^[0-9]+$/;
const FLOAT = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function quoteText(s: string): string {
  return JSON.stringify(s.length > 40 ? s.slice(0, 40) + '…' : s);
}

/** Decodes a text/plain payload per the "Text Format" column of Core Appendix C. */
export function decodeText(payload: Buffer, type: ResourceType | undefined): Lwm2mValue {
  const s = decodeUtf8(payload, 'text', 'the payload');
  const bad = (expected: string): never => {
    throw new CodecError('text', `${quoteText(s)} is not ${expected}`);
  };
  switch (type) {
    case 'integer':
    case 'time':
    case 'unsigned':
      if (!(type === 'unsigned' ? UNSIGNED : INTEGER).test(s)) return bad(`a decimal ${type === 'unsigned' ? 'unsigned ' : ''}integer`);
      return coerceValue(normalizeInteger(BigInt(s)), type, 'text', 'the payload');
    case 'float':
      return FLOAT.test(s) ? Number(s) : bad('a decimal number');
    case 'boolean':
      return s === '1' ? true : s === '0' ? false : bad('a boolean ("0" or "1")');
    case 'objlnk':
      return parseObjectLink(s) ?? bad('an object link ("objectId:instanceId", each 0..65535)');
    case 'opaque':
      return BASE64.test(s) ? Buffer.from(s, 'base64') : bad('base64 (RFC 4648 §4, padded)');
    case 'none':
      return Buffer.from(payload);
    case 'string':
    case 'corelnk':
    case undefined:
      return s;
  }
}

/** Writes a float without exponent notation, as the spec's text examples do. */
export function plainDecimal(n: number): string {
  const s = String(n);
  const m = /^(-?)([0-9])(?:\.([0-9]+))?e([+-][0-9]+)$/.exec(s);
  if (!m) return s;
  const [, sign, lead, frac = '', exp] = m;
  const digits = lead! + frac;
  const point = 1 + Number(exp);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return sign + digits + '0'.repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

export function encodeText(value: Lwm2mValue, type?: ResourceType): Buffer {
  const t = type ?? inferType(value);
  const v = coerceValue(value, t, 'text', 'the value');
  switch (t) {
    case 'integer':
    case 'time':
    case 'unsigned':
      return Buffer.from(String(v), 'utf8');
    case 'float':
      if (!Number.isFinite(v as number)) throw new CodecError('text', `${String(v)} has no text/plain form`);
      return Buffer.from(plainDecimal(v as number), 'utf8');
    case 'boolean':
      return Buffer.from(v ? '1' : '0', 'utf8');
    case 'objlnk':
      return Buffer.from(formatObjectLink(v as ObjectLink), 'utf8');
    case 'opaque':
      return Buffer.from((v as Buffer).toString('base64'), 'utf8');
    case 'none':
      return v as Buffer;
    case 'string':
    case 'corelnk':
      return Buffer.from(v as string, 'utf8');
  }
}

/** application/octet-stream carries the bytes of one opaque resource unchanged. */
export function decodeOpaque(payload: Buffer): Buffer {
  return Buffer.from(payload);
}

export function encodeOpaque(value: Lwm2mValue): Buffer {
  if (!Buffer.isBuffer(value)) {
    throw new CodecError('opaque', `application/octet-stream carries bytes; got ${typeof value === 'object' ? 'an object link' : `a ${typeof value}`}`);
  }
  return value;
}
