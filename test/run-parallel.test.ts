/**
 * Cases in parallel, on synthetic cases with a device adapter that does nothing (real fake
 * servers on OS-chosen ports): at most `jobs` in flight, a case marked alone runs with
 * nothing else, the reports keep selection order whatever order cases end in, every event
 * stays attributable to its case, and an interrupt ends every case in flight. Also the
 * CLI side: --jobs against the profile's adapter.parallel, and the device folder names.
 */
import type { ActionHooks, DutAction, DutAdapter } from '../harness/dut/adapter.js';
import { defaultSimulatorProfile, parseProfile } from '../harness/profile/load.js';
import { defineCase, type ConformanceCase } from '../harness/runner/case.js';
import type { CaseContext } from '../harness/runner/context.js';
import { runSuite } from '../harness/runner/runner.js';
import { runPool, takeOrder } from '../harness/runner/pool.js';
import { EXIT, INTERRUPTED_REASON } from '../harness/runner/exit-code.js';
import { foldEvents } from '../harness/reports/run-record.js';
import type { ResultEvent } from '../harness/events/events.js';
import { deviceFolders, jobsFor } from '../harness/cli/run-command.js';

class InertAdapter implements DutAdapter {
  readonly kind = 'exec' as const;
  supports(_action: DutAction): boolean {
    return true;
  }
  async run(action: DutAction, _p: unknown, _s: unknown, hooks: ActionHooks): Promise<void> {
    hooks.note('adapter', `ran ${action}`);
  }
  async dispose(): Promise<void> {}
}

/** Cases whose bodies wait until the test releases them, recording who ran alongside whom. */
class Stage {
  readonly started: string[] = [];
  readonly inFlight = new Set<string>();
  /** For each case, the cases in flight when it started (itself excluded). */
  readonly company = new Map<string, string[]>();
  peak = 0;
  private readonly gates = new Map<string, () => void>();
  private waiters: (() => void)[] = [];

  make(id: string, opts: { alone?: boolean } = {}): ConformanceCase {
    return defineCase(
      { id, title: id, area: 'bootstrap', requirements: [{ id: 'GEISA-ADM-BS-01', section: 's', quote: 'q' }], budget: () => 30_000, floor: () => 0, tags: [], ...(opts.alone ? { alone: true } : {}) },
      async (t: CaseContext) => {
        this.company.set(id, [...this.inFlight]);
        this.inFlight.add(id);
        this.peak = Math.max(this.peak, this.inFlight.size);
        this.started.push(id);
        t.note(`${id} running`);
        const released = new Promise<void>((resolve) => this.gates.set(id, resolve));
        this.changed();
        await released;
        this.inFlight.delete(id);
        t.check('GEISA-ADM-BS-01', 'synthetic', true, { expected: 'x', observed: 'x' });
        t.pass(`${id} done`);
      },
    );
  }

  /** Resolves once `ready` holds; re-checked whenever a case starts. */
  async until(ready: () => boolean): Promise<void> {
    while (!ready()) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(id: string): void {
    const gate = this.gates.get(id);
    if (!gate) throw new Error(`${id} is not waiting`);
    this.gates.delete(id);
    gate();
  }

  private changed(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const wake of w) wake();
  }
}

function suite(stage: Stage, cases: ConformanceCase[], jobs: number, signal = new AbortController().signal) {
  const events: ResultEvent[] = [];
  const profile = defaultSimulatorProfile();
  const done = runSuite({ cases, profile, defect: null, createAdapter: () => new InertAdapter(), emit: (e) => events.push(e), signal, strict: false, jobs });
  return { events, done };
}

describe('runSuite with --jobs', () => {
  test('at most `jobs` cases in flight; results and reports in selection order although they end in reverse; every event names its case', async () => {
    const stage = new Stage();
    const ids = ['TC-PAR-01', 'TC-PAR-02', 'TC-PAR-03', 'TC-PAR-04', 'TC-PAR-05'];
    const { events, done } = suite(
      stage,
      ids.map((id) => stage.make(id)),
      3,
    );
    await stage.until(() => stage.started.length === 3);
    expect(stage.started).toEqual(ids.slice(0, 3));
    // The first three end last-first; each ending lets one more in.
    stage.release('TC-PAR-03');
    await stage.until(() => stage.started.length === 4);
    stage.release('TC-PAR-02');
    await stage.until(() => stage.started.length === 5);
    for (const id of ['TC-PAR-05', 'TC-PAR-04', 'TC-PAR-01']) stage.release(id);
    const summary = await done;

    expect(stage.peak).toBe(3);
    expect(summary.results.map((r) => r.id)).toEqual(ids);
    expect(summary.results.every((r) => r.verdict === 'pass')).toBe(true);
    expect(summary.exitCode).toBe(EXIT.OK);
    const verdictOrder = events.filter((e) => e.type === 'verdict').map((e) => (e.type === 'verdict' ? e.caseId : ''));
    expect(verdictOrder).toEqual(['TC-PAR-03', 'TC-PAR-02', 'TC-PAR-05', 'TC-PAR-04', 'TC-PAR-01']);
    const run = foldEvents(events);
    expect(run.cases.map((c) => c.meta.id)).toEqual(ids);
    expect(run.stray).toEqual([]);
    // Interleaved in the log, yet each case's notes are its own.
    for (const c of run.cases) expect(c.notes.filter((n) => n.text.endsWith(' running')).map((n) => n.text)).toEqual([`${c.meta.id} running`]);
    const runNotes = run.notes.map((n) => n.text);
    expect(runNotes).toEqual(['cases ran up to 3 at once, each with its own fake servers (on their own ports) and its own device instance']);
  });

  test('a case marked alone runs with nothing else in flight (before the others), and is said so in the run notes', async () => {
    const stage = new Stage();
    const cases = [stage.make('TC-PAR-01'), stage.make('TC-PAR-02'), stage.make('TC-PAR-03', { alone: true }), stage.make('TC-PAR-04')];
    const { events, done } = suite(stage, cases, 3);
    await stage.until(() => stage.started.length === 1);
    expect(stage.started).toEqual(['TC-PAR-03']);
    stage.release('TC-PAR-03');
    await stage.until(() => stage.started.length === 4);
    for (const id of ['TC-PAR-01', 'TC-PAR-02', 'TC-PAR-04']) stage.release(id);
    const summary = await done;
    expect(stage.company.get('TC-PAR-03')).toEqual([]);
    expect(stage.company.get('TC-PAR-04')).toEqual(['TC-PAR-01', 'TC-PAR-02']);
    expect(summary.results.map((r) => r.id)).toEqual(['TC-PAR-01', 'TC-PAR-02', 'TC-PAR-03', 'TC-PAR-04']);
    expect(foldEvents(events).cases.map((c) => c.meta.id)).toEqual(['TC-PAR-01', 'TC-PAR-02', 'TC-PAR-03', 'TC-PAR-04']);
    expect(foldEvents(events).notes.map((n) => n.text)).toEqual([expect.stringContaining('; TC-PAR-03 ran with no other case in flight')]);
  });

  test('with --jobs 1 an alone case keeps its place: one after the other, in selection order', async () => {
    const stage = new Stage();
    const cases = [stage.make('TC-PAR-01'), stage.make('TC-PAR-02', { alone: true })];
    const { events, done } = suite(stage, cases, 1);
    await stage.until(() => stage.started.length === 1);
    expect(stage.started).toEqual(['TC-PAR-01']);
    stage.release('TC-PAR-01');
    await stage.until(() => stage.started.length === 2);
    stage.release('TC-PAR-02');
    await done;
    expect(stage.peak).toBe(1);
    expect(foldEvents(events).notes).toEqual([]);
  });

  test('an interrupt ends every case in flight as error, starts no other, and marks the run interrupted', async () => {
    const stage = new Stage();
    const abort = new AbortController();
    const ids = ['TC-PAR-01', 'TC-PAR-02', 'TC-PAR-03', 'TC-PAR-04'];
    const { events, done } = suite(
      stage,
      ids.map((id) => stage.make(id)),
      2,
      abort.signal,
    );
    await stage.until(() => stage.started.length === 2);
    abort.abort();
    const summary = await done;
    expect(summary.interrupted).toBe(true);
    expect(summary.exitCode).toBe(EXIT.ERROR);
    expect(summary.results).toEqual([
      { id: 'TC-PAR-01', strength: 'SHALL', verdict: 'error', reason: INTERRUPTED_REASON },
      { id: 'TC-PAR-02', strength: 'SHALL', verdict: 'error', reason: INTERRUPTED_REASON },
    ]);
    expect(events.filter((e) => e.type === 'case-start').map((e) => (e.type === 'case-start' ? e.caseId : ''))).toEqual(['TC-PAR-01', 'TC-PAR-02']);
    const end = events.at(-1);
    expect(end?.type === 'run-end' && end.interrupted).toBe(true);
  });
});

test('a timing the stalled harness could not judge with other cases in flight is run again alone; the reports show that attempt, the log keeps both', async () => {
  const stage = new Stage();
  let attempts = 0;
  const stalls = defineCase({ id: 'TC-PAR-09', title: 'stalls', area: 'bootstrap', requirements: [{ id: 'GEISA-ADM-BS-01', section: 's', quote: 'q' }], budget: () => 30_000, floor: () => 0, tags: [] }, async (t: CaseContext) => {
    attempts += 1;
    await new Promise((r) => setImmediate(r));
    // The first time, the harness's own loop is blocked: its timestamps cannot be trusted.
    const until = performance.now() + (attempts === 1 ? 120 : 0);
    while (performance.now() < until) {
      // busy
    }
    await new Promise((r) => setImmediate(r));
    // 50 ms short: beyond the tolerance, within what a 120 ms stall can account for; a miss alone.
    t.checkTiming({ req: 'GEISA-ADM-BS-01', name: 'gap', observedMs: 950, minMs: 1000, maxMs: 2000, toleranceMs: 20, window: 'synthetic' });
  });
  const other = stage.make('TC-PAR-01');
  const { events, done } = suite(stage, [stalls, other], 2);
  await stage.until(() => stage.started.length === 1);
  stage.release('TC-PAR-01');
  const summary = await done;
  expect(attempts).toBe(2);
  // Alone, nothing excuses the miss: the rerun's own verdict stands (here a fail).
  expect(summary.results.map((r) => `${r.id} ${r.verdict}`)).toEqual(['TC-PAR-09 fail', 'TC-PAR-01 pass']);
  expect(summary.exitCode).toBe(EXIT.FAILED);
  const starts = events.filter((e) => e.type === 'case-start' && e.caseId === 'TC-PAR-09');
  expect(starts).toHaveLength(2);
  expect(starts[1]!.type === 'case-start' && starts[1]!.rerun?.reason).toMatch(/event loop stalled/);
  const run = foldEvents(events);
  expect(run.cases.map((c) => `${c.meta.id} ${c.verdict?.verdict}`)).toEqual(['TC-PAR-09 fail', 'TC-PAR-01 pass']);
  expect(run.cases[0]!.notes.map((n) => n.text)).toContainEqual(
    expect.stringMatching(/^run again alone: the first attempt, with other cases in flight, was inconclusive because the harness stalled \(gap: .*\); the event log keeps that attempt$/),
  );
  expect(run.end?.counts.fail).toBe(1);
});

describe('runPool', () => {
  /** Runs `jobs` three lanes wide with job L alone; the log says when each starts (with how many in flight) and ends. */
  async function poolWithLoneL(jobs: string[]): Promise<{ out: (string | undefined)[]; log: string[] }> {
    const log: string[] = [];
    let inFlight = 0;
    const out = await runPool(
      jobs,
      3,
      async (job) => {
        log.push(`start ${job} with ${inFlight} in flight`);
        inFlight += 1;
        for (let i = 0; i < 3; i++) await Promise.resolve();
        inFlight -= 1;
        log.push(`end ${job}`);
        return job.toUpperCase();
      },
      { alone: (job) => job === 'L' },
    );
    return { out, log };
  }

  test('a lone job waits for the jobs in flight to end, and none starts until it is done', async () => {
    const { out, log } = await poolWithLoneL(['a', 'b', 'L', 'c', 'd']);
    expect(out).toEqual(['A', 'B', 'L', 'C', 'D']);
    expect(log.indexOf('start L with 0 in flight')).toBeGreaterThan(Math.max(log.indexOf('end a'), log.indexOf('end b')));
    expect(log.indexOf('start c with 0 in flight')).toBeGreaterThan(log.indexOf('end L'));
  });

  test('a lone job first: the other lanes, started in the same turn, wait for it', async () => {
    const { log } = await poolWithLoneL(['L', 'a', 'b']);
    expect(log.slice(0, 3)).toEqual(['start L with 0 in flight', 'end L', 'start a with 0 in flight']);
    expect(log).toContain('start b with 1 in flight');
  });
});

describe('runPool longest first', () => {
  test('with a weight, lone jobs are taken first, then heaviest first (ties in job order); results stay in job order', async () => {
    const taken: string[] = [];
    const weights: Record<string, number> = { a: 1, b: 5, L: 0, c: 5, d: 9 };
    const out = await runPool(
      ['a', 'b', 'L', 'c', 'd'],
      2,
      async (job) => {
        taken.push(job);
        await Promise.resolve();
        return job.toUpperCase();
      },
      { alone: (job) => job === 'L', weight: (job) => weights[job]! },
    );
    expect(taken).toEqual(['L', 'd', 'b', 'c', 'a']);
    expect(out).toEqual(['A', 'B', 'L', 'C', 'D']);
    expect(takeOrder(['a', 'b', 'c'], {})).toEqual([0, 1, 2]);
  });

  test('equal weights are taken by the tie-break, heaviest first, then in job order', () => {
    // A floor as the weight ties every job that waits out no timer of its own; the budget then orders them.
    const floors: Record<string, number> = { a: 0, b: 0, c: 4, d: 0, e: 0 };
    const budgets: Record<string, number> = { a: 10, b: 30, c: 5, d: 30, e: 20 };
    expect(takeOrder(['a', 'b', 'c', 'd', 'e'], { weight: (j) => floors[j]!, tieBreak: (j) => budgets[j]! })).toEqual([2, 1, 3, 4, 0]);
    expect(takeOrder(['a', 'b', 'c', 'd', 'e'], { tieBreak: (j) => budgets[j]! })).toEqual([0, 1, 2, 3, 4]);
  });

  test('the lightest jobs, spread: after each heavier job, an even share of them, in tie-break order; lone jobs still first', () => {
    const floors: Record<string, number> = { a: 0, b: 5, c: 0, d: 0, e: 9, f: 0, g: 0, L: 0 };
    const budgets: Record<string, number> = { a: 1, c: 3, d: 2, f: 5, g: 4 };
    const jobs = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'L'];
    const order = takeOrder(jobs, { alone: (j) => j === 'L', weight: (j) => floors[j]!, tieBreak: (j) => budgets[j] ?? 0, spreadLightest: true });
    // Five lightest over two heavier jobs: three after the first, the other two after the second.
    expect(order.map((i) => jobs[i])).toEqual(['L', 'e', 'f', 'g', 'c', 'b', 'd', 'a']);
    // All of equal weight: nothing heavier to spread them between, so tie-break order.
    expect(takeOrder(['a', 'c', 'f'], { weight: () => 0, tieBreak: (j) => budgets[j]!, spreadLightest: true }).map((i) => ['a', 'c', 'f'][i])).toEqual(['f', 'c', 'a']);
  });

  test('longest first shortens a run whose long job comes last in job order', async () => {
    // Three lanes, durations in virtual ticks: in job order the 6-tick job starts last.
    const ticks = [2, 2, 2, 2, 2, 2, 6];
    const makespan = async (weight?: (i: number) => number) => {
      const lanes = [0, 0, 0];
      await runPool(
        ticks.map((_, i) => i),
        3,
        async (i) => {
          const lane = lanes.indexOf(Math.min(...lanes));
          lanes[lane]! += ticks[i]!;
          await Promise.resolve();
        },
        weight ? { weight } : {},
      );
      return Math.max(...lanes);
    };
    expect(await makespan()).toBe(10);
    expect(await makespan((i) => ticks[i]!)).toBe(6);
  });
});

describe('--jobs against the profile', () => {
  const exec = (parallel: number) => parseProfile(`schema: geisa-adm-profile/1\ndut: { endpoint: e }\nadapter:\n  kind: exec\n  parallel: ${parallel}\n  actions:\n    start: { exec: "true" }\n`, 'sim.yaml');
  const manual = parseProfile('schema: geisa-adm-profile/1\ndut: { endpoint: e }\nadapter:\n  kind: manual\n  actions:\n    start: { manual: go }\n', 'meter.yaml');

  test("default: the profile's adapter.parallel", () => {
    expect(jobsFor(defaultSimulatorProfile(), undefined)).toEqual({ jobs: defaultSimulatorProfile().adapter.parallel });
    expect(jobsFor(exec(4), undefined)).toEqual({ jobs: 4 });
    expect(jobsFor(manual, undefined)).toEqual({ jobs: 1 });
  });

  test('fewer is taken as asked; more is lowered to what the profile allows, with a note naming why', () => {
    expect(jobsFor(exec(4), 2)).toEqual({ jobs: 2 });
    expect(jobsFor(exec(4), 8)).toEqual({ jobs: 4, note: '--jobs 8 is more than profile sim.yaml allows (adapter.parallel is 4): running 4 cases at once' });
    expect(jobsFor(manual, 3)).toEqual({ jobs: 1, note: '--jobs 3 is more than profile meter.yaml allows (its adapter is manual): running 1 case at once' });
  });
});

describe('device folders of a run against several devices', () => {
  const profile = (source: string, endpoint: string) => ({ ...defaultSimulatorProfile(), source, dut: { name: endpoint, endpoint } });

  test('after the profile file; the endpoint added where two files share a name; never a clash, never hidden, nothing unsafe in a path or URL', () => {
    expect(
      deviceFolders([profile('/lab/acme-x1.yaml', 'urn:dev:a'), profile('/lab/b/meter.yml', 'urn:dev:m1'), profile('/lab/c/meter.yml', 'urn:dev:m2'), profile('/lab/.hidden #1.json', 'e'), profile('/lab/acme-x1.yaml', 'urn:dev:a')]),
    ).toEqual(['acme-x1-urn_dev_a', 'meter-urn_dev_m1', 'meter-urn_dev_m2', 'hidden_1', 'acme-x1-urn_dev_a-2']);
  });
});
