/**
 * Every final report is written to a temp file in its own directory and then renamed over
 * the target: rename within one file system is atomic, so a reader (or a run killed
 * mid-write) sees the previous report or the new one, never half of one. A write that fails
 * (a full disk) takes its temp file with it.
 */
import { mkdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

let counter = 0;

/** A temp name beside `file`, hidden and unique to this process and call. */
export function tempPathFor(file: string, suffix = '.tmp'): string {
  counter += 1;
  return join(dirname(file), `.${basename(file)}.${process.pid}.${Date.now()}.${counter}${suffix}`);
}

export interface AtomicWriteOptions {
  /** File mode of the new file (e.g. 0o600 for a secrets file), set when the temp file is created. */
  mode?: number;
}

export function writeFileAtomic(file: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = tempPathFor(file);
  try {
    // 'wx': a fresh file, so the mode applies from its first byte and nothing is followed.
    writeFileSync(tmp, data, { flag: 'wx', ...(opts.mode !== undefined ? { mode: opts.mode } : {}) });
    renameSync(tmp, file);
  } catch (e) {
    removeQuietly(tmp);
    throw e;
  }
}

export function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Already gone, or never made because the write itself failed.
  }
}
