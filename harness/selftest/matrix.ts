/**
 * The self-validation matrix: the suite run against the bundled reference device, once
 * conformant and once per seeded defect, to prove that every case can fail (its defect
 * kills it) and that no defect fails a case it should leave alone (collateral). `npm test`
 * and `geisa-adm selftest` both run it through runMatrix, so they judge the same way.
 *
 * Cells run in parallel in this process, each with its own fake servers on OS-chosen
 * ports and its own device (in the device host: fixtures/simulator/device-host.ts). A timing check that the shared event loop could not
 * judge comes back inconclusive (never fail, see CaseContext.checkTiming); such a cell is
 * run again alone once the pool has drained, and both attempts are reported.
 */
import { setMaxListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResultEvent, Strength, Verdict, VerdictEvent } from '../events/events.js';
import { defaultSimulatorProfile, type Profile } from '../profile/load.js';
import type { DutAdapter } from '../dut/adapter.js';
import type { ConformanceCase } from '../runner/case.js';
import { runCase } from '../runner/run-case.js';
import { CaseStop } from '../runner/outcome.js';
import { HARNESS_STALL } from '../runner/context.js';
import { runPool } from '../runner/pool.js';

/**
 * Cells in flight in one process. Measured on 2 cores (59 declared cells, machine shared
 * with other work): 2 → 85 s, 3 → 61 s, 4 → 48 s, 6 → 38 s, 8 → 35 s, the same ~40 s of
 * CPU each time and no harness stall at any of them; past 6 the longest cells set the pace.
 */
export const DEFAULT_CONCURRENCY = 6;

/** The subset of a seeded defect the matrix needs (fixtures/device/defects/spec.ts). */
export interface MatrixDefect {
  name: string;
  breaks: readonly string[];
  leavesAlone: readonly string[];
  /** A behaviour the spec allows: it breaks nothing, and no cell of it may be killed, declared or not. */
  allowedBySpec?: boolean;
}

/** What the cell is there to show. */
export type CellRole = 'reference' | 'breaks' | 'leavesAlone' | 'undeclared';

/**
 * killed: a declared (or, in --full, any) break made the case fail (SHOULD: fail or advisory);
 * survived: a declared break did not; collateral: a case the defect must leave alone did
 * not pass cleanly; pass: the case passed; other: reference or undeclared cell that did
 * neither (its verdict says what happened).
 */
export type CellOutcome = 'killed' | 'survived' | 'collateral' | 'pass' | 'not-applicable' | 'other';

export interface CellAttempt {
  verdict: Verdict;
  reason: string;
  advisory?: string;
  durationMs: number;
}

export interface MatrixCell {
  /** null: the conformant reference device. */
  defect: string | null;
  caseId: string;
  strength: Strength;
  role: CellRole;
  verdict: Verdict;
  reason: string;
  advisory?: string;
  durationMs: number;
  outcome: CellOutcome;
  /** Whether the cell is what its role demands; undeclared cells are never judged (true). */
  ok: boolean;
  /** When the first attempt was inconclusive because the harness stalled: that attempt. */
  stalledAttempt?: CellAttempt;
}

export interface MatrixResult {
  scope: 'declared' | 'full';
  concurrency: number;
  cells: MatrixCell[];
  /** True when every judged cell is ok. */
  ok: boolean;
  interrupted: boolean;
  wallMs: number;
}

export interface MatrixOptions {
  cases: readonly ConformanceCase[];
  /**
   * The bundled device with one seeded defect (null: the conformant one), for one cell. The
   * caller hands it in (the simulator adapter, fixtures/simulator): the harness does not
   * depend on the reference device.
   */
  createDevice: (profile: Profile, defect: string | null) => DutAdapter;
  defects: readonly MatrixDefect[];
  /** declared: each defect against its breaks and leavesAlone; full: every defect × every case. */
  scope?: 'declared' | 'full';
  /** Run the conformant reference device over the cases too (default true). */
  reference?: boolean;
  /**
   * Slow cases in the reference row: only those some defect declares (default), or all
   * (they are fast on the simulator profile's short timers, just not instant).
   */
  slowReference?: 'declared' | 'all';
  /** Cases left out of the reference row whatever slowReference says (a caller that runs them apart). */
  skipReference?: readonly string[];
  concurrency?: number;
  /** Default: the built-in simulator profile (short CoAP and LwM2M timers). */
  profile?: Profile;
  signal?: AbortSignal;
  /** Per-case scratch directories go below this (default: the OS temp dir). */
  workDir?: string;
  /** Progress: called as each cell gets its final verdict. */
  onCell?: (cell: MatrixCell, done: number, total: number) => void;
  /** Every result event of every cell, tagged with its defect (for an evidence log). */
  onEvent?: (defect: string | null, e: ResultEvent) => void;
}

interface Job {
  defect: string | null;
  allowedBySpec?: boolean;
  c: ConformanceCase;
  role: CellRole;
}

/**
 * A case is killed by a fail, or by a pass with an advisory: checks are judged at their own
 * row's level, so a defect against a SHOULD row of any case shows as the advisory.
 */
export function isKilled(_strength: Strength, verdict: Verdict, advisory: string | undefined): boolean {
  if (verdict === 'fail') return true;
  return verdict === 'pass' && advisory !== undefined;
}

export function judgeCell(role: CellRole, strength: Strength, verdict: Verdict, advisory: string | undefined, allowedBySpec = false): { outcome: CellOutcome; ok: boolean } {
  const killed = isKilled(strength, verdict, advisory);
  // A behaviour the spec allows that fails or advises against any case is a false verdict of the suite.
  if (allowedBySpec && role === 'undeclared' && killed) return { outcome: 'collateral', ok: false };
  const clean = verdict === 'pass' && advisory === undefined;
  switch (role) {
    case 'breaks':
      return { outcome: killed ? 'killed' : 'survived', ok: killed };
    case 'leavesAlone':
      return { outcome: clean ? 'pass' : 'collateral', ok: clean };
    case 'reference':
      // Not applicable by the profile's ICS is allowed, but then nothing can kill the case.
      if (verdict === 'not-applicable') return { outcome: 'not-applicable', ok: true };
      return { outcome: clean ? 'pass' : 'other', ok: clean };
    case 'undeclared':
      return { outcome: killed ? 'killed' : clean ? 'pass' : verdict === 'not-applicable' ? 'not-applicable' : 'other', ok: true };
  }
}

export function isSlow(c: ConformanceCase): boolean {
  return c.meta.tags.includes('slow');
}

/**
 * The cells to run, in an order that keeps the pool busy: each defect's declared cells,
 * then (full) the rest of the cross product. Slow cases enter only where a defect
 * declares them; the reference row covers every other case plus those.
 */
export function planMatrix(opts: Pick<MatrixOptions, 'cases' | 'defects' | 'scope' | 'reference' | 'slowReference' | 'skipReference'>): Job[] {
  const byId = new Map(opts.cases.map((c) => [c.meta.id, c]));
  const jobs: Job[] = [];
  const declaredSlow = new Set(opts.defects.flatMap((d) => [...d.breaks, ...d.leavesAlone]).filter((id) => byId.has(id) && isSlow(byId.get(id)!)));
  if (opts.reference ?? true) {
    const skip = new Set(opts.skipReference ?? []);
    for (const c of opts.cases) if (!skip.has(c.meta.id) && (!isSlow(c) || opts.slowReference === 'all' || declaredSlow.has(c.meta.id))) jobs.push({ defect: null, c, role: 'reference' });
  }
  for (const d of opts.defects) {
    for (const id of d.breaks) if (byId.has(id)) jobs.push({ defect: d.name, c: byId.get(id)!, role: 'breaks' });
    for (const id of d.leavesAlone) if (byId.has(id)) jobs.push({ defect: d.name, c: byId.get(id)!, role: 'leavesAlone' });
    if (opts.scope === 'full') {
      const declared = new Set([...d.breaks, ...d.leavesAlone]);
      for (const c of opts.cases) if (!declared.has(c.meta.id) && !isSlow(c)) jobs.push({ defect: d.name, c, role: 'undeclared', ...(d.allowedBySpec ? { allowedBySpec: true } : {}) });
    }
  }
  return jobs;
}

export async function runMatrix(opts: MatrixOptions): Promise<MatrixResult> {
  const started = performance.now();
  const scope = opts.scope ?? 'declared';
  const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
  const profile = opts.profile ?? defaultSimulatorProfile();
  const jobs = planMatrix({ ...opts, scope });
  const workDir = mkdtempSync(join(opts.workDir ?? tmpdir(), 'geisa-selftest-'));
  const signal = opts.signal ?? new AbortController().signal;
  // Every cell in flight listens on the run's signal (its runner and its case): not a leak.
  setMaxListeners(Math.max(10, concurrency * 4), signal);
  let interrupted = false;
  let done = 0;

  const attempt = async (job: Job): Promise<CellAttempt | undefined> => {
    let verdict: VerdictEvent;
    try {
      verdict = await runCase(job.c, {
        profile,
        createAdapter: () => opts.createDevice(profile, job.defect),
        emit: (e) => opts.onEvent?.(job.defect, e),
        signal,
        workDir,
      });
    } catch (e) {
      if (e instanceof CaseStop) {
        interrupted = true;
        return undefined;
      }
      throw e;
    }
    return { verdict: verdict.verdict, reason: verdict.reason, durationMs: verdict.durationMs, ...(verdict.advisory !== undefined ? { advisory: verdict.advisory } : {}) };
  };
  const stalled = (a: CellAttempt) => a.verdict === 'inconclusive' && a.reason.includes(HARNESS_STALL);
  const toCell = (job: Job, a: CellAttempt, stalledAttempt?: CellAttempt): MatrixCell => {
    const { outcome, ok } = judgeCell(job.role, job.c.meta.strength, a.verdict, a.advisory, job.allowedBySpec);
    return {
      defect: job.defect,
      caseId: job.c.meta.id,
      strength: job.c.meta.strength,
      role: job.role,
      ...a,
      outcome,
      ok,
      ...(stalledAttempt ? { stalledAttempt } : {}),
    };
  };

  const cells: (MatrixCell | undefined)[] = new Array(jobs.length).fill(undefined);
  const retry: number[] = [];
  try {
    const first = await runPool(
      jobs,
      concurrency,
      async (job, i) => {
        const a = await attempt(job);
        if (!a) return a;
        if (stalled(a)) retry.push(i);
        else {
          cells[i] = toCell(job, a);
          opts.onCell?.(cells[i]!, ++done, jobs.length);
        }
        return a;
      },
      { signal },
    );
    retry.sort((a, b) => a - b);
    // Alone, so the only load on the event loop is the cell itself.
    for (const i of retry) {
      if (signal.aborted) break;
      const firstTry = first[i]!;
      const again = await attempt(jobs[i]!);
      if (!again) break;
      cells[i] = toCell(jobs[i]!, again, firstTry);
      opts.onCell?.(cells[i]!, ++done, jobs.length);
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  if (signal.aborted) interrupted = true;
  const finished = cells.filter((c): c is MatrixCell => c !== undefined);
  return {
    scope,
    concurrency,
    cells: finished,
    ok: !interrupted && finished.length === jobs.length && finished.every((c) => c.ok),
    interrupted,
    wallMs: performance.now() - started,
  };
}

/**
 * Splits defects into `count` shards of about equal work (declared cells), the same way on
 * every call, so test files can each take one shard and jest runs them on separate workers.
 */
export function shardDefects<D extends MatrixDefect>(defects: readonly D[], count: number, index: number): D[] {
  const load = new Array(count).fill(0) as number[];
  const shards: D[][] = Array.from({ length: count }, () => []);
  const order = [...defects].sort((a, b) => b.breaks.length + b.leavesAlone.length - (a.breaks.length + a.leavesAlone.length) || a.name.localeCompare(b.name));
  for (const d of order) {
    const lightest = load.indexOf(Math.min(...load));
    shards[lightest]!.push(d);
    load[lightest]! += d.breaks.length + d.leavesAlone.length;
  }
  return defects.filter((d) => shards[index]!.includes(d));
}

/** One line per cell for a failure message or a log: role, outcome, verdict and its reason. */
export function explainCell(c: MatrixCell): string {
  const who = c.defect ?? 'reference';
  const adv = c.advisory !== undefined ? ` (advisory: ${c.advisory})` : '';
  const stall = c.stalledAttempt ? ` [run again alone: first attempt ${c.stalledAttempt.verdict}: ${c.stalledAttempt.reason}]` : '';
  // One line: an action's captured output may span several.
  return `${who} × ${c.caseId} (${c.role}, ${c.strength}): ${c.outcome} — ${c.verdict}${adv}: ${c.reason}${stall}`.replace(/\s*\n\s*/g, ' ⏎ ');
}
