import { Decoder, Encoder } from 'cbor-x';
import { CodecError } from './errors.js';
import { resourceType } from './objects.js';
import type { Lwm2mPath } from './path.js';
import { isFloatRecord, readSenmlField, recordsToSenml, senmlToRecords, type SenmlFieldSyntax, type SenmlRecord } from './senml.js';
import type { ResourceRecord, TypeLookup } from './values.js';

/** SenML CBOR (RFC 8428 §6), content format 112. */

const FORMAT = 'SenML-CBOR';

// RFC 8428 Table 4 labels; LwM2M adds "vlo", which keeps its text label in CBOR.
const LABELS = { bn: -2, bt: -3, n: 0, v: 2, vs: 3, vb: 4, t: 6, vd: 8, vlo: 'vlo' } as const;
type Field = keyof typeof LABELS;
const FIELD_OF_LABEL = new Map<number | string, Field>(Object.entries(LABELS).map(([f, l]) => [l, f as Field]));

// Maps must stay Maps: as plain objects, integer labels would turn into strings.
const decoder = new Decoder({ mapsAsObjects: false, useRecords: false });
const itemEncoder = new Encoder({ useRecords: false });
// cbor-x writes integral numbers as CBOR integers; float resources need a float item.
const floatEncoder = new Encoder({ useRecords: false, alwaysUseFloat: true });

function describeCbor(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Map) return 'a map';
  if (v instanceof Uint8Array) return 'a byte string';
  if (typeof v === 'object') return `a ${v.constructor?.name ?? 'tagged'} value`;
  return `a ${typeof v}`;
}

const CBOR_SYNTAX: SenmlFieldSyntax = { text: 'a text string', bytes: (v) => (v instanceof Uint8Array ? Buffer.from(v) : undefined), bytesName: 'a byte string' };

function readRecord(item: unknown, i: number): SenmlRecord {
  const where = `record ${i + 1}`;
  if (!(item instanceof Map)) throw new CodecError(FORMAT, `${where} is ${describeCbor(item)}, not a map`);
  const r: SenmlRecord = {};
  for (const [label, value] of item as Map<unknown, unknown>) {
    const field = typeof label === 'number' || typeof label === 'string' ? FIELD_OF_LABEL.get(label) : undefined;
    if (field === undefined) {
      if (typeof label === 'string' && label.endsWith('_')) {
        throw new CodecError(FORMAT, `${where}: unknown must-understand field "${label}"`);
      }
      continue;
    }
    const wrong = (expected: string): never => {
      throw new CodecError(FORMAT, `${where}: "${field}" (label ${String(label)}) is ${describeCbor(value)}, expected ${expected}`);
    };
    readSenmlField(r, field, value, CBOR_SYNTAX, wrong);
  }
  return r;
}

export function decodeSenmlCbor(buf: Buffer, typeOf: TypeLookup = resourceType): ResourceRecord[] {
  if (buf.length === 0) throw new CodecError(FORMAT, 'payload is empty; a SenML pack is at least an empty array');
  let parsed: unknown;
  try {
    parsed = decoder.decode(buf);
  } catch (e) {
    throw new CodecError(FORMAT, `payload is not well-formed CBOR (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!Array.isArray(parsed)) throw new CodecError(FORMAT, `top level is ${describeCbor(parsed)}, not an array of records`);
  return senmlToRecords(parsed.map(readRecord), FORMAT, typeOf);
}

function head(major: number, count: number): Buffer {
  if (count < 24) return Buffer.from([(major << 5) | count]);
  if (count < 0x100) return Buffer.from([(major << 5) | 24, count]);
  if (count < 0x10000) return Buffer.from([(major << 5) | 25, count >> 8, count & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = (major << 5) | 26;
  b.writeUInt32BE(count, 1);
  return b;
}

function item(value: unknown, asFloat: boolean): Buffer {
  if (asFloat && typeof value === 'number') return Buffer.from(floatEncoder.encode(value));
  // Integers past 32 bits would come out as doubles; as bigints they stay integers.
  if (typeof value === 'number' && Number.isInteger(value) && (value > 0xffffffff || value < -0x100000000)) {
    return Buffer.from(itemEncoder.encode(BigInt(value)));
  }
  return Buffer.from(itemEncoder.encode(value));
}

/** Array and map heads are written here so each value's CBOR form stays under our control. */
export function encodeSenmlCbor(records: ResourceRecord[], base?: Lwm2mPath, typeOf: TypeLookup = resourceType): Buffer {
  const pack = recordsToSenml(records, base, FORMAT, typeOf);
  const parts: Buffer[] = [head(4, pack.length)];
  pack.forEach((r, i) => {
    const entries = Object.entries(r) as [Field, unknown][];
    parts.push(head(5, entries.length));
    for (const [field, value] of entries) {
      parts.push(item(LABELS[field], false), item(value, field === 'v' && isFloatRecord(records[i]!, typeOf)));
    }
  });
  return Buffer.concat(parts);
}
