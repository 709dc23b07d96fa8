/** Tool version and git commit for run-start: an auditor must know exactly what judged. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../dut/package-root.js';

export function toolVersion(): string {
  return JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')).version as string;
}

/**
 * What decides a verdict: the CLI, the harness, the cases, the reference device and the
 * package and compiler settings. package-lock.json is left out on purpose: npm may rewrite
 * it on install, which changes no line the run executes, and an auditor reads `-dirty` as
 * modified code. Tests, docs and CI files do not judge either.
 */
export const SOURCE_PATHS: readonly string[] = ['bin', 'harness', 'suites', 'fixtures', 'package.json', 'tsconfig.json'];

/**
 * True when a source path differs from the commit: a tracked file changed, staged or not,
 * or a file git does not ignore is new there (a case file not yet committed runs too).
 */
export function sourcesDirty(root: string): boolean {
  const out = execFileSync('git', ['status', '--porcelain', '--untracked-files=all', '--', ...SOURCE_PATHS], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] });
  return out.toString().trim().length > 0;
}

/** HEAD's commit, with `-dirty` when the sources that judged differ from it; null outside a git checkout. */
export function gitCommit(root: string = packageRoot()): string | null {
  try {
    const out = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
    let dirty = false;
    try {
      dirty = sourcesDirty(root);
    } catch {
      // a commit without a dirty flag is still worth reporting
    }
    return dirty ? `${out}-dirty` : out;
  } catch {
    return null;
  }
}
