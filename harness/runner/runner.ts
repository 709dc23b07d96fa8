/**
 * Runs a list of cases one after the other and emits the run's result events. Cases are
 * independent (own servers, own device), so an interrupted run still has a complete
 * record of every case that finished.
 */
import { hostname } from 'node:os';
import type { ResultEvent, RunEndEvent } from '../results/events.js';
import { RESULT_SCHEMA_VERSION } from '../results/events.js';
import { type Profile, redactProfile } from '../profile/load.js';
import type { DutAdapter } from '../dut/adapter.js';
import type { ConformanceCase } from './case.js';
import { runCase } from './run-case.js';
import { CaseStop } from './outcome.js';
import { countResults, exitCodeFor, expectationOf, INTERRUPTED_REASON, type CaseResult } from './exit-code.js';
import { gitCommit, toolVersion } from './tool-info.js';

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
  const results: RunSummary['results'] = [];
  let interrupted = false;
  for (const c of opts.cases) {
    if (opts.signal.aborted) {
      interrupted = true;
      break;
    }
    opts.onCaseStart?.(c);
    try {
      const v = await runCase(c, { profile: opts.profile, createAdapter: opts.createAdapter, emit, signal: opts.signal, workDir: opts.workDir });
      results.push({ id: c.meta.id, strength: c.meta.strength, verdict: v.verdict, reason: v.reason, ...(v.advisory ? { advisory: v.advisory } : {}) });
    } catch (e) {
      if (e instanceof CaseStop) {
        // It started (its case-start is in the log) and has no verdict: every report counts
        // it as an error, so run-end does too.
        results.push({ id: c.meta.id, strength: c.meta.strength, verdict: 'error', reason: INTERRUPTED_REASON });
        interrupted = true;
        break;
      }
      throw e;
    }
  }
  const counts = countResults(results, opts.strict, opts.expectedFailures);
  const exitCode = exitCodeFor(results, opts.strict, interrupted, opts.expectedFailures);
  const end: RunEndEvent = { type: 'run-end', interrupted, at: new Date().toISOString(), monoNs: process.hrtime.bigint().toString(), counts, exitCode };
  opts.emit(end);
  return { results, interrupted, exitCode };
}
