/**
 * Integrity manifest of a run's reports: one `sha256  file` line per report file, the
 * format `sha256sum -c` reads, so an auditor can check it without this tool. `geisa-adm
 * verify DIR` names every file changed or missing since the run wrote them.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomic-write.js';
import { basename, join, relative } from 'node:path';

export const MANIFEST_NAME = 'manifest.sha256';

function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Writes the manifest for `files` (absolute paths inside outDir), temp file then rename. */
export function writeManifest(outDir: string, files: string[]): string {
  const lines = files.map((f) => `${sha256File(f)}  ${relative(outDir, f)}`);
  const target = join(outDir, MANIFEST_NAME);
  writeFileAtomic(target, lines.join('\n') + '\n');
  return target;
}

export interface VerifyResult {
  checked: number;
  changed: string[];
  missing: string[];
  /** Secret files (SECRETS-*) the manifest lists but the directory no longer holds: withheld on purpose before sharing, not tampering. */
  withheld: string[];
}

/** The opt-in key log and anything else named so: files a lab deletes before it shares a report. */
export function isSecretsFile(name: string): boolean {
  return name.startsWith('SECRETS-');
}

export class ManifestError extends Error {}

export function verifyManifest(dir: string): VerifyResult {
  const file = join(dir, MANIFEST_NAME);
  if (!existsSync(file)) throw new ManifestError(`${dir} has no ${MANIFEST_NAME}: not a report directory written by geisa-adm run`);
  const result: VerifyResult = { checked: 0, changed: [], missing: [], withheld: [] };
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .forEach((line, i) => {
      const m = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
      if (!m) throw new ManifestError(`${MANIFEST_NAME} line ${i + 1} is not "<sha256>  <file>": ${line.slice(0, 80)}`);
      const [, hash, name] = m;
      // Only names inside the directory: a tampered manifest must not make us read elsewhere.
      if (name!.includes('..') || name!.startsWith('/') || basename(name!) !== name) throw new ManifestError(`${MANIFEST_NAME} line ${i + 1} names a file outside the report directory: ${name}`);
      result.checked += 1;
      const path = join(dir, name!);
      if (!existsSync(path)) (isSecretsFile(name!) ? result.withheld : result.missing).push(name!);
      else if (sha256File(path) !== hash) result.changed.push(name!);
    });
  return result;
}
