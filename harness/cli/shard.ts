/**
 * `--shard k/n`: one of n disjoint parts of the selected cases, for a CI engine's matrix of
 * jobs (each job runs one shard, `geisa-adm merge` joins their results.json).
 *
 * The split is round robin over the selected case ids sorted by id (code-point order):
 * case i of the sorted list goes to shard (i mod n) + 1. Why:
 *  - stable under reordering: the sort forgets the order of the suite and of --cases, so
 *    every job of a pipeline, whatever order it lists cases in, agrees on the split;
 *  - every case in exactly one shard, and the shards differ in size by at most one (a hash
 *    of the id would be stable too, but leaves shards uneven, even empty, on a few dozen
 *    cases);
 *  - round robin rather than blocks spreads each area (ids sort by area: DTLS cases
 *    together) over the shards, so no shard gets all the long handshakes.
 * Adding a case to the suite moves others between shards; that is harmless because merge
 * refuses shards of different tool versions.
 */
import type { ConformanceCase } from '../runner/case.js';
import { UsageError } from './select.js';

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

/** `k/n` with whole numbers 1 <= k <= n; anything else is a UsageError naming the flag. */
export function parseShard(spec: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(spec);
  if (!m) throw new UsageError(`--shard must be k/n with whole numbers (e.g. 1/4), got '${spec}'`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw new UsageError(`--shard ${spec}: n must be at least 1`);
  if (index < 1 || index > count) throw new UsageError(`--shard ${spec}: k must be between 1 and ${count}`);
  return { index, count };
}

const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Ids of the shard's cases; pure, for tests and for the note in the reports. */
export function shardIds(ids: readonly string[], shard: Shard): Set<string> {
  const sorted = [...ids].sort(byId);
  return new Set(sorted.filter((_, i) => i % shard.count === shard.index - 1));
}

/**
 * The shard's cases, in the order of the selection (a shard runs its cases in the suite's
 * order like any run). A shard left empty (more shards than cases) is a usage error: a CI
 * matrix that wide is a mistake worth hearing about.
 */
export function shardCases<T extends ConformanceCase>(cases: readonly T[], shard: Shard): T[] {
  const keep = shardIds(
    cases.map((c) => c.meta.id),
    shard,
  );
  const picked = cases.filter((c) => keep.has(c.meta.id));
  if (picked.length === 0) throw new UsageError(`--shard ${shard.index}/${shard.count} holds no case: only ${cases.length} ${cases.length === 1 ? 'case is' : 'cases are'} selected; use at most ${cases.length} shards`);
  return picked;
}

export function describeShard(shard: Shard, picked: readonly { meta: { id: string } }[], selected: number): string {
  return `shard ${shard.index}/${shard.count}: ${picked.length} of the ${selected} selected cases (round robin over the ids sorted; merge the shards' results.json with geisa-adm merge): ${picked.map((c) => c.meta.id).join(', ')}`;
}
