import { CodecError } from './errors.js';
import { formatPath, isPrefixOf, parsePath, pathEquals, pathLevel, type Lwm2mPath } from './path.js';
import { coerceValue, formatObjectLink, inferType, normalizeInteger, parseObjectLink, type Lwm2mValue, type ObjectLink, type ResourceRecord, type ResourceType, type TypeLookup } from './values.js';

/**
 * The subset of RFC 8428 SenML that LwM2M uses (Core §7.4.4/§7.4.5), independent of the
 * JSON or CBOR wire form. The two format modules translate keys and byte strings; this
 * module turns records into resource values and back.
 */
export interface SenmlRecord {
  bn?: string;
  bt?: number;
  n?: string;
  t?: number;
  v?: number | bigint;
  vs?: string;
  vb?: boolean;
  vd?: Buffer;
  vlo?: string;
}

export type SenmlFormat = 'SenML-JSON' | 'SenML-CBOR';

/** What differs between the wire forms when a field's value is checked: the name of a text item, and how vd is carried. */
export interface SenmlFieldSyntax {
  text: string;
  /** vd's bytes from the decoded value, or undefined when the value is not of vd's form. */
  bytes: (value: unknown) => Buffer | undefined;
  bytesName: string;
}

/**
 * Puts one decoded field into `r` when its value has the field's type, else calls `wrong`
 * with the type expected (it throws, naming the field as its format labels it). False for
 * a name that is not a SenML field, which the caller judges (RFC 8428 §4.4).
 */
export function readSenmlField(r: SenmlRecord, field: string, value: unknown, syntax: SenmlFieldSyntax, wrong: (expected: string) => never): boolean {
  switch (field) {
    case 'bn':
    case 'n':
    case 'vs':
    case 'vlo':
      r[field] = typeof value === 'string' ? value : wrong(syntax.text);
      return true;
    case 'v':
      r.v = typeof value === 'number' || typeof value === 'bigint' ? value : wrong('a number');
      return true;
    case 'bt':
    case 't':
      r[field] = typeof value === 'number' || typeof value === 'bigint' ? Number(value) : wrong('a number');
      return true;
    case 'vb':
      r.vb = typeof value === 'boolean' ? value : wrong('a boolean');
      return true;
    case 'vd':
      r.vd = syntax.bytes(value) ?? wrong(syntax.bytesName);
      return true;
    default:
      return false;
  }
}
type ValueField = 'v' | 'vs' | 'vb' | 'vd' | 'vlo';
const VALUE_FIELDS: ValueField[] = ['v', 'vs', 'vb', 'vd', 'vlo'];

function fieldFor(type: ResourceType): ValueField {
  switch (type) {
    case 'integer':
    case 'unsigned':
    case 'float':
    case 'time':
      return 'v';
    case 'boolean':
      return 'vb';
    case 'string':
    case 'corelnk':
      return 'vs';
    case 'opaque':
    case 'none':
      return 'vd';
    case 'objlnk':
      return 'vlo';
  }
}

function readValue(r: SenmlRecord, field: ValueField, type: ResourceType | undefined, format: SenmlFormat, where: string): Lwm2mValue {
  if (field === 'vlo') {
    const link = parseObjectLink(r.vlo!);
    if (!link) throw new CodecError(format, `${where}: vlo "${r.vlo}" is not an object link of the form "objectId:instanceId"`);
    if (type !== undefined && type !== 'objlnk') {
      throw new CodecError(format, `${where}: carries an object link (vlo) but the resource is ${type}, which SenML carries in "${fieldFor(type)}"`);
    }
    return link;
  }
  const raw = r[field]!;
  if (type === undefined) return typeof raw === 'bigint' ? normalizeInteger(raw) : raw;
  const expected = fieldFor(type);
  if (field !== expected) {
    throw new CodecError(format, `${where}: carries "${field}" but the resource is ${type}, which SenML carries in "${expected}"`);
  }
  return coerceValue(raw, type, format, where);
}

/** Resolves names against the carried-forward base name and types each value. */
export function senmlToRecords(pack: SenmlRecord[], format: SenmlFormat, typeOf: TypeLookup): ResourceRecord[] {
  let bn = '';
  let bt: number | undefined;
  return pack.map((r, i) => {
    if (r.bn !== undefined) bn = r.bn;
    if (r.bt !== undefined) bt = r.bt;
    const name = bn + (r.n ?? '');
    let path: Lwm2mPath;
    try {
      path = parsePath(name);
    } catch (e) {
      const why = e instanceof CodecError ? e.detail : String(e);
      throw new CodecError(format, `record ${i + 1}: name "${name}" (base name + name) is not an LwM2M path: ${why}`);
    }
    const level = pathLevel(path);
    if (level !== 'resource' && level !== 'resourceInstance') {
      throw new CodecError(format, `record ${i + 1}: name "${name}" does not address a resource or resource instance`);
    }
    const where = `record ${i + 1} (${name})`;
    const present = VALUE_FIELDS.filter((f) => r[f] !== undefined);
    if (present.length === 0) {
      throw new CodecError(format, `${where} has no value field (v, vs, vb, vd or vlo)`);
    }
    if (present.length > 1) {
      throw new CodecError(format, `${where} has ${present.length} value fields (${present.join(', ')}); a record carries exactly one`);
    }
    const record: ResourceRecord = { path, value: readValue(r, present[0]!, typeOf(path), format, where) };
    if (bt !== undefined || r.t !== undefined) record.time = (bt ?? 0) + (r.t ?? 0);
    return record;
  });
}

/**
 * The base name written into the first record. A trailing "/" keeps each name a bare id
 * ("0", "6/1"), as in the spec's examples, unless a record sits exactly on the base.
 */
function baseNameFor(base: Lwm2mPath, records: ResourceRecord[]): string {
  const b = formatPath(base);
  if (records.some((r) => pathEquals(r.path, base)) || b === '/') return b;
  return b + '/';
}

export function recordsToSenml(records: ResourceRecord[], base: Lwm2mPath | undefined, format: SenmlFormat, typeOf: TypeLookup): SenmlRecord[] {
  const bn = base === undefined ? undefined : baseNameFor(base, records);
  return records.map((rec, i) => {
    const full = formatPath(rec.path);
    const level = pathLevel(rec.path);
    if (level !== 'resource' && level !== 'resourceInstance') {
      throw new CodecError(format, `record path ${full} does not address a resource or resource instance`);
    }
    const out: SenmlRecord = {};
    if (bn === undefined) {
      out.n = full;
    } else {
      if (!isPrefixOf(base!, rec.path)) {
        throw new CodecError(format, `record path ${full} is not under the base path ${formatPath(base!)}`);
      }
      if (i === 0) out.bn = bn;
      const rest = full.slice(bn.length);
      if (rest !== '') out.n = rest;
    }
    const type = typeOf(rec.path) ?? inferType(rec.value);
    const value = coerceValue(rec.value, type, format, full);
    switch (fieldFor(type)) {
      case 'v':
        out.v = value as number | bigint;
        break;
      case 'vs':
        out.vs = value as string;
        break;
      case 'vb':
        out.vb = value as boolean;
        break;
      case 'vd':
        out.vd = value as Buffer;
        break;
      case 'vlo':
        out.vlo = formatObjectLink(value as ObjectLink);
        break;
    }
    if (rec.time !== undefined) out.t = rec.time;
    return out;
  });
}

/** Whether a numeric value belongs to a float resource; the wire encoders use it to pick a float form. */
export function isFloatRecord(rec: ResourceRecord, typeOf: TypeLookup): boolean {
  return (typeOf(rec.path) ?? inferType(rec.value)) === 'float';
}
