/**
 * The report folder is checked before any case runs: a run that cannot leave its reports
 * must not start a device. Node's recursive mkdir never returns under /proc, and its
 * errors name a path but not the option, so each level is created here by itself.
 */
import { closeSync, mkdirSync, openSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from './select.js';

/** Creates the folder if need be and proves a file can be written in it; returns its absolute path. */
export function prepareOutDir(out: string, option = '--out'): string {
  const dir = resolve(out);
  const fail = (why: string) => new UsageError(`${option} ${out}: ${why}`);
  const missing: string[] = [];
  let existing = dir;
  for (;;) {
    const kind = kindOf(existing);
    if (kind === 'dir') break;
    if (typeof kind === 'object') throw fail(`cannot look at ${existing} (${kind.error})`);
    if (kind === 'other') throw fail(existing === dir ? 'exists and is not a folder' : `${existing} is not a folder`);
    missing.unshift(existing);
    const parent = dirname(existing);
    if (parent === existing) throw fail('no part of the path exists');
    existing = parent;
  }
  for (const level of missing) {
    try {
      mkdirSync(level);
    } catch (e) {
      throw fail(`cannot create folder ${level} (${errText(e)}); give a folder you may write to`);
    }
  }
  const probe = join(dir, `.geisa-adm-write-check.${process.pid}`);
  try {
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  } catch (e) {
    throw fail(`cannot write a file there (${errText(e)}); give a folder you may write to`);
  }
  return dir;
}

function kindOf(path: string): 'dir' | 'other' | 'none' | { error: string } {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'other';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'none';
    // Below a file: the file is what the user must hear about, found one level up.
    if (code === 'ENOTDIR') return 'none';
    // Unreadable (EACCES, ELOOP, ENAMETOOLONG...): not something we can write reports into.
    return { error: errText(e) };
  }
}

function errText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code
    ? `${err.code}: ${String(err.message)
        .replace(/^[A-Z]+: /, '')
        .replace(/, \w+ '.*'$/, '')}`
    : String(err?.message ?? e);
}
