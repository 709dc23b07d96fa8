/**
 * Joins the results.json of the shards of one run (`geisa-adm run --shard k/n`, one CI job
 * each) into one Results, which every renderer then takes as it takes a single run's.
 *
 * Shards are joined only when they are parts of the same run: the same tool (version and
 * commit), the same requirement catalog, the same profile (its fingerprint: the redacted
 * profile, less the path it was read from, which differs between CI runners), the same
 * seeded defect; and no case in two shards. Anything else would let one report mix
 * verdicts judged by different rules, so it is refused, naming the shard that differs.
 *
 * What cannot be joined is said, not hidden: the shards' event logs and captures stay in
 * their folders (the monotonic clocks of two processes, or two machines, share no origin),
 * and a run note names each shard's folder and the SHA-256 of its manifest, so an auditor
 * can go from the merged report to the evidence of every case.
 */
import { createHash } from 'node:crypto';
import { worseVerdict } from '../events/events.js';
import type { MatrixRow, MatrixStatus, ResultNote, Results } from './results.js';

export class MergeError extends Error {
  override name = 'MergeError';
}

export interface Shard {
  /** The folder as the user named it: what every message says. */
  folder: string;
  results: Results;
  /** SHA-256 of the shard's manifest.sha256; null when the folder has none. */
  manifestSha256: string | null;
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** SHA-256 of the redacted profile with keys sorted and its `source` (a path) left out. */
export function profileFingerprint(results: Results): string {
  const p = results.run.profile;
  const rest = typeof p === 'object' && p !== null && !Array.isArray(p) ? Object.fromEntries(Object.entries(p).filter(([k]) => k !== 'source')) : p;
  return createHash('sha256').update(canonical(rest ?? null)).digest('hex');
}

function sameRun(first: Shard, other: Shard): void {
  const a = first.results.run;
  const b = other.results.run;
  const differ = (what: string, x: unknown, y: unknown) =>
    new MergeError(`${other.folder}: ${what} ${JSON.stringify(y)} differs from ${JSON.stringify(x)} in ${first.folder}; merge only the shards of one run`);
  if (a.toolVersion !== b.toolVersion) throw differ('tool version', a.toolVersion, b.toolVersion);
  if (a.gitCommit !== null && b.gitCommit !== null && a.gitCommit !== b.gitCommit) throw differ('tool commit', a.gitCommit, b.gitCommit);
  const ca = first.results.matrix.catalog.sha256;
  const cb = other.results.matrix.catalog.sha256;
  if (ca !== cb) throw differ('requirement catalog (sha256)', ca, cb);
  if (a.specVersions.geisaCommit !== b.specVersions.geisaCommit) throw differ('catalog GEISA commit', a.specVersions.geisaCommit, b.specVersions.geisaCommit);
  const fa = profileFingerprint(first.results);
  const fb = profileFingerprint(other.results);
  if (fa !== fb) throw new MergeError(`${other.folder}: profile (fingerprint ${fb.slice(0, 16)}…, from ${b.profileSource ?? 'unknown'}) differs from the one of ${first.folder} (${fa.slice(0, 16)}…, from ${a.profileSource ?? 'unknown'}); merge only the shards of one run`);
  if (a.defect !== b.defect) throw differ('seeded defect', a.defect, b.defect);
}

function mergeMatrix(shards: readonly Shard[], ran: ReadonlySet<string>): Results['matrix'] {
  const rows = new Map<string, MatrixRow>();
  for (const { results } of shards) {
    for (const r of results.matrix.rows) {
      const seen = rows.get(r.requirementId);
      if (!seen) {
        rows.set(r.requirementId, { ...r, cases: [...r.cases], notRunCases: [...r.notRunCases] });
        continue;
      }
      for (const c of r.cases) if (!seen.cases.some((x) => x.id === c.id)) seen.cases.push(c);
    }
  }
  for (const row of rows.values()) {
    row.status = row.cases.length === 0 ? ('ABSENT' as MatrixStatus) : row.cases.map((c) => c.verdict).reduce(worseVerdict);
    // Not run in the merged run: not run by any shard.
    row.notRunCases = row.notRunCases.filter((id) => !ran.has(id));
  }
  return { catalog: shards[0]!.results.matrix.catalog, rows: [...rows.values()] };
}

/**
 * The merged Results. `order`: case ids in the suite's order, which the merged run lists
 * its cases in (ids it does not name follow, in the order the shards give them).
 */
export function mergeResults(shards: readonly Shard[], order: readonly string[] = []): Results {
  if (shards.length === 0) throw new MergeError('no shard to merge');
  const first = shards[0]!;
  for (const s of shards.slice(1)) sameRun(first, s);

  const owner = new Map<string, string>();
  for (const s of shards) {
    for (const c of s.results.cases) {
      const other = owner.get(c.id);
      if (other !== undefined) throw new MergeError(`case ${c.id} is in both ${other} and ${s.folder}: shards of one run are disjoint (the same --shard twice, or shards of different selections?)`);
      owner.set(c.id, s.folder);
    }
  }

  const rank = new Map(order.map((id, i) => [id, i]));
  const sortIds = (ids: string[]) => ids.map((id, i) => ({ id, i })).sort((x, y) => (rank.get(x.id) ?? order.length + x.i) - (rank.get(y.id) ?? order.length + y.i)).map((x) => x.id);
  const unique = (ids: string[]) => sortIds([...new Set(ids)]);

  const cases = shards.flatMap((s) => s.results.cases);
  const caseOrder = new Map(sortIds(cases.map((c) => c.id)).map((id, i) => [id, i]));
  cases.sort((a, b) => caseOrder.get(a.id)! - caseOrder.get(b.id)!);

  const runs = shards.map((s) => s.results.run);
  const isoMin = (xs: (string | null)[]) => xs.filter((x): x is string => x !== null).sort()[0] ?? null;
  const isoMax = (xs: (string | null)[]) => xs.filter((x): x is string => x !== null).sort().at(-1) ?? null;
  const hosts = [...new Set(runs.map((r) => r.host).filter((h): h is string => h !== null))];
  const exitCodes = runs.map((r) => r.exitCode);

  const mergeNote: ResultNote = {
    source: 'harness',
    text:
      `merged from ${shards.length} shards by geisa-adm merge; their event logs (events.jsonl) and captures (capture.pcapng) are not merged and stay in each shard's folder: ` +
      shards.map((s) => `${s.folder} (${s.results.cases.length} cases, manifest.sha256 ${s.manifestSha256 === null ? 'absent' : `sha256 ${s.manifestSha256}`})`).join('; '),
    monoNs: '0',
    atMs: null,
  };
  // A shard's run notes keep their text, prefixed with the shard; their times are relative
  // to that shard's start, which the merged run does not have.
  const notes = [mergeNote, ...shards.flatMap((s) => s.results.run.notes.map((n) => ({ ...n, text: `[${s.folder}] ${n.text}`, atMs: null })))];

  const counts = { ...first.results.counts };
  for (const k of Object.keys(counts) as (keyof typeof counts)[]) counts[k] = shards.reduce((sum, s) => sum + s.results.counts[k], 0);

  return {
    ...first.results,
    run: {
      ...first.results.run,
      startedAt: isoMin(runs.map((r) => r.startedAt)),
      endedAt: isoMax(runs.map((r) => r.endedAt)),
      // The shards' monotonic clocks share no origin: no run-wide anchor.
      startMonoNs: null,
      host: hosts.length === 0 ? null : hosts.join(', '),
      interrupted: runs.some((r) => r.interrupted),
      exitCode: exitCodes.some((c) => c === null) ? null : Math.max(...(exitCodes as number[])),
      selectedCases: unique(runs.flatMap((r) => r.selectedCases)),
      slowNotRun: unique(runs.flatMap((r) => r.slowNotRun)),
      dut: { ...first.results.run.dut, identity: runs.find((r) => r.dut.identity !== null)?.dut.identity ?? null },
      notes,
      strayEvents: runs.flatMap((r) => r.strayEvents),
      capture: null,
    },
    counts,
    cases,
    matrix: mergeMatrix(shards, new Set(cases.map((c) => c.id))),
  };
}
