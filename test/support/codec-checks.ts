/** What the codec tests share: byte literals, the CodecError a decoder throws, and the typed test object /9. */
import { CodecError, type Lwm2mPath, type ResourceType } from '../../harness/lwm2m/index.js';

/** Hex as the specs print it (grouped, across lines) to bytes. */
export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** The CodecError `fn` throws; the test fails when it throws anything else or nothing. */
export function codecError(fn: () => unknown): CodecError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CodecError);
    return e as CodecError;
  }
  throw new Error('expected a CodecError, nothing was thrown');
}

/** Object 9 stands for a test object with one resource of every type, typed by resource id. */
const TEST_OBJECT_TYPES: ResourceType[] = ['string', 'integer', 'unsigned', 'float', 'boolean', 'opaque', 'time', 'objlnk', 'corelnk'];

/** The resource type a decoder is told for `path` of the test object; undefined elsewhere. */
export const testObjectType = (path: Lwm2mPath): ResourceType | undefined => (path.objectId === 9 && path.resourceId !== undefined ? TEST_OBJECT_TYPES[path.resourceId] : undefined);
