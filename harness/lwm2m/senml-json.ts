import { CodecError } from './errors.js';
import { resourceType } from './objects.js';
import type { Lwm2mPath } from './path.js';
import { readSenmlField, recordsToSenml, senmlToRecords, type SenmlFieldSyntax, type SenmlRecord } from './senml.js';
import { decodeUtf8, type ResourceRecord, type TypeLookup } from './values.js';

/** SenML JSON (RFC 8428 §4), content format 110. */

const FORMAT = 'SenML-JSON';

// JSON.parse turns 64-bit integers into lossy doubles. Integer literals beyond 2^53 are
// rewritten into strings carrying this prefix before parsing and turned into bigints
// after. A NUL cannot appear unescaped in JSON text, so no real string starts this way
// unless escaped, and a "v" holding a string is invalid anyway.
const BIG_MARK = '\u0000';
const NUMBER_TOKEN = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

function protectBigIntegers(text: string): string {
  let out = '';
  let copied = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      NUMBER_TOKEN.lastIndex = i;
      const m = NUMBER_TOKEN.exec(text);
      if (!m) {
        i++;
        continue;
      }
      const token = m[0];
      if (m[1] === undefined && m[2] === undefined && !Number.isSafeInteger(Number(token))) {
        out += `${text.slice(copied, i)}"\\u0000${token}"`;
        copied = i + token.length;
      }
      i += token.length;
    } else {
      i++;
    }
  }
  return out + text.slice(copied);
}

function unmarkNumber(v: unknown): unknown {
  return typeof v === 'string' && v.startsWith(BIG_MARK) ? BigInt(v.slice(1)) : v;
}

function describeJson(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

function decodeBase64Url(s: string, where: string): Buffer {
  const unpadded = s.replace(/=+$/, '');
  const padded = s.length !== unpadded.length;
  if (!BASE64URL.test(s) || unpadded.length % 4 === 1 || (padded && s.length % 4 !== 0)) {
    throw new CodecError(FORMAT, `${where}: vd "${s}" is not base64url (RFC 4648 §5: A-Z a-z 0-9 - _, padding optional)`);
  }
  return Buffer.from(unpadded, 'base64url');
}

function readRecord(item: unknown, i: number): SenmlRecord {
  const where = `record ${i + 1}`;
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    throw new CodecError(FORMAT, `${where} is ${describeJson(item)}, not an object`);
  }
  const r: SenmlRecord = {};
  const syntax: SenmlFieldSyntax = { text: 'a string', bytes: (v) => (typeof v === 'string' ? decodeBase64Url(v, where) : undefined), bytesName: 'a base64url string' };
  for (const [key, rawValue] of Object.entries(item)) {
    const value = unmarkNumber(rawValue);
    const wrong = (expected: string): never => {
      throw new CodecError(FORMAT, `${where}: "${key}" is ${describeJson(value)}, expected ${expected}`);
    };
    // RFC 8428 §4.4: a label ending in "_" must be understood or the pack rejected.
    if (!readSenmlField(r, key, value, syntax, wrong) && key.endsWith('_')) throw new CodecError(FORMAT, `${where}: unknown must-understand field "${key}"`);
  }
  return r;
}

export function decodeSenmlJson(buf: Buffer, typeOf: TypeLookup = resourceType): ResourceRecord[] {
  const text = decodeUtf8(buf, FORMAT, 'the payload');
  let parsed: unknown;
  try {
    parsed = JSON.parse(protectBigIntegers(text));
  } catch (e) {
    throw new CodecError(FORMAT, `payload is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!Array.isArray(parsed)) {
    throw new CodecError(FORMAT, `top level is ${describeJson(parsed)}, not an array of records`);
  }
  return senmlToRecords(parsed.map(readRecord), FORMAT, typeOf);
}

function jsonValue(v: unknown): string {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number' && !Number.isFinite(v)) {
    throw new CodecError(FORMAT, `${v} cannot be written in JSON`);
  }
  if (Buffer.isBuffer(v)) return JSON.stringify(v.toString('base64url'));
  return JSON.stringify(v);
}

/**
 * Encodes records as SenML JSON. With a base path the first record carries it as "bn"
 * and the others carry relative names; without one each record carries its full path.
 */
export function encodeSenmlJson(records: ResourceRecord[], base?: Lwm2mPath, typeOf: TypeLookup = resourceType): Buffer {
  const pack = recordsToSenml(records, base, FORMAT, typeOf);
  const body = pack
    .map(
      (r) =>
        '{' +
        Object.entries(r)
          .map(([k, v]) => `${JSON.stringify(k)}:${jsonValue(v)}`)
          .join(',') +
        '}',
    )
    .join(',');
  return Buffer.from(`[${body}]`, 'utf8');
}
