/**
 * One run of the declared self-test matrix per jest run, shared by every test file that
 * only reads its results: the reference row (every case but those the slow tier runs) and
 * each seeded defect against the cases it declares broken or left alone. The defect-matrix
 * test judges every cell; the suite-* tests read the reasons, notes and datagrams of the
 * cells they document instead of running those cases again.
 *
 * The first file to ask runs it, in its own jest worker, cells in parallel (they mostly
 * wait on protocol timers); the others wait for the JSON it writes in the run's temp folder
 * (GEISA_TEST_TMPDIR, made by tmpdir-setup.cjs). Without that folder (a file run outside
 * the jest config) the caller runs its own.
 */
import { bundledDevice } from '../../fixtures/simulator/simulator-adapter.js';
import { closeSync, existsSync, openSync, readFileSync, renameSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResultEvent, VerdictEvent } from '../../harness/events/events.js';
import { DEFECTS } from '../../fixtures/device/defects.js';
import { ALL_CASES } from '../../suites/index.js';
import { runMatrix, type MatrixCell, type MatrixResult } from '../../harness/selftest/matrix.js';
import { exitCodeFor } from '../../harness/runner/exit-code.js';
import { deviceTimers } from '../../harness/runner/budget.js';
import { defaultSimulatorProfile } from '../../harness/profile/load.js';
import { expectPass } from './simulator-run.js';

/** Reference-row cases whose floor is minutes of real time: test/suite-reference.slow.test.ts runs them. */
export const SLOW_TIER_REFERENCE = ['TC-RETRY-07'];

/**
 * Cells in flight in the one worker that runs the matrix. They wait on protocol timers far
 * more than they compute (their devices share one device host process: the whole matrix
 * takes about 20 s of CPU); GEISA_SELFTEST_CONCURRENCY overrides it (e.g. 1 to debug a
 * flaky cell).
 */
export function sharedConcurrency(): number {
  const env = Number(process.env['GEISA_SELFTEST_CONCURRENCY']);
  return Number.isInteger(env) && env >= 1 ? env : 16;
}

/**
 * Bounds the whole shared run, and a waiting file's wait for it; each cell is bounded by
 * its case timeout. Generous: on a 2-core machine shared with other work (load 30) the
 * run took more than 20 minutes.
 */
export const SHARED_MATRIX_BOUND_MS = 45 * 60_000;

export interface SharedMatrix {
  result: MatrixResult;
  /** Every result event of each cell but the datagrams' raw bytes, keyed by cellKey. */
  events: Record<string, ResultEvent[]>;
}

export const cellKey = (defect: string | null, caseId: string): string => `${defect ?? 'reference'} × ${caseId}`;

async function runShared(): Promise<SharedMatrix> {
  const events: Record<string, ResultEvent[]> = {};
  const result = await runMatrix({
    createDevice: bundledDevice,
    cases: ALL_CASES,
    defects: DEFECTS,
    scope: 'declared',
    reference: true,
    slowReference: 'all',
    skipReference: SLOW_TIER_REFERENCE,
    concurrency: sharedConcurrency(),
    onEvent: (defect, e) => {
      // The hex of every datagram would make the file tens of megabytes; no test reads it.
      const caseId = 'caseId' in e ? e.caseId : null;
      if (!caseId) return;
      const kept = e.type === 'datagram' ? ({ ...e, bytes: '' } as ResultEvent) : e;
      (events[cellKey(defect, caseId)] ??= []).push(kept);
    },
  });
  process.stdout.write(`shared self-test matrix: ${result.cells.length} cells in ${(result.wallMs / 1000).toFixed(1)} s at ${result.concurrency} in parallel\n`);
  return { result, events };
}

let mine: Promise<SharedMatrix> | undefined;

/** The shared run's results: run here if no other file has claimed it, else waited for. */
export function sharedMatrix(): Promise<SharedMatrix> {
  mine ??= obtain();
  return mine;
}

async function obtain(): Promise<SharedMatrix> {
  const dir = process.env['GEISA_TEST_TMPDIR'];
  if (!dir) return runShared();
  const done = join(dir, 'shared-matrix.json');
  const failed = join(dir, 'shared-matrix.failed');
  let claimed = false;
  try {
    closeSync(openSync(join(dir, 'shared-matrix.lock'), 'wx'));
    claimed = true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  if (claimed) {
    try {
      const shared = await runShared();
      // Written whole, then renamed: a waiting file never reads half of it.
      writeFileSync(`${done}.part`, JSON.stringify(shared));
      renameSync(`${done}.part`, done);
      return shared;
    } catch (e) {
      writeFileSync(failed, String((e as Error)?.stack ?? e));
      throw e;
    }
  }
  await waitForFile(dir, [done, failed], SHARED_MATRIX_BOUND_MS);
  if (existsSync(failed)) throw new Error(`the shared self-test matrix run failed in another test file: ${readFileSync(failed, 'utf8')}`);
  return JSON.parse(readFileSync(done, 'utf8')) as SharedMatrix;
}

/** Resolves when one of `files` exists in `dir`; rejects after `boundMs`. */
function waitForFile(dir: string, files: string[], boundMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = watch(dir);
    const finish = (err?: Error) => {
      clearTimeout(timer);
      watcher.close();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => finish(new Error(`no shared self-test matrix in ${dir} after ${boundMs / 1000} s`)), boundMs);
    watcher.on('change', () => {
      if (files.some((f) => existsSync(f))) finish();
    });
    watcher.on('error', (e) => finish(e));
    // It may have been written before the watch began.
    if (files.some((f) => existsSync(f))) finish();
  });
}

/** The cells of one defect (null: the reference row), by case id. */
export function cellsOf(m: SharedMatrix, defect: string | null): Map<string, MatrixCell> {
  return new Map(m.result.cells.filter((c) => c.defect === defect).map((c) => [c.caseId, c]));
}

/** A cell read back as the verdict event a single run would have emitted, with its events. */
export interface CellRun {
  verdicts: Map<string, VerdictEvent>;
  events: ResultEvent[];
  /** What `geisa-adm run` of these cases alone would exit with (not strict). */
  exitCode: number;
}

/**
 * The cells `caseIds` × `defect` as runOnSimulator returns them (verdicts and events), so a
 * test that documents reasons reads them from the shared run. Throws when a cell is not in
 * the matrix: the test must then run it itself.
 */
export async function matrixRun(caseIds: readonly string[], defect: string | null = null): Promise<CellRun> {
  const m = await sharedMatrix();
  const cells = cellsOf(m, defect);
  const verdicts = new Map<string, VerdictEvent>();
  const events: ResultEvent[] = [];
  const judged: MatrixCell[] = [];
  for (const id of caseIds) {
    const c = cells.get(id);
    if (!c) throw new Error(`${cellKey(defect, id)} is not a cell of the shared matrix`);
    judged.push(c);
    const all = m.events[cellKey(defect, id)] ?? [];
    // A cell the loaded harness could not time ran twice (MatrixCell.stalledAttempt): its final attempt is what counts.
    const ends = all.flatMap((e, i) => (e.type === 'verdict' ? [i] : []));
    const own = ends.length > 1 ? all.slice(ends[ends.length - 2]! + 1) : all;
    events.push(...own);
    const v = own.find((e): e is VerdictEvent => e.type === 'verdict');
    if (v) verdicts.set(id, v);
  }
  return { verdicts, events, exitCode: exitCodeFor(judged, false) };
}

/**
 * How far a reference cell may come in under its case's floor: the device's timers run in
 * its own process and a Node timer may fire a millisecond early; the cases' own lower bounds
 * allow 100 ms of scheduling (RETRY_TOLERANCE_MS) and so does this.
 */
export const FLOOR_TOLERANCE_MS = 100;

/**
 * The reference cells that took less than their case's floor (under the simulator profile
 * the matrix runs with) minus the tolerance, each as "id took x ms, floor y ms". A floor is
 * the least a conformant device lets the case finish in: the reference device coming in
 * under it shows the floor wrong, not the device fast.
 */
export function belowFloor(cells: readonly MatrixCell[]): string[] {
  const k = deviceTimers(defaultSimulatorProfile().ixit);
  const byId = new Map(ALL_CASES.map((c) => [c.meta.id, c]));
  return cells
    .filter((c) => c.defect === null)
    .map((c) => ({ id: c.caseId, tookMs: c.durationMs, floorMs: byId.get(c.caseId)!.floor(k) }))
    .filter((c) => c.tookMs < c.floorMs - FLOOR_TOLERANCE_MS)
    .map((c) => `${c.id} took ${Math.round(c.tookMs)} ms, floor ${Math.round(c.floorMs)} ms`);
}

/** A test that reads the shared run: bounded by the run it may wait for, not jest's default. */
export function matrixTest(name: string, fn: () => Promise<void>): void {
  test(name, fn, SHARED_MATRIX_BOUND_MS);
}

/** The verdict of one cell of the shared run. */
export async function matrixVerdict(caseId: string, defect: string | null = null): Promise<VerdictEvent | undefined> {
  return (await matrixRun([caseId], defect)).verdicts.get(caseId);
}

/** Each case of `named` passes without advisory in the shared reference row, its reason matching every pattern given for it. */
export async function expectReferencePasses(named: Record<string, RegExp | RegExp[]>): Promise<void> {
  const ids = Object.keys(named);
  const run = await matrixRun(ids);
  for (const id of ids) {
    const v = run.verdicts.get(id);
    expectPass(id, v);
    for (const re of [named[id]!].flat()) expect(v!.reason).toMatch(re);
  }
}
