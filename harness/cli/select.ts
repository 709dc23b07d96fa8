/** Picks cases by id glob (`TC-BS-*`, comma-separated) and tags (all listed must match). */
import type { ConformanceCase } from '../runner/case.js';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

export function selectCases(all: readonly ConformanceCase[], casesGlob?: string, tags?: string[]): ConformanceCase[] {
  let picked = [...all];
  if (casesGlob) {
    const globs = casesGlob.split(',').map((g) => g.trim()).filter(Boolean).map(globToRegExp);
    picked = picked.filter((c) => globs.some((g) => g.test(c.meta.id)));
    if (picked.length === 0) throw new UsageError(`--cases '${casesGlob}' matches no case; known: ${all.map((c) => c.meta.id).join(', ')}`);
  }
  if (tags && tags.length) {
    picked = picked.filter((c) => tags.every((tag) => c.meta.tags.includes(tag)));
    if (picked.length === 0) {
      const known = [...new Set(all.flatMap((c) => c.meta.tags))].sort();
      throw new UsageError(`--tags '${tags.join(',')}' matches no selected case; known tags: ${known.join(', ')}`);
    }
  }
  return picked;
}
