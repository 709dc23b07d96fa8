/**
 * Runs a list of cases and emits the run's result events, one case at a time or up to
 * `jobs` at once. Cases are independent (own servers on their own ports, own device
 * instance, own state folder), so an interrupted run still has a complete record of every
 * case that finished. Every event of a case carries its id, so events of concurrent cases
 * interleave in the log yet stay attributable; the reports list cases in selection order
 * (run-start's list), whatever order they ran in. A parallel case whose timing the harness
 * could not judge because its own event loop stalled is run once more, alone, at the end.
 */
import { getMaxListeners, setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import type { ResultEvent, RunEndEvent, VerdictEvent } from '../events/events.js';
import { RESULT_SCHEMA_VERSION } from '../events/events.js';
import { type Profile, redactProfile } from '../profile/load.js';
import type { DutAdapter } from '../dut/adapter.js';
import type { ConformanceCase } from './case.js';
import { runCase } from './run-case.js';
import { CaseStop } from './outcome.js';
import { countResults, exitCodeFor, expectationOf, INTERRUPTED_REASON, type CaseResult } from './exit-code.js';
import { gitCommit, toolVersion } from './tool-info.js';
import { runPool } from './pool.js';
import type { PortSource } from './port-block.js';
import { deviceTimers, type DeviceTimers } from './budget.js';
import { HARNESS_STALL } from './context.js';

export interface RunOptions {
  cases: ConformanceCase[];
  profile: Profile;
  defect: string | null;
  createAdapter: (stateDir: string) => DutAdapter;
  emit: (e: ResultEvent) => void;
  signal: AbortSignal;
  strict: boolean;
  workDir?: string;
  /** Called when a case starts, for the live status line. */
  onCaseStart?: (c: ConformanceCase) => void;
  /** Selected but left out because they are slow (recorded in run-start, for the reports). */
  slowNotRun?: readonly string[];
  /** From --expected-failures: case id → reason; see exit-code.ts. */
  expectedFailures?: ReadonlyMap<string, string>;
  /**
   * Cases in flight at once (default 1). Only for a device that can be instantiated once per
   * case (profile adapter.parallel); a case marked `alone` still runs with nothing else.
   */
  jobs?: number;
  /** Run notes the caller adds to every report (e.g. which shard of the selection this is). */
  notes?: readonly string[];
  /** The run's port block (port-block.ts) the cases' servers bind in; absent: OS-chosen ports. */
  ports?: PortSource;
  /** A case's bound paused while an operator acts (what is awaited), or resumed (undefined). */
  onCasePause?: (caseId: string, awaiting: string | undefined) => void;
}

export interface RunSummary {
  results: (CaseResult & { id: string; reason: string })[];
  interrupted: boolean;
  exitCode: number;
}

export async function runSuite(opts: RunOptions): Promise<RunSummary> {
  opts.emit({
    type: 'run-start',
    schema: RESULT_SCHEMA_VERSION,
    toolVersion: toolVersion(),
    gitCommit: gitCommit(),
    startedAt: new Date().toISOString(),
    monoNs: process.hrtime.bigint().toString(),
    host: hostname(),
    profile: redactProfile(opts.profile),
    defect: opts.defect,
    cases: opts.cases.map((c) => c.meta.id),
    ...(opts.slowNotRun?.length ? { slowNotRun: [...opts.slowNotRun] } : {}),
    ...(opts.expectedFailures?.size ? { expectedFailures: Object.fromEntries(opts.expectedFailures) } : {}),
  });
  // The verdict event says whether an expected-failures entry forgave it or is stale, so
  // every report renders the same judgement.
  const emit = (e: ResultEvent) => {
    if (e.type === 'verdict' && opts.expectedFailures) {
      const v = e;
      const strength = opts.cases.find((c) => c.meta.id === v.caseId)?.meta.strength ?? 'SHALL';
      const x = expectationOf({ strength, verdict: v.verdict, advisory: v.advisory }, opts.strict, opts.expectedFailures.get(v.caseId));
      if (x) e = { ...v, expectedFailure: x };
    }
    opts.emit(e);
  };
  for (const text of opts.notes ?? []) opts.emit({ type: 'note', caseId: null, source: 'harness', text, monoNs: process.hrtime.bigint().toString() });
  const jobs = opts.jobs ?? 1;
  if (!(Number.isInteger(jobs) && jobs >= 1)) throw new Error(`jobs must be a whole number >= 1, got ${jobs}`);
  if (jobs > 1) {
    // Every case in flight listens on the run's signal (its runner and its case): not a leak.
    // Added to what is there: several devices' suites may share one signal.
    setMaxListeners(getMaxListeners(opts.signal) + jobs * 4, opts.signal);
    // Said in every report: a timing verdict was taken with other cases loading the machine
    // (the loop-stall guard of each case covers the harness's share of that).
    const lone = opts.cases.filter((c) => c.alone).map((c) => c.meta.id);
    opts.emit({
      type: 'note',
      caseId: null,
      source: 'harness',
      text: `cases ran up to ${jobs} at once, each with its own fake servers (on their own ports) and its own device instance${lone.length ? `; ${lone.join(', ')} ran with no other case in flight` : ''}`,
      monoNs: process.hrtime.bigint().toString(),
    });
  }
  let interrupted = false;
  // In parallel, cases that must run alone go first, before the pool fills, so none waits
  // for it to drain; the rest longest first by floor (the least time the case takes on a
  // conformant device, from the timers it writes or waits out), so the long cases do not
  // end up last with the other lanes idle. The budget, an upper bound with every
  // retransmission, ranked cases that wait out little ahead of ones that wait out a lifetime;
  // it only breaks ties between equal floors (most cases floor at the hold-off alone). Those
  // cases are spread between the others rather than left to the end: they are mostly a
  // device start-up (CPU), all six lanes of them at once contend for two cores, and some
  // take far longer than their floor on a given device (its own DTLS handshake timeout).
  // Serially, selection order. Reports list cases in selection order.
  const indices = opts.cases.map((_, i) => i);
  // Only an order: a floor or budget that cannot be computed counts as none; the case meets its own error when it runs.
  const orderBy = (of: (c: ConformanceCase, k: DeviceTimers) => number) => (i: number) => {
    try {
      return of(opts.cases[i]!, deviceTimers(opts.profile.ixit));
    } catch {
      return 0;
    }
  };
  const ran = await runPool(
    indices,
    jobs,
    async (i): Promise<CaseOutcome> => {
      const c = opts.cases[i]!;
      opts.onCaseStart?.(c);
      try {
        const v = await runCase(c, {
          profile: opts.profile,
          createAdapter: opts.createAdapter,
          emit,
          signal: opts.signal,
          workDir: opts.workDir,
          ...(opts.ports ? { ports: opts.ports } : {}),
          onPause: (awaiting) => opts.onCasePause?.(c.meta.id, awaiting),
        });
        return resultOf(c, v);
      } catch (e) {
        if (e instanceof CaseStop) {
          // It started (its case-start is in the log) and has no verdict: every report counts
          // it as an error, so run-end does too.
          interrupted = true;
          return interruptedResult(c);
        }
        throw e;
      }
    },
    { signal: opts.signal, alone: (i) => opts.cases[i]!.alone === true, ...(jobs > 1 ? { weight: orderBy((c, k) => c.floor(k)), tieBreak: orderBy((c, k) => c.budget(k)), spreadLightest: true } : {}) },
  );
  // A timing the harness could not judge because its own loop stalled (other cases loading
  // the machine) is tried once more with nothing else in flight, as the self-test does.
  if (jobs > 1) {
    for (const i of indices) {
      const first = ran[i];
      if (opts.signal.aborted || !first || first.verdict !== 'inconclusive' || !first.reason.includes(HARNESS_STALL)) continue;
      const c = opts.cases[i]!;
      opts.onCaseStart?.(c);
      const rerunEmit = (e: ResultEvent) => {
        if (e.type !== 'case-start' || e.caseId !== c.meta.id) return emit(e);
        emit({ ...e, rerun: { reason: first.reason } });
        emit({
          type: 'note',
          caseId: c.meta.id,
          source: 'harness',
          text: `run again alone: the first attempt, with other cases in flight, was inconclusive because the harness stalled (${first.reason}); the event log keeps that attempt`,
          monoNs: process.hrtime.bigint().toString(),
        });
      };
      try {
        const v = await runCase(c, {
          profile: opts.profile,
          createAdapter: opts.createAdapter,
          emit: rerunEmit,
          signal: opts.signal,
          workDir: opts.workDir,
          ...(opts.ports ? { ports: opts.ports } : {}),
          onPause: (awaiting) => opts.onCasePause?.(c.meta.id, awaiting),
        });
        ran[i] = resultOf(c, v);
      } catch (e) {
        if (!(e instanceof CaseStop)) throw e;
        interrupted = true;
        ran[i] = interruptedResult(c);
      }
    }
  }
  // In selection order, whatever order they ran in; a case the interrupt kept from starting is absent.
  const results = ran.filter((r): r is CaseOutcome => r !== undefined);
  if (results.length < opts.cases.length) interrupted = true;
  const counts = countResults(results, opts.strict, opts.expectedFailures);
  const exitCode = exitCodeFor(results, opts.strict, interrupted, opts.expectedFailures);
  const end: RunEndEvent = { type: 'run-end', interrupted, at: new Date().toISOString(), monoNs: process.hrtime.bigint().toString(), counts, exitCode };
  opts.emit(end);
  return { results, interrupted, exitCode };
}

type CaseOutcome = RunSummary['results'][number];

function resultOf(c: ConformanceCase, v: VerdictEvent): CaseOutcome {
  return { id: c.meta.id, strength: c.meta.strength, verdict: v.verdict, reason: v.reason, ...(v.advisory ? { advisory: v.advisory } : {}) };
}

function interruptedResult(c: ConformanceCase): CaseOutcome {
  return { id: c.meta.id, strength: c.meta.strength, verdict: 'error', reason: INTERRUPTED_REASON };
}
