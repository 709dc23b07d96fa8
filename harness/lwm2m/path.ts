import { CodecError } from './errors.js';

/**
 * An LwM2M path. The root path "/" is represented as `{ objectId: -1 }` (see ROOT_PATH):
 * object ids are 0..65535, so -1 can never be mistaken for a real object, and every
 * non-root path keeps the natural shape with a required objectId.
 * Ids below the deepest level are always present ("/3/0/5" has instanceId 0).
 */
export interface Lwm2mPath {
  objectId: number;
  instanceId?: number;
  resourceId?: number;
  resourceInstanceId?: number;
}

export type PathLevel = 'root' | 'object' | 'instance' | 'resource' | 'resourceInstance';

export const ROOT_PATH: Readonly<Lwm2mPath> = Object.freeze({ objectId: -1 });

const MAX_ID = 65535;

export function isRoot(p: Lwm2mPath): boolean {
  return p.objectId === -1;
}

export function pathLevel(p: Lwm2mPath): PathLevel {
  if (isRoot(p)) return 'root';
  if (p.instanceId === undefined) return 'object';
  if (p.resourceId === undefined) return 'instance';
  if (p.resourceInstanceId === undefined) return 'resource';
  return 'resourceInstance';
}

/** Ids from the object id down to the deepest one present; [] for root. */
export function pathIds(p: Lwm2mPath): number[] {
  if (isRoot(p)) return [];
  const ids = [p.objectId, p.instanceId, p.resourceId, p.resourceInstanceId];
  const end = ids.indexOf(undefined);
  return (end === -1 ? ids : ids.slice(0, end)) as number[];
}

function fromIds(ids: number[]): Lwm2mPath {
  if (ids.length === 0) return { objectId: -1 };
  const p: Lwm2mPath = { objectId: ids[0]! };
  if (ids.length > 1) p.instanceId = ids[1];
  if (ids.length > 2) p.resourceId = ids[2];
  if (ids.length > 3) p.resourceInstanceId = ids[3];
  return p;
}

export function parsePath(s: string): Lwm2mPath {
  if (s === '/') return { objectId: -1 };
  if (!s.startsWith('/')) {
    throw new CodecError('path', `"${s}" is not an LwM2M path: it must start with "/"`);
  }
  const segments = s.slice(1).split('/');
  if (segments.length > 4) {
    throw new CodecError('path', `"${s}" has ${segments.length} segments; an LwM2M path has at most 4`);
  }
  const ids = segments.map((seg, i) => {
    if (!/^(0|[1-9][0-9]*)$/.test(seg)) {
      const what = seg === '' ? 'an empty segment' : `segment "${seg}", which is not a decimal id`;
      throw new CodecError('path', `"${s}" has ${what} at position ${i + 1}`);
    }
    const id = Number(seg);
    if (id > MAX_ID) {
      throw new CodecError('path', `"${s}" has id ${seg} at position ${i + 1}; ids are 0..${MAX_ID}`);
    }
    return id;
  });
  return fromIds(ids);
}

function checkId(id: number): boolean {
  return Number.isInteger(id) && id >= 0 && id <= MAX_ID;
}

/** Throws CodecError on a path no parser would produce (holes, out-of-range ids). */
export function validatePath(p: Lwm2mPath): void {
  if (isRoot(p)) {
    if (p.instanceId !== undefined || p.resourceId !== undefined || p.resourceInstanceId !== undefined) {
      throw new CodecError('path', 'the root path cannot carry instance or resource ids');
    }
    return;
  }
  const ids = [p.objectId, p.instanceId, p.resourceId, p.resourceInstanceId];
  let seenGap = false;
  ids.forEach((id, i) => {
    if (id === undefined) {
      seenGap = true;
    } else if (seenGap) {
      throw new CodecError('path', `path has id ${id} at depth ${i + 1} but a missing id above it`);
    } else if (!checkId(id)) {
      throw new CodecError('path', `path has id ${id} at depth ${i + 1}; ids are integers 0..${MAX_ID}`);
    }
  });
}

export function formatPath(p: Lwm2mPath): string {
  validatePath(p);
  const ids = pathIds(p);
  return ids.length === 0 ? '/' : '/' + ids.join('/');
}

export function pathEquals(a: Lwm2mPath, b: Lwm2mPath): boolean {
  const x = pathIds(a);
  const y = pathIds(b);
  return x.length === y.length && x.every((id, i) => id === y[i]);
}

/** True when `a` addresses `b` or one of its ancestors (root is a prefix of everything). */
export function isPrefixOf(a: Lwm2mPath, b: Lwm2mPath): boolean {
  const x = pathIds(a);
  const y = pathIds(b);
  return x.length <= y.length && x.every((id, i) => id === y[i]);
}

export function childPath(p: Lwm2mPath, id: number): Lwm2mPath {
  const ids = pathIds(p);
  if (ids.length === 4) {
    throw new CodecError('path', `${formatPath(p)} is a resource instance and has no children`);
  }
  return fromIds([...ids, id]);
}
