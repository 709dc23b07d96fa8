/** Tool version and git commit for run-start: an auditor must know exactly what judged. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root, found by walking up from this module (works from dist/ and from source). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'geisa-adm-conformance') return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find the geisa-adm-conformance package root');
}

export function toolVersion(): string {
  return JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')).version as string;
}

export function gitCommit(): string | null {
  try {
    const out = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: packageRoot(), stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    let dirty = false;
    try {
      dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: packageRoot(), stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim().length > 0;
    } catch {
      // a commit without a dirty flag is still worth reporting
    }
    return dirty ? `${out}-dirty` : out;
  } catch {
    return null;
  }
}
