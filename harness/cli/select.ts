/**
 * Picks cases for a run, a list or a self-test.
 *
 * `--cases` is a comma-separated list of ids or globs (`*`, `?`); a `!` in front excludes:
 * `TC-*,!TC-SEC-*` is every case but the security ones (with only exclusions, everything
 * else). `--tags` is a comma-separated list of tags a case must all carry; `!tag` excludes
 * cases carrying it: `dtls,!certificate`. A name that matches nothing is a usage error, so
 * a typo never silently changes what runs.
 *
 * Cases tagged `slow` (spec-default timers, minutes each on a real device) are left out of
 * a run unless asked for: `--slow`, a `--tags` list naming `slow`, or `--cases` naming the
 * case by its exact id.
 */
import type { ConformanceCase } from '../runner/case.js';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const SLOW_TAG = 'slow';

function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

export interface Patterns {
  include: string[];
  exclude: string[];
}

/** `a,!b, c` → include [a, c], exclude [b]; accepts a list of such strings too. */
export function parsePatterns(spec: string | readonly string[] | undefined): Patterns {
  const parts = (typeof spec === 'string' ? [spec] : (spec ?? []))
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  const include: string[] = [];
  const exclude: string[] = [];
  for (const p of parts) {
    if (p.startsWith('!')) {
      const rest = p.slice(1).trim();
      if (!rest) throw new UsageError(`'${p}' excludes nothing: write !PATTERN`);
      exclude.push(rest);
    } else include.push(p);
  }
  return { include, exclude };
}

/** Filters named things by id globs with exclusions; `what` names the flag in errors. */
export function filterByGlobs<T>(all: readonly T[], idOf: (t: T) => string, spec: string | undefined, what: string): T[] {
  const { include, exclude } = parsePatterns(spec);
  const ids = all.map(idOf);
  for (const p of [...include, ...exclude]) {
    const re = globToRegExp(p);
    if (!ids.some((id) => re.test(id))) throw new UsageError(`${what} '${p}' matches nothing; known: ${ids.join(', ')}`);
  }
  const inc = include.map(globToRegExp);
  const exc = exclude.map(globToRegExp);
  const picked = all.filter((t) => (inc.length === 0 || inc.some((g) => g.test(idOf(t)))) && !exc.some((g) => g.test(idOf(t))));
  if (picked.length === 0) throw new UsageError(`${what} '${spec}' leaves nothing selected`);
  return picked;
}

function filterByTags(all: readonly ConformanceCase[], tags: string | readonly string[] | undefined): ConformanceCase[] {
  const { include, exclude } = parsePatterns(tags);
  if (include.length === 0 && exclude.length === 0) return [...all];
  const known = [...new Set(all.flatMap((c) => c.meta.tags))].sort();
  for (const t of [...include, ...exclude]) if (!known.includes(t)) throw new UsageError(`--tags '${t}' is not a tag of any case; known tags: ${known.join(', ')}`);
  const picked = all.filter((c) => include.every((t) => c.meta.tags.includes(t)) && !exclude.some((t) => c.meta.tags.includes(t)));
  if (picked.length === 0) throw new UsageError(`--tags '${[...include, ...exclude.map((t) => '!' + t)].join(',')}' matches no selected case; known tags: ${known.join(', ')}`);
  return picked;
}

/** Selects by --cases and --tags, slow cases included (for list and self-test). */
export function selectCases(all: readonly ConformanceCase[], casesGlob?: string, tags?: string | readonly string[]): ConformanceCase[] {
  return filterByTags(
    filterByGlobs(all, (c) => c.meta.id, casesGlob, '--cases'),
    tags,
  );
}

export interface RunSelection {
  cases: ConformanceCase[];
  /** Selected by --cases/--tags but not run because they are slow and nobody asked for slow cases. */
  slowNotRun: ConformanceCase[];
}

/** What `geisa-adm run` runs: selectCases, then slow cases only when asked for. */
export function selectRun(all: readonly ConformanceCase[], opts: { cases?: string; tags?: string | readonly string[]; slow?: boolean }): RunSelection {
  const selected = selectCases(all, opts.cases, opts.tags);
  const { include: tagInclude } = parsePatterns(opts.tags);
  const named = new Set(
    parsePatterns(opts.cases)
      .include.filter((p) => !/[*?]/.test(p))
      .map((p) => p.toUpperCase()),
  );
  const wanted = (c: ConformanceCase) => opts.slow === true || tagInclude.includes(SLOW_TAG) || named.has(c.meta.id.toUpperCase());
  const cases: ConformanceCase[] = [];
  const slowNotRun: ConformanceCase[] = [];
  for (const c of selected) (c.meta.tags.includes(SLOW_TAG) && !wanted(c) ? slowNotRun : cases).push(c);
  if (cases.length === 0 && slowNotRun.length > 0) {
    throw new UsageError(`every selected case is slow (${slowNotRun.map((c) => c.meta.id).join(', ')}): add --slow to run them`);
  }
  return { cases, slowNotRun };
}
