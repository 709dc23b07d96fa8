import { CodecError } from './errors.js';
import { resourceType } from './objects.js';
import { formatPath, isPrefixOf, pathLevel, type Lwm2mPath } from './path.js';
import { valueFromBytes, valueToBytes, type ResourceRecord, type TypeLookup } from './values.js';

/** OMA-TLV (Core §7.4.3), content format 11542. */

export type TlvKind = 'objectInstance' | 'resourceInstance' | 'multipleResource' | 'resource';

const KIND_BITS: Record<TlvKind, number> = {
  objectInstance: 0b00,
  resourceInstance: 0b01,
  multipleResource: 0b10,
  resource: 0b11,
};
const KIND_OF_BITS: TlvKind[] = ['objectInstance', 'resourceInstance', 'multipleResource', 'resource'];
const KIND_LABEL: Record<TlvKind, string> = {
  objectInstance: 'Object Instance',
  resourceInstance: 'Resource Instance',
  multipleResource: 'Multiple Resource',
  resource: 'Resource',
};
const ALLOWED_CHILDREN: Partial<Record<TlvKind, TlvKind[]>> = {
  objectInstance: ['resource', 'multipleResource'],
  multipleResource: ['resourceInstance'],
};
const MAX_LENGTH = 0xffffff;

/** One parsed TLV with absolute offsets into the payload, kept for structural checks. */
export interface TlvEntry {
  kind: TlvKind;
  id: number;
  /** Offset of the type byte. */
  offset: number;
  /** Offset of the first value byte. */
  valueOffset: number;
  value: Buffer;
  children?: TlvEntry[];
}

function err(detail: string, offset: number): CodecError {
  return new CodecError('TLV', detail, offset);
}

function need(at: number, end: number, count: number, what: string, scope: string): void {
  if (at + count > end) {
    throw err(`${what} runs past the end of ${scope} at byte ${at} (needs ${count} bytes, ${end - at} left)`, at);
  }
}

/**
 * Splits buf[start, end) into TLVs, descending into Object Instance and Multiple Resource
 * containers. Nesting is at most two levels deep, so recursion depth is bounded.
 */
export function readTlvEntries(buf: Buffer, start = 0, end = buf.length, parent?: TlvEntry): TlvEntry[] {
  const scope = parent ? `the enclosing ${KIND_LABEL[parent.kind]} ${parent.id} TLV` : 'the payload';
  const entries: TlvEntry[] = [];
  let pos = start;
  while (pos < end) {
    const offset = pos;
    const type = buf[pos++]!;
    const kind = KIND_OF_BITS[type >> 6]!;
    const idSize = type & 0x20 ? 2 : 1;
    const lengthType = (type >> 3) & 0x03;

    if (parent) {
      const allowed = ALLOWED_CHILDREN[parent.kind] ?? [];
      if (!allowed.includes(kind)) {
        throw err(`a ${KIND_LABEL[kind]} TLV at byte ${offset} sits inside a ${KIND_LABEL[parent.kind]} TLV, which may only contain ${allowed.map((k) => KIND_LABEL[k]).join(' or ')} TLVs`, offset);
      }
    }

    need(pos, end, idSize, 'identifier', scope);
    const id = idSize === 1 ? buf[pos]! : buf.readUInt16BE(pos);
    pos += idSize;

    let length: number;
    if (lengthType === 0) {
      length = type & 0x07;
    } else {
      need(pos, end, lengthType, 'length field', scope);
      length = buf.readUIntBE(pos, lengthType);
      pos += lengthType;
    }
    need(pos, end, length, `value of ${KIND_LABEL[kind]} ${id}`, scope);

    const entry: TlvEntry = { kind, id, offset, valueOffset: pos, value: buf.subarray(pos, pos + length) };
    if (ALLOWED_CHILDREN[kind]) entry.children = readTlvEntries(buf, pos, pos + length, entry);
    entries.push(entry);
    pos += length;
  }
  return entries;
}

function header(kind: TlvKind, id: number, length: number, where: string): Buffer {
  if (length > MAX_LENGTH) {
    throw new CodecError('TLV', `${where} is ${length} bytes; a TLV value holds at most ${MAX_LENGTH} bytes (24-bit length)`);
  }
  const idSize = id > 0xff ? 2 : 1;
  const lengthSize = length <= 7 ? 0 : length <= 0xff ? 1 : length <= 0xffff ? 2 : 3;
  const h = Buffer.alloc(1 + idSize + lengthSize);
  h[0] = (KIND_BITS[kind] << 6) | (idSize === 2 ? 0x20 : 0) | (lengthSize << 3) | (lengthSize === 0 ? length : 0);
  h.writeUIntBE(id, 1, idSize);
  if (lengthSize > 0) h.writeUIntBE(length, 1 + idSize, lengthSize);
  return h;
}

function tlv(kind: TlvKind, id: number, value: Buffer, where: string): Buffer {
  return Buffer.concat([header(kind, id, value.length, where), value]);
}

type Leaf = { record: ResourceRecord; where: string };

function groupBy<T>(items: T[], key: (t: T) => number): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const k = key(item);
    const g = groups.get(k);
    if (g) g.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

function encodeResource(resourceId: number, leaves: Leaf[], typeOf: TypeLookup, asInstancesOnly: boolean): Buffer {
  const { objectId, instanceId } = leaves[0]!.record.path;
  const resourcePath = formatPath({ objectId, instanceId, resourceId });
  const single = leaves.filter((l) => l.record.path.resourceInstanceId === undefined);
  if (single.length > 1) throw new CodecError('TLV', `resource ${resourcePath} is given ${single.length} times`);
  if (single.length === 1 && leaves.length > 1) {
    throw new CodecError('TLV', `resource ${resourcePath} is given both as a single value and as resource instances`);
  }
  const bytes = (l: Leaf) => valueToBytes(l.record.value, typeOf(l.record.path), l.where);
  if (single.length === 1) return tlv('resource', resourceId, bytes(single[0]!), single[0]!.where);
  const seen = new Set<number>();
  const instances = leaves.map((l) => {
    const riid = l.record.path.resourceInstanceId!;
    if (seen.has(riid)) throw new CodecError('TLV', `resource instance ${l.where} is given more than once`);
    seen.add(riid);
    return tlv('resourceInstance', riid, bytes(l), l.where);
  });
  if (asInstancesOnly) return Buffer.concat(instances);
  return tlv('multipleResource', resourceId, Buffer.concat(instances), `multiple resource ${resourcePath}`);
}

function encodeResources(leaves: Leaf[], typeOf: TypeLookup): Buffer {
  const parts = [...groupBy(leaves, (l) => l.record.path.resourceId!)].map(([rid, group]) => encodeResource(rid, group, typeOf, false));
  return Buffer.concat(parts);
}

/**
 * Encodes records that all lie under `base`. The base level picks the top-level TLVs:
 * object → Object Instance TLVs, instance → resources, resource → one Resource or one
 * Multiple Resource, resource instance → one Resource Instance. Records are grouped in
 * first-seen order so the caller controls the byte layout.
 */
export function encodeTlv(records: ResourceRecord[], base: Lwm2mPath, typeOf: TypeLookup = resourceType): Buffer {
  const level = pathLevel(base);
  if (level === 'root') throw new CodecError('TLV', 'TLV cannot carry a payload addressed to the root path "/"');
  const leaves: Leaf[] = records.map((record) => {
    const where = formatPath(record.path);
    const l = pathLevel(record.path);
    if (l !== 'resource' && l !== 'resourceInstance') {
      throw new CodecError('TLV', `record path ${where} does not address a resource or resource instance`);
    }
    if (!isPrefixOf(base, record.path)) {
      throw new CodecError('TLV', `record path ${where} is not under the base path ${formatPath(base)}`);
    }
    return { record, where };
  });
  switch (level) {
    case 'object':
      return Buffer.concat([...groupBy(leaves, (l) => l.record.path.instanceId!)].map(([iid, group]) => tlv('objectInstance', iid, encodeResources(group, typeOf), `object instance ${iid}`)));
    case 'instance':
      return encodeResources(leaves, typeOf);
    case 'resource':
      return leaves.length === 0 ? Buffer.alloc(0) : encodeResource(base.resourceId!, leaves, typeOf, false);
    case 'resourceInstance':
      if (leaves.length !== 1) {
        throw new CodecError('TLV', `a resource instance payload holds exactly one value, ${leaves.length} given`);
      }
      return encodeResource(base.resourceId!, leaves, typeOf, true);
  }
}

function leafRecord(entry: TlvEntry, path: Lwm2mPath, typeOf: TypeLookup): ResourceRecord {
  const where = `${KIND_LABEL[entry.kind]} TLV for ${formatPath(path)} at byte ${entry.offset}`;
  return { path, value: valueFromBytes(entry.value, typeOf(path), 'TLV', where, entry.valueOffset) };
}

function resourceRecords(entry: TlvEntry, instance: Lwm2mPath, typeOf: TypeLookup): ResourceRecord[] {
  const resource: Lwm2mPath = { ...instance, resourceId: entry.id };
  if (entry.kind === 'resource') return [leafRecord(entry, resource, typeOf)];
  return entry.children!.map((c) => leafRecord(c, { ...resource, resourceInstanceId: c.id }, typeOf));
}

function expectKinds(entries: TlvEntry[], kinds: TlvKind[], base: Lwm2mPath): void {
  for (const e of entries) {
    if (!kinds.includes(e.kind)) {
      throw err(`a ${KIND_LABEL[e.kind]} TLV at byte ${e.offset} cannot appear at the top of a payload for ${formatPath(base)}; expected ${kinds.map((k) => KIND_LABEL[k]).join(' or ')}`, e.offset);
    }
  }
}

function expectId(e: TlvEntry, id: number, base: Lwm2mPath): void {
  if (e.id !== id) {
    throw err(`the ${KIND_LABEL[e.kind]} TLV at byte ${e.offset} has id ${e.id}, but the payload is for ${formatPath(base)}`, e.offset);
  }
}

/**
 * Decodes a TLV payload addressed to `base`. Lenient where clients commonly differ and
 * the meaning stays unambiguous: an instance-level payload may be wrapped in its own
 * Object Instance TLV, and a resource-level payload may list bare Resource Instances.
 */
export function decodeTlv(buf: Buffer, base: Lwm2mPath, typeOf: TypeLookup = resourceType): ResourceRecord[] {
  const level = pathLevel(base);
  if (level === 'root') throw new CodecError('TLV', 'TLV cannot carry a payload addressed to the root path "/"');
  const entries = readTlvEntries(buf);
  switch (level) {
    case 'object':
      expectKinds(entries, ['objectInstance'], base);
      return entries.flatMap((oi) => oi.children!.flatMap((r) => resourceRecords(r, { objectId: base.objectId, instanceId: oi.id }, typeOf)));
    case 'instance': {
      let top = entries;
      if (entries.length === 1 && entries[0]!.kind === 'objectInstance') {
        expectId(entries[0]!, base.instanceId!, base);
        top = entries[0]!.children!;
      }
      expectKinds(top, ['resource', 'multipleResource'], base);
      return top.flatMap((r) => resourceRecords(r, base, typeOf));
    }
    case 'resource': {
      if (entries.length > 0 && entries.every((e) => e.kind === 'resourceInstance')) {
        return entries.map((c) => leafRecord(c, { ...base, resourceInstanceId: c.id }, typeOf));
      }
      expectKinds(entries, ['resource', 'multipleResource'], base);
      if (entries.length > 1) {
        throw err(`a payload for resource ${formatPath(base)} holds ${entries.length} TLVs; expected one`, entries[1]!.offset);
      }
      if (entries.length === 0) return [];
      expectId(entries[0]!, base.resourceId!, base);
      return resourceRecords(entries[0]!, { objectId: base.objectId, instanceId: base.instanceId! }, typeOf);
    }
    case 'resourceInstance': {
      expectKinds(entries, ['resourceInstance'], base);
      if (entries.length !== 1) {
        throw err(`a payload for resource instance ${formatPath(base)} holds ${entries.length} TLVs; expected one`, entries[1]?.offset ?? 0);
      }
      expectId(entries[0]!, base.resourceInstanceId!, base);
      return [leafRecord(entries[0]!, base, typeOf)];
    }
  }
}
