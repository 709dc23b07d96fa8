/**
 * The atomic writer lives beside the result events (harness/events/) so that the
 * recorder's capture and key log, a lower layer than the reports, can use it too.
 */
export { type AtomicWriteOptions, removeQuietly, tempPathFor, writeFileAtomic } from '../events/atomic-write.js';
