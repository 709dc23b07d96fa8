import { Encoder } from 'cbor-x';
import { CodecError } from './errors.js';
import { resourceType } from './objects.js';
import { formatPath, isPrefixOf, pathLevel, type Lwm2mPath } from './path.js';
import {
  coerceValue,
  formatObjectLink,
  inferType,
  normalizeInteger,
  parseObjectLink,
  withArticle,
  type Lwm2mValue,
  type ObjectLink,
  type ResourceRecord,
  type ResourceType,
  type TypeLookup,
} from './values.js';

/**
 * LwM2M CBOR (Core 1.2 §7.4, content format 11544): one CBOR map whose keys are path
 * components, either a single id (unsigned integer) or several at once (an array of
 * unsigned integers), and whose values are either a nested map one or more levels deeper
 * or, at a resource or resource instance, the value itself. Paths are absolute: the
 * outermost key starts at the Object ID whatever the request path.
 *
 * The reader is our own rather than cbor-x's decoder: a conformance verdict needs what a
 * general-purpose decoder smooths over (a duplicate map key, a string that is not UTF-8,
 * an indefinite-length string a constrained client may stream, the byte where it went
 * wrong). cbor-x still writes the float items, as it does for SenML CBOR.
 */

const FORMAT = 'LwM2M-CBOR';
const MAX_ID = 65535;
/** Four levels of maps plus array keys and a tag fit well within this; anything deeper is hostile. */
const MAX_NESTING = 16;

const floatEncoder = new Encoder({ useRecords: false, alwaysUseFloat: true });
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// ---- reading CBOR items ------------------------------------------------------------------

type Item =
  | { kind: 'uint'; value: bigint; offset: number }
  | { kind: 'nint'; value: bigint; offset: number }
  | { kind: 'bytes'; value: Buffer; offset: number }
  | { kind: 'text'; value: string; offset: number }
  | { kind: 'array'; items: Item[]; offset: number }
  | { kind: 'map'; entries: [Item, Item][]; offset: number }
  | { kind: 'tag'; tag: bigint; item: Item; offset: number }
  | { kind: 'float'; value: number; offset: number }
  | { kind: 'bool'; value: boolean; offset: number }
  | { kind: 'null' | 'undefined'; offset: number }
  | { kind: 'simple'; value: number; offset: number };

const BREAK = Symbol('break');

function describeItem(item: Item): string {
  switch (item.kind) {
    case 'uint':
    case 'nint':
      return `an integer (${item.value})`;
    case 'bytes':
      return `a byte string (${item.value.length} bytes)`;
    case 'text':
      return `a text string ${JSON.stringify(item.value.length > 40 ? item.value.slice(0, 40) + '…' : item.value)}`;
    case 'array':
      return `an array of ${item.items.length}`;
    case 'map':
      return 'a map';
    case 'tag':
      return `tag ${item.tag} around ${describeItem(item.item)}`;
    case 'float':
      return `a float (${item.value})`;
    case 'bool':
      return String(item.value);
    case 'null':
    case 'undefined':
      return item.kind;
    case 'simple':
      return `simple value ${item.value}`;
  }
}

function halfToNumber(h: number): number {
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

class Reader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}

  private fail(detail: string, at: number): never {
    throw new CodecError(FORMAT, `${detail} (byte ${at})`, at);
  }

  private need(count: number, what: string, at: number): void {
    if (this.pos + count > this.buf.length) {
      this.fail(`${what} runs past the end of the payload: needs ${count} bytes, ${this.buf.length - this.pos} left`, at);
    }
  }

  /** The argument of a head; undefined for indefinite length (additional information 31). */
  private argument(info: number, at: number): bigint | undefined {
    if (info < 24) return BigInt(info);
    if (info === 31) return undefined;
    if (info > 27) this.fail(`additional information ${info} is reserved in CBOR (RFC 8949 §3)`, at);
    const size = 1 << (info - 24);
    this.need(size, 'the argument of a CBOR head', at);
    const v = size === 8 ? this.buf.readBigUInt64BE(this.pos) : BigInt(this.buf.readUIntBE(this.pos, size));
    this.pos += size;
    return v;
  }

  /** A definite length that cannot exceed what is left, so a lying head never allocates. */
  private length(arg: bigint, minBytesEach: number, what: string, unit: string, at: number): number {
    const left = this.buf.length - this.pos;
    if (arg * BigInt(minBytesEach) > BigInt(left)) this.fail(`${what} declares ${arg} ${unit} but only ${left} bytes are left`, at);
    return Number(arg);
  }

  private string(major: 2 | 3, info: number, at: number): Buffer {
    const what = major === 2 ? 'byte string' : 'text string';
    const arg = this.argument(info, at);
    if (arg !== undefined) {
      const n = this.length(arg, 1, `a ${what}`, 'bytes', at);
      const out = this.buf.subarray(this.pos, this.pos + n);
      this.pos += n;
      return out;
    }
    // Indefinite length: definite chunks of the same major type up to a break (RFC 8949 §3.2.3).
    const chunks: Buffer[] = [];
    for (;;) {
      const chunkAt = this.pos;
      this.need(1, `an indefinite-length ${what}`, at);
      const b = this.buf[this.pos]!;
      if (b === 0xff) {
        this.pos++;
        return Buffer.concat(chunks);
      }
      if (b >> 5 !== major || (b & 0x1f) === 31) this.fail(`a chunk of an indefinite-length ${what} is not a definite-length ${what}`, chunkAt);
      this.pos++;
      chunks.push(this.string(major, b & 0x1f, chunkAt));
    }
  }

  item(depth = 0): Item {
    const r = this.itemOrBreak(depth);
    if (r === BREAK) this.fail('a "break" (0xff) stands where a data item belongs', this.pos - 1);
    return r;
  }

  private itemOrBreak(depth: number): Item | typeof BREAK {
    if (depth > MAX_NESTING) this.fail(`items are nested more than ${MAX_NESTING} deep, far beyond any LwM2M path`, this.pos);
    const at = this.pos;
    this.need(1, 'a CBOR data item', at);
    const initial = this.buf[this.pos++]!;
    const major = initial >> 5;
    const info = initial & 0x1f;
    switch (major) {
      case 0:
      case 1: {
        const arg = this.argument(info, at);
        if (arg === undefined) this.fail('an integer cannot have indefinite length', at);
        return major === 0 ? { kind: 'uint', value: arg, offset: at } : { kind: 'nint', value: -1n - arg, offset: at };
      }
      case 2:
        return { kind: 'bytes', value: Buffer.from(this.string(2, info, at)), offset: at };
      case 3: {
        const raw = this.string(3, info, at);
        let value: string;
        try {
          value = strictUtf8.decode(raw);
        } catch {
          this.fail('a text string is not valid UTF-8', at);
        }
        return { kind: 'text', value, offset: at };
      }
      case 4: {
        const arg = this.argument(info, at);
        const items: Item[] = [];
        if (arg === undefined) {
          for (;;) {
            const next = this.itemOrBreak(depth + 1);
            if (next === BREAK) break;
            items.push(next);
          }
        } else {
          const n = this.length(arg, 1, 'an array', 'items', at);
          for (let i = 0; i < n; i++) items.push(this.item(depth + 1));
        }
        return { kind: 'array', items, offset: at };
      }
      case 5: {
        const arg = this.argument(info, at);
        const entries: [Item, Item][] = [];
        if (arg === undefined) {
          for (;;) {
            const key = this.itemOrBreak(depth + 1);
            if (key === BREAK) break;
            entries.push([key, this.item(depth + 1)]);
          }
        } else {
          const n = this.length(arg, 2, 'a map', 'entries', at);
          for (let i = 0; i < n; i++) entries.push([this.item(depth + 1), this.item(depth + 1)]);
        }
        return { kind: 'map', entries, offset: at };
      }
      case 6: {
        const arg = this.argument(info, at);
        if (arg === undefined) this.fail('a tag cannot have indefinite length', at);
        return { kind: 'tag', tag: arg, item: this.item(depth + 1), offset: at };
      }
      default: {
        if (info === 31) return BREAK;
        if (info === 20 || info === 21) return { kind: 'bool', value: info === 21, offset: at };
        if (info === 22) return { kind: 'null', offset: at };
        if (info === 23) return { kind: 'undefined', offset: at };
        if (info < 24) return { kind: 'simple', value: info, offset: at };
        if (info === 24) {
          this.need(1, 'a simple value', at);
          const v = this.buf[this.pos++]!;
          if (v < 32) this.fail(`simple value ${v} in two bytes is not well-formed (RFC 8949 §3.3)`, at);
          return { kind: 'simple', value: v, offset: at };
        }
        if (info > 27) this.fail(`additional information ${info} is reserved in CBOR (RFC 8949 §3)`, at);
        const size = 1 << (info - 24);
        this.need(size, 'a float', at);
        const value = size === 2 ? halfToNumber(this.buf.readUInt16BE(this.pos)) : size === 4 ? this.buf.readFloatBE(this.pos) : this.buf.readDoubleBE(this.pos);
        this.pos += size;
        return { kind: 'float', value, offset: at };
      }
    }
  }
}

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
  const reader = new Reader(buf);
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
  const emit = (tree: Tree): Buffer[] => [
    head(5, BigInt(tree.size)),
    ...[...tree].flatMap(([id, sub]) => [integerItem(id), ...(sub instanceof Map ? emit(sub) : [valueItem(sub, typeOf)])]),
  ];
  return Buffer.concat(emit(root));
}
