import { CodecError, type CodecFormat } from './errors.js';
import type { Lwm2mPath } from './path.js';

/** LwM2M data types (Core Appendix C), lower-cased. */
export type ResourceType = 'string' | 'integer' | 'unsigned' | 'float' | 'boolean' | 'opaque' | 'time' | 'objlnk' | 'corelnk' | 'none';

export interface ObjectLink {
  objectId: number;
  instanceId: number;
}

/**
 * Integers (integer, unsigned, time) are `number` whenever they are safe integers and
 * `bigint` only beyond ±2^53, so everyday values compare with plain `===`.
 */
export type Lwm2mValue = string | number | bigint | boolean | Buffer | ObjectLink;

export interface ResourceRecord {
  path: Lwm2mPath;
  value: Lwm2mValue;
  /** SenML time (bt + t) when the payload carried one; other formats have no timestamps. */
  time?: number;
}

export type TypeLookup = (p: Lwm2mPath) => ResourceType | undefined;

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;

export function isObjectLink(v: unknown): v is ObjectLink {
  return typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && typeof (v as ObjectLink).objectId === 'number' && typeof (v as ObjectLink).instanceId === 'number';
}

export function normalizeInteger(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

export function formatObjectLink(l: ObjectLink): string {
  return `${l.objectId}:${l.instanceId}`;
}

/** Parses "3:0"; returns undefined rather than throwing so each format words its own error. */
export function parseObjectLink(s: string): ObjectLink | undefined {
  const m = /^(0|[1-9][0-9]{0,4}):(0|[1-9][0-9]{0,4})$/.exec(s);
  if (!m) return undefined;
  const objectId = Number(m[1]);
  const instanceId = Number(m[2]);
  return objectId <= 65535 && instanceId <= 65535 ? { objectId, instanceId } : undefined;
}

/** Short human description for verdict messages; opaque values are shown as hex. */
export function describeValue(v: Lwm2mValue): string {
  if (Buffer.isBuffer(v)) return `0x${v.toString('hex')} (${v.length} bytes)`;
  if (isObjectLink(v)) return `objlnk ${formatObjectLink(v)}`;
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

export function valuesEqual(a: Lwm2mValue, b: Lwm2mValue): boolean {
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  if (isObjectLink(a) || isObjectLink(b)) {
    return isObjectLink(a) && isObjectLink(b) && a.objectId === b.objectId && a.instanceId === b.instanceId;
  }
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    if (typeof a === typeof b) return a === b;
    // Mixed number/bigint only compares equal for integral numbers.
    return Number.isInteger(typeof a === 'number' ? a : b) && BigInt(a as number) === BigInt(b as number);
  }
  return a === b;
}

/** The type an untyped value would naturally be carried as. */
export function inferType(v: Lwm2mValue): ResourceType {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'bigint') return v > INT64_MAX ? 'unsigned' : 'integer';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'float';
  if (Buffer.isBuffer(v)) return 'opaque';
  return 'objlnk';
}

/** "an integer", "a float": messages read as sentences verdicts can quote. */
export function withArticle(word: string): string {
  return /^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`;
}

function kindOf(v: unknown): string {
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return 'a byte string';
  if (isObjectLink(v)) return 'an object link';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a non-integer number';
  if (typeof v === 'bigint') return 'an integer';
  if (v === null) return 'null';
  return `a ${typeof v}`;
}

function integerIn(v: unknown, min: bigint, max: bigint): number | bigint | undefined {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number' && Number.isInteger(v)) b = BigInt(v);
  else return undefined;
  return b >= min && b <= max ? normalizeInteger(b) : undefined;
}

/**
 * Checks that a JavaScript value can stand for a resource of `type` and returns it in
 * the canonical shape of the value model. `where` names the resource in the message.
 */
export function coerceValue(v: unknown, type: ResourceType, format: CodecFormat, where: string, offset?: number): Lwm2mValue {
  const fail = (why: string): never => {
    throw new CodecError(format, `${where}: ${why}`, offset);
  };
  switch (type) {
    case 'integer':
    case 'time':
    case 'unsigned': {
      const unsigned = type === 'unsigned';
      const r = integerIn(v, unsigned ? 0n : INT64_MIN, unsigned ? UINT64_MAX : INT64_MAX);
      if (r !== undefined) return r;
      if (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))) {
        return fail(`${String(v)} is out of range for ${withArticle(type)} value (${unsigned ? '0..2^64-1' : 'signed 64-bit'})`);
      }
      return fail(`${kindOf(v)}${typeof v === 'number' ? ` (${v})` : ''} cannot be ${withArticle(type)} value`);
    }
    case 'float':
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint') return Number(v);
      return fail(`${kindOf(v)} cannot be a float value`);
    case 'boolean':
      return typeof v === 'boolean' ? v : fail(`${kindOf(v)} cannot be a boolean value`);
    case 'string':
    case 'corelnk':
      return typeof v === 'string' ? v : fail(`${kindOf(v)} cannot be ${withArticle(type)} value`);
    case 'opaque':
    case 'none':
      if (Buffer.isBuffer(v)) return v;
      if (v instanceof Uint8Array) return Buffer.from(v);
      return fail(`${kindOf(v)} cannot be an ${type === 'none' ? 'executable (none)' : 'opaque'} value`);
    case 'objlnk':
      if (isObjectLink(v) && integerIn(v.objectId, 0n, 65535n) !== undefined && integerIn(v.instanceId, 0n, 65535n) !== undefined) {
        return { objectId: v.objectId, instanceId: v.instanceId };
      }
      return fail(`${kindOf(v)} cannot be an objlnk value (two ids 0..65535)`);
  }
}

function fixedIntegerBytes(v: bigint, unsigned: boolean): Buffer {
  for (const size of [1, 2, 4, 8]) {
    const bits = BigInt(size * 8);
    const fits = unsigned ? v < 1n << bits : v >= -(1n << (bits - 1n)) && v < 1n << (bits - 1n);
    if (!fits) continue;
    const b = Buffer.alloc(size);
    if (size === 8) {
      if (unsigned) b.writeBigUInt64BE(v);
      else b.writeBigInt64BE(v);
    } else if (unsigned) {
      b.writeUIntBE(Number(v), 0, size);
    } else {
      b.writeIntBE(Number(v), 0, size);
    }
    return b;
  }
  // coerceValue has already range-checked, so this is unreachable for valid input.
  throw new CodecError('TLV', `integer ${v} does not fit in 64 bits`);
}

/**
 * Binary representation used by TLV (Core Appendix C): integers in the shortest of
 * 1/2/4/8 bytes, floats in 4 bytes when that is exact and 8 otherwise.
 */
export function valueToBytes(v: Lwm2mValue, type: ResourceType | undefined, where = 'value'): Buffer {
  const t = type ?? inferType(v);
  const c = coerceValue(v, t, 'TLV', where);
  switch (t) {
    case 'integer':
    case 'time':
    case 'unsigned':
      return fixedIntegerBytes(BigInt(c as number | bigint), t === 'unsigned');
    case 'float': {
      const n = c as number;
      if (Math.fround(n) === n) {
        const b = Buffer.alloc(4);
        b.writeFloatBE(n);
        return b;
      }
      const b = Buffer.alloc(8);
      b.writeDoubleBE(n);
      return b;
    }
    case 'boolean':
      return Buffer.from([c ? 1 : 0]);
    case 'string':
    case 'corelnk':
      return Buffer.from(c as string, 'utf8');
    case 'opaque':
    case 'none':
      return c as Buffer;
    case 'objlnk': {
      const b = Buffer.alloc(4);
      b.writeUInt16BE((c as ObjectLink).objectId, 0);
      b.writeUInt16BE((c as ObjectLink).instanceId, 2);
      return b;
    }
  }
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes UTF-8 and rejects malformed sequences instead of substituting U+FFFD. */
export function decodeUtf8(raw: Buffer, format: CodecFormat, where: string, offset?: number): string {
  try {
    return strictUtf8.decode(raw);
  } catch {
    throw new CodecError(format, `${where} is not valid UTF-8`, offset);
  }
}

/** Inverse of valueToBytes. An unknown type yields the raw bytes as an opaque Buffer. */
export function valueFromBytes(raw: Buffer, type: ResourceType | undefined, format: CodecFormat = 'TLV', where = 'value', offset?: number): Lwm2mValue {
  const wrongLength = (allowed: string): never => {
    throw new CodecError(format, `${where} is ${withArticle(type!)} of ${raw.length} bytes; ${type} values are ${allowed} bytes long`, offset);
  };
  switch (type) {
    case 'integer':
    case 'time':
    case 'unsigned': {
      const unsigned = type === 'unsigned';
      switch (raw.length) {
        case 1:
        case 2:
        case 4:
          return unsigned ? raw.readUIntBE(0, raw.length) : raw.readIntBE(0, raw.length);
        case 8:
          return normalizeInteger(unsigned ? raw.readBigUInt64BE(0) : raw.readBigInt64BE(0));
        default:
          return wrongLength('1, 2, 4 or 8');
      }
    }
    case 'float':
      if (raw.length === 4) return raw.readFloatBE(0);
      if (raw.length === 8) return raw.readDoubleBE(0);
      return wrongLength('4 or 8');
    case 'boolean':
      if (raw.length !== 1) return wrongLength('exactly 1');
      if (raw[0]! > 1) throw new CodecError(format, `${where} is a boolean with byte value ${raw[0]}; only 0 and 1 are allowed`, offset);
      return raw[0] === 1;
    case 'string':
    case 'corelnk':
      return decodeUtf8(raw, format, where, offset);
    case 'objlnk':
      if (raw.length !== 4) return wrongLength('exactly 4');
      return { objectId: raw.readUInt16BE(0), instanceId: raw.readUInt16BE(2) };
    case 'opaque':
    case 'none':
    case undefined:
      return Buffer.from(raw);
  }
}
