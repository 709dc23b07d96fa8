/**
 * The atomic writer lives beside the result events (harness/results/) so that the
 * recorder's capture and key log, a lower layer than the reports, can use it too.
 */
export { type AtomicWriteOptions, removeQuietly, tempPathFor, writeFileAtomic } from '../results/atomic-write.js';
