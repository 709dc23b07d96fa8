import { Encoder } from 'cbor-x';
import { CborReader, describeItem, type CborItem as Item } from './cbor-reader.js';
import { CodecError } from './errors.js';
import { resourceType } from './objects.js';
import { formatPath, isPrefixOf, pathLevel, type Lwm2mPath } from './path.js';
import { coerceValue, formatObjectLink, inferType, normalizeInteger, parseObjectLink, withArticle, type Lwm2mValue, type ObjectLink, type ResourceRecord, type ResourceType, type TypeLookup } from './values.js';

/**
 * LwM2M CBOR (Core 1.2 §7.4, content format 11544): one CBOR map whose keys are path
 * components, either a single id (unsigned integer) or several at once (an array of
 * unsigned integers), and whose values are either a nested map one or more levels deeper
 * or, at a resource or resource instance, the value itself. Paths are absolute: the
 * outermost key starts at the Object ID whatever the request path.
 *
 * The items are read by our own strict reader (cbor-reader.ts), not cbor-x's decoder;
 * cbor-x still writes the float items, as it does for SenML CBOR.
 */

const FORMAT = 'LwM2M-CBOR';
const MAX_ID = 65535;

const floatEncoder = new Encoder({ useRecords: false, alwaysUseFloat: true });

// ---- from items to records -----------------------------------------------------------------

function idsOfKey(key: Item, depth: number): number[] {
  const id = (k: Item): number => {
    if (k.kind !== 'uint') {
      throw new CodecError(FORMAT, `a path component is ${describeItem(k)}; LwM2M CBOR keys are unsigned integers (byte ${k.offset})`, k.offset);
    }
    if (k.value > BigInt(MAX_ID)) throw new CodecError(FORMAT, `path component ${k.value} is out of range; ids are 0..${MAX_ID} (byte ${k.offset})`, k.offset);
    return Number(k.value);
  };
  let ids: number[];
  if (key.kind === 'array') {
    if (key.items.length === 0) throw new CodecError(FORMAT, `a key is an empty array; a path key holds at least one id (byte ${key.offset})`, key.offset);
    ids = key.items.map(id);
  } else {
    ids = [id(key)];
  }
  if (depth + ids.length > 4) {
    throw new CodecError(FORMAT, `a key adds ${ids.length} id(s) below a path of ${depth}, past the 4 levels of an LwM2M path (byte ${key.offset})`, key.offset);
  }
  return ids;
}

function pathOf(ids: number[]): Lwm2mPath {
  const p: Lwm2mPath = { objectId: ids[0]! };
  if (ids.length > 1) p.instanceId = ids[1];
  if (ids.length > 2) p.resourceId = ids[2];
  if (ids.length > 3) p.resourceInstanceId = ids[3];
  return p;
}

function integerOf(item: Item): bigint | undefined {
  return item.kind === 'uint' || item.kind === 'nint' ? item.value : undefined;
}

/** Tag 4, a decimal fraction [exponent, mantissa] (RFC 8949 §3.4.4), which some clients use for floats. */
function decimalFraction(item: Item): number | undefined {
  if (item.kind !== 'tag' || item.tag !== 4n || item.item.kind !== 'array' || item.item.items.length !== 2) return undefined;
  const [e, m] = item.item.items.map(integerOf);
  if (e === undefined || m === undefined) return undefined;
  return Number(m) * 10 ** Number(e);
}

/** Time: an integer, tag 1 (epoch seconds) around a number, or tag 0 around an RFC 3339 string (RFC 8949 §3.4.1-2). */
function timeOf(item: Item, where: string): number | bigint {
  const wrong = (why: string): never => {
    throw new CodecError(FORMAT, `${where}: ${why} (byte ${item.offset})`, item.offset);
  };
  const int = integerOf(item);
  if (int !== undefined) return normalizeInteger(int);
  if (item.kind === 'tag' && item.tag === 1n) {
    const inner = item.item;
    const i = integerOf(inner);
    if (i !== undefined) return normalizeInteger(i);
    if (inner.kind === 'float') return Number.isInteger(inner.value) ? inner.value : wrong(`tag 1 carries ${inner.value} s, not whole seconds as an LwM2M time`);
    return wrong(`tag 1 (epoch time) carries ${describeItem(inner)}, not a number`);
  }
  if (item.kind === 'tag' && item.tag === 0n) {
    if (item.item.kind !== 'text') return wrong(`tag 0 (date/time string) carries ${describeItem(item.item)}, not a text string`);
    const ms = Date.parse(item.item.value);
    if (!/^\d{4}-\d\d-\d\dT/.test(item.item.value) || Number.isNaN(ms)) return wrong(`tag 0 carries "${item.item.value}", which is not an RFC 3339 date/time`);
    if (ms % 1000 !== 0) return wrong(`tag 0 carries "${item.item.value}", which is not a whole second`);
    return ms / 1000;
  }
  return wrong(`${describeItem(item)} cannot be a time value (an integer, or tag 1 or tag 0)`);
}

/** The value a leaf carries, checked against the resource type when the model knows it. */
function valueOf(item: Item, type: ResourceType | undefined, where: string): Lwm2mValue {
  const mismatch = (expected: string): never => {
    throw new CodecError(FORMAT, `${where}: ${describeItem(item)} cannot be ${withArticle(type!)} value, which LwM2M CBOR carries as ${expected} (byte ${item.offset})`, item.offset);
  };
  if (item.kind === 'null' || item.kind === 'undefined') {
    throw new CodecError(FORMAT, `${where}: ${item.kind} is not a resource value (byte ${item.offset})`, item.offset);
  }
  if (type === undefined) {
    switch (item.kind) {
      case 'uint':
      case 'nint':
        return normalizeInteger(item.value);
      case 'float':
        return item.value;
      case 'text':
        return item.value;
      case 'bytes':
        return item.value;
      case 'bool':
        return item.value;
      case 'tag': {
        if (item.tag === 0n || item.tag === 1n) return timeOf(item, where);
        const fraction = decimalFraction(item);
        if (fraction !== undefined) return fraction;
        throw new CodecError(FORMAT, `${where}: ${describeItem(item)} is not a value LwM2M CBOR defines (byte ${item.offset})`, item.offset);
      }
      default:
        throw new CodecError(FORMAT, `${where}: ${describeItem(item)} is not a resource value (byte ${item.offset})`, item.offset);
    }
  }
  const coerce = (v: unknown) => coerceValue(v, type, FORMAT, where, item.offset);
  switch (type) {
    case 'integer':
    case 'unsigned': {
      const int = integerOf(item);
      if (int !== undefined) return coerce(int);
      // An integral float is the same number; anything else is refused by coerceValue with its reason.
      if (item.kind === 'float') return coerce(item.value);
      return mismatch('an integer');
    }
    case 'time':
      return coerce(timeOf(item, where));
    case 'float': {
      if (item.kind === 'float') return item.value;
      const int = integerOf(item);
      if (int !== undefined) return Number(int);
      const fraction = decimalFraction(item);
      if (fraction !== undefined) return fraction;
      return mismatch('a float, an integer or a decimal fraction');
    }
    case 'boolean':
      return item.kind === 'bool' ? item.value : mismatch('true or false');
    case 'string':
    case 'corelnk':
      return item.kind === 'text' ? item.value : mismatch('a text string');
    case 'opaque':
    case 'none':
      return item.kind === 'bytes' ? item.value : mismatch('a byte string');
    case 'objlnk': {
      if (item.kind !== 'text') return mismatch('a text string "objectId:instanceId"');
      const link = parseObjectLink(item.value);
      if (!link) throw new CodecError(FORMAT, `${where}: "${item.value}" is not an object link of the form "objectId:instanceId" (byte ${item.offset})`, item.offset);
      return link;
    }
  }
}

export function decodeLwm2mCbor(buf: Buffer, typeOf: TypeLookup = resourceType): ResourceRecord[] {
  if (buf.length === 0) throw new CodecError(FORMAT, 'payload is empty; an LwM2M CBOR payload is at least an empty map');
  const reader = new CborReader(buf, FORMAT);
  const top = reader.item();
  if (reader.pos !== buf.length) {
    throw new CodecError(FORMAT, `${buf.length - reader.pos} bytes follow the top-level map (byte ${reader.pos}); a payload is one map`, reader.pos);
  }
  if (top.kind !== 'map') throw new CodecError(FORMAT, `top level is ${describeItem(top)}, not a map keyed by path`);

  const records: ResourceRecord[] = [];
  const leaves = new Set<string>();
  const singles = new Set<string>();
  const multiples = new Set<string>();
  const walk = (map: Extract<Item, { kind: 'map' }>, prefix: number[]): void => {
    const keysHere = new Set<string>();
    for (const [key, value] of map.entries) {
      const ids = [...prefix, ...idsOfKey(key, prefix.length)];
      const name = '/' + ids.join('/');
      // The same key twice in one map is not valid CBOR (RFC 8949 §5.6); a general decoder keeps the last silently.
      const keyName = ids.slice(prefix.length).join('/');
      if (keysHere.has(keyName)) throw new CodecError(FORMAT, `key ${keyName} appears twice in the map for ${prefix.length ? '/' + prefix.join('/') : 'the root'} (byte ${key.offset})`, key.offset);
      keysHere.add(keyName);
      if (value.kind === 'map') {
        if (ids.length === 4) throw new CodecError(FORMAT, `${name} is a resource instance, yet it holds a map instead of a value (byte ${value.offset})`, value.offset);
        walk(value, ids);
        continue;
      }
      if (ids.length < 3) {
        const level = ids.length === 1 ? 'an object' : 'an object instance';
        throw new CodecError(FORMAT, `${name} is ${level}, yet it holds ${describeItem(value)}; values belong to resources and resource instances (byte ${value.offset})`, value.offset);
      }
      if (leaves.has(name)) throw new CodecError(FORMAT, `${name} is given more than once (byte ${key.offset})`, key.offset);
      leaves.add(name);
      const resource = '/' + ids.slice(0, 3).join('/');
      if (ids.length === 3) singles.add(resource);
      else multiples.add(resource);
      if (singles.has(resource) && multiples.has(resource)) {
        throw new CodecError(FORMAT, `resource ${resource} is given both as a single value and as resource instances (byte ${key.offset})`, key.offset);
      }
      const path = pathOf(ids);
      records.push({ path, value: valueOf(value, typeOf(path), name) });
    }
  };
  walk(top, []);
  return records;
}

// ---- writing ---------------------------------------------------------------------------------

/** A CBOR head with the shortest argument (RFC 8949 §4.2.1 preferred serialization). */
function head(major: number, arg: bigint): Buffer {
  if (arg < 24n) return Buffer.from([(major << 5) | Number(arg)]);
  if (arg < 0x100n) return Buffer.from([(major << 5) | 24, Number(arg)]);
  if (arg < 0x10000n) {
    const b = Buffer.alloc(3);
    b[0] = (major << 5) | 25;
    b.writeUInt16BE(Number(arg), 1);
    return b;
  }
  if (arg < 0x100000000n) {
    const b = Buffer.alloc(5);
    b[0] = (major << 5) | 26;
    b.writeUInt32BE(Number(arg), 1);
    return b;
  }
  const b = Buffer.alloc(9);
  b[0] = (major << 5) | 27;
  b.writeBigUInt64BE(arg, 1);
  return b;
}

function integerItem(v: number | bigint): Buffer {
  const b = BigInt(v);
  return b >= 0n ? head(0, b) : head(1, -1n - b);
}

function textItem(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  return Buffer.concat([head(3, BigInt(bytes.length)), bytes]);
}

function valueItem(rec: ResourceRecord, typeOf: TypeLookup): Buffer {
  const where = formatPath(rec.path);
  const type = typeOf(rec.path) ?? inferType(rec.value);
  const v = coerceValue(rec.value, type, FORMAT, where);
  switch (type) {
    case 'integer':
    case 'unsigned':
      return integerItem(v as number | bigint);
    case 'time':
      // Tag 1, epoch-based date/time (RFC 8949 §3.4.2), the form RFC 7049 §2.4.1 names for Time.
      return Buffer.concat([Buffer.from([0xc1]), integerItem(v as number | bigint)]);
    case 'float':
      return Buffer.from(floatEncoder.encode(v as number));
    case 'boolean':
      return Buffer.from([v ? 0xf5 : 0xf4]);
    case 'string':
    case 'corelnk':
      return textItem(v as string);
    case 'objlnk':
      return textItem(formatObjectLink(v as ObjectLink));
    case 'opaque':
    case 'none': {
      const bytes = v as Buffer;
      return Buffer.concat([head(2, BigInt(bytes.length)), bytes]);
    }
  }
}

type Tree = Map<number, Tree | ResourceRecord>;

/**
 * Encodes records as nested maps keyed by single ids from the Object ID down, the layout of
 * the Core's own example (a Read of /1 answered as {1: {0: {0: 101, ...}}}). Records are
 * grouped in first-seen order so the caller controls the byte layout. `base`, when given,
 * only checks that every record lies under it: the format has no relative paths.
 */
export function encodeLwm2mCbor(records: ResourceRecord[], base?: Lwm2mPath, typeOf: TypeLookup = resourceType): Buffer {
  const root: Tree = new Map();
  for (const rec of records) {
    const where = formatPath(rec.path);
    const level = pathLevel(rec.path);
    if (level !== 'resource' && level !== 'resourceInstance') {
      throw new CodecError(FORMAT, `record path ${where} does not address a resource or resource instance`);
    }
    if (base !== undefined && !isPrefixOf(base, rec.path)) {
      throw new CodecError(FORMAT, `record path ${where} is not under the base path ${formatPath(base)}`);
    }
    const ids = [rec.path.objectId, rec.path.instanceId!, rec.path.resourceId!];
    if (level === 'resourceInstance') ids.push(rec.path.resourceInstanceId!);
    let node = root;
    for (const [i, id] of ids.entries()) {
      const last = i === ids.length - 1;
      const existing = node.get(id);
      if (last) {
        if (existing instanceof Map) throw new CodecError(FORMAT, `resource ${where} is given both as a single value and as resource instances`);
        if (existing) throw new CodecError(FORMAT, `${where} is given more than once`);
        node.set(id, rec);
      } else {
        if (existing && !(existing instanceof Map)) throw new CodecError(FORMAT, `resource ${formatPath(existing.path)} is given both as a single value and as resource instances`);
        const child: Tree = existing ?? new Map();
        node.set(id, child);
        node = child;
      }
    }
  }
  const emit = (tree: Tree): Buffer[] => [head(5, BigInt(tree.size)), ...[...tree].flatMap(([id, sub]) => [integerItem(id), ...(sub instanceof Map ? emit(sub) : [valueItem(sub, typeOf)])])];
  return Buffer.concat(emit(root));
}
