/**
 * A bounded pool: at most `concurrency` jobs in flight, results in job order. Cases wait
 * mostly on protocol timers, so more jobs than cores is fine up to the point where CPU
 * bursts (device process start-up, DTLS handshakes) stall the harness's event loop.
 *
 * Jobs are taken strictly in one order, so whatever a job does first (a case-start event)
 * happens in that order too: job order, or with `weight` longest first (LPT), so that a
 * long job is not the last one still running while the other lanes idle (equal weights
 * by `tieBreak`, then job order). Results stay in job order either way. A job `alone` says
 * so is started only once nothing else is in flight, and nothing else starts until it is done: its timing is then judged with no
 * other case loading the machine. Lone jobs are taken first when there is a `weight`, so
 * none waits for a full pool to drain.
 */
export interface PoolOptions<J> {
  /** Stop taking new jobs once aborted; jobs in flight are left to end by themselves. */
  signal?: AbortSignal;
  /** Jobs that must run with nothing else in flight. */
  alone?: (job: J) => boolean;
  /**
   * How long a job is expected to take (any unit, compared only): jobs are then taken
   * heaviest first, ties in job order.
   */
  weight?: (job: J) => number;
  /**
   * Orders jobs of equal weight, heaviest first, before job order: a weight that is a lower
   * bound leaves many jobs tied (every case that waits out no timer of its own).
   */
  tieBreak?: (job: J) => number;
  /**
   * Spread the lightest jobs (those tied at the least weight) evenly between the others
   * instead of leaving them to the end. For cases: those that wait out no timer of their
   * own are mostly CPU (a device start-up) where the others mostly wait; taken last, they
   * run in every lane at once and contend for fewer cores than lanes.
   */
  spreadLightest?: boolean;
}

/** The order jobs are taken in: job order, or lone jobs first then heaviest first. */
export function takeOrder<J>(jobs: readonly J[], opts: Pick<PoolOptions<J>, 'alone' | 'weight' | 'tieBreak' | 'spreadLightest'> = {}): number[] {
  const indices = jobs.map((_, i) => i);
  const { weight, tieBreak, alone } = opts;
  if (!weight) return indices;
  const lone = indices.map((i) => (alone?.(jobs[i]!) ? 1 : 0));
  const w = indices.map((i) => weight(jobs[i]!));
  const tie = indices.map((i) => tieBreak?.(jobs[i]!) ?? 0);
  // Array.prototype.sort is stable: equal weights and tie-breaks keep job order.
  const sorted = indices.sort((a, b) => lone[b]! - lone[a]! || w[b]! - w[a]! || tie[b]! - tie[a]!);
  if (!opts.spreadLightest) return sorted;
  const least = Math.min(...w);
  const lightest = sorted.filter((i) => !lone[i] && w[i] === least);
  const others = sorted.filter((i) => lone[i] || w[i] !== least);
  const heavy = others.filter((i) => !lone[i]).length;
  const perHeavy = heavy ? Math.ceil(lightest.length / heavy) : lightest.length;
  const order: number[] = [];
  for (const i of others) {
    order.push(i);
    if (!lone[i]) order.push(...lightest.splice(0, perHeavy));
  }
  return [...order, ...lightest];
}

export async function runPool<J, R>(jobs: readonly J[], concurrency: number, work: (job: J, index: number) => Promise<R>, opts: PoolOptions<J> = {}): Promise<(R | undefined)[]> {
  if (!(concurrency >= 1)) throw new Error(`pool concurrency must be >= 1, got ${concurrency}`);
  const { signal, alone } = opts;
  const results: (R | undefined)[] = new Array(jobs.length).fill(undefined);
  const order = takeOrder(jobs, opts);
  let next = 0;
  let failure: unknown;
  let running = 0;
  // A lone job has been taken: no lane takes another job until it is done.
  let solo = false;
  let waiters: (() => void)[] = [];
  const changed = () => {
    const w = waiters;
    waiters = [];
    for (const wake of w) wake();
  };
  const changedOnce = () => new Promise<void>((resolve) => waiters.push(resolve));
  const lane = async (): Promise<void> => {
    for (;;) {
      // Checked and acted on in the same turn: another lane may take a lone job meanwhile.
      while (solo) await changedOnce();
      if (next >= jobs.length || failure !== undefined || signal?.aborted) return;
      const i = order[next++]!;
      const lone = concurrency > 1 && (alone?.(jobs[i]!) ?? false);
      if (lone) {
        solo = true;
        while (running > 0) await changedOnce();
      }
      running += 1;
      try {
        results[i] = await work(jobs[i]!, i);
      } catch (e) {
        failure ??= e;
      } finally {
        running -= 1;
        if (lone) solo = false;
        changed();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, lane));
  if (failure !== undefined) throw failure;
  return results;
}
