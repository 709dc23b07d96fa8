/**
 * The package root. It sits here, below the runner, because the simulator adapter needs it
 * to find the bundled device's entry point, and a DUT adapter may not import the runner.
 */
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
