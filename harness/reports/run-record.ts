/**
 * Folds the flat result-event stream into one object per run, so each report renders from
 * the same grouping and the same rules for cases the run never finished.
 */
import type {
  CaseMeta,
  CaseStartEvent,
  CheckEvent,
  DatagramEvent,
  DeviceIdentityEvent,
  NoteEvent,
  ResultEvent,
  RunEndEvent,
  RunStartEvent,
  Verdict,
  VerdictEvent,
} from '../events/events.js';
import { VERDICT_RANK } from '../events/events.js';
import { countResults, INTERRUPTED_REASON } from '../runner/exit-code.js';

export interface CaseRecord {
  meta: CaseMeta;
  start: CaseStartEvent;
  datagrams: DatagramEvent[];
  checks: CheckEvent[];
  notes: NoteEvent[];
  /** What the device said it is (/3/0), when the case read it. */
  identities: DeviceIdentityEvent[];
  /** null when the run stopped before the case reached a verdict. */
  verdict: VerdictEvent | null;
}

export interface RunRecord {
  start: RunStartEvent | null;
  /**
   * In the run's selection order (run-start's case list), whatever order the cases started
   * or ended in when they ran in parallel; cases it does not list follow in case-start order.
   */
  cases: CaseRecord[];
  end: RunEndEvent | null;
  /** True when the run said so, when it never ended, or when a case never finished. */
  interrupted: boolean;
  /** Notes not tied to a case (caseId null). */
  notes: NoteEvent[];
  /**
   * Case-scoped events naming a case that never started. Kept rather than dropped so a
   * report can say the log is inconsistent instead of silently losing evidence.
   */
  stray: ResultEvent[];
}

export { INTERRUPTED_REASON };

export function foldEvents(events: readonly ResultEvent[]): RunRecord {
  const run: RunRecord = { start: null, cases: [], end: null, interrupted: false, notes: [], stray: [] };
  // A case id that starts twice (a rerun) collects events into its latest record.
  const open = new Map<string, CaseRecord>();

  for (const e of events) {
    switch (e.type) {
      case 'run-start':
        run.start ??= e;
        break;
      case 'run-end':
        run.end = e;
        break;
      case 'case-start': {
        const rec: CaseRecord = { meta: e.meta, start: e, datagrams: [], checks: [], notes: [], identities: [], verdict: null };
        // A stalled attempt run again alone gives way to the new attempt (the log keeps both).
        const earlier = e.rerun ? open.get(e.caseId) : undefined;
        if (earlier) run.cases.splice(run.cases.indexOf(earlier), 1);
        run.cases.push(rec);
        open.set(e.caseId, rec);
        break;
      }
      case 'note':
        if (e.caseId === null) run.notes.push(e);
        else withCase(open, run, e.caseId, e, (c) => c.notes.push(e));
        break;
      case 'datagram':
        withCase(open, run, e.caseId, e, (c) => c.datagrams.push(e));
        break;
      case 'check':
        withCase(open, run, e.caseId, e, (c) => c.checks.push(e));
        break;
      case 'device-identity':
        withCase(open, run, e.caseId, e, (c) => c.identities.push(e));
        break;
      case 'verdict':
        withCase(open, run, e.caseId, e, (c) => {
          // Two verdicts for one case is a harness bug; the worse one is the safe reading.
          if (c.verdict === null || VERDICT_RANK[e.verdict] > VERDICT_RANK[c.verdict.verdict]) c.verdict = e;
        });
        break;
    }
  }

  // The wire recorder holds back the end of a flood until the case flushes it, so a
  // case's datagrams are put in wire order here (stable: same-instant ones keep theirs).
  for (const c of run.cases) {
    const at = c.datagrams.map((d) => parseMonoNs(d.monoNs));
    if (at.some((t, i) => i > 0 && t !== null && at[i - 1] !== null && t < at[i - 1]!)) {
      const order = c.datagrams.map((d, i) => ({ d, t: at[i] ?? 0n, i }));
      order.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : a.i - b.i));
      c.datagrams = order.map((o) => o.d);
    }
  }

  if (run.start) {
    const rank = new Map(run.start.cases.map((id, i) => [id, i]));
    // Array.prototype.sort is stable: a rerun keeps its place after the first attempt.
    const last = rank.size;
    run.cases.sort((a, b) => (rank.get(a.meta.id) ?? last) - (rank.get(b.meta.id) ?? last));
  }
  run.interrupted = run.end === null || run.end.interrupted || run.cases.some((c) => c.verdict === null);
  return run;
}

function withCase(open: Map<string, CaseRecord>, run: RunRecord, caseId: string, e: ResultEvent, add: (c: CaseRecord) => void): void {
  const c = open.get(caseId);
  if (c) add(c);
  else run.stray.push(e);
}

/** How a report should show a case, including one that never got a verdict. */
export interface CaseOutcome {
  verdict: Verdict;
  reason: string;
  advisory?: string;
  durationMs: number;
  finished: boolean;
}

export function caseOutcome(c: CaseRecord, run?: RunRecord): CaseOutcome {
  if (c.verdict) {
    const { verdict, reason, advisory, durationMs } = c.verdict;
    return advisory !== undefined ? { verdict, reason, advisory, durationMs, finished: true } : { verdict, reason, durationMs, finished: true };
  }
  return { verdict: 'error', reason: INTERRUPTED_REASON, durationMs: unfinishedDurationMs(c, run), finished: false };
}

/**
 * Without a verdict there is no measured duration; the last sign of life (the case's own
 * last event, or the run's end) is the best lower bound an auditor can be given.
 */
function unfinishedDurationMs(c: CaseRecord, run?: RunRecord): number {
  const start = parseMonoNs(c.start.monoNs);
  if (start === null) return 0;
  let last = start;
  const stamps = [...c.datagrams, ...c.checks, ...c.notes].map((e) => e.monoNs);
  if (run?.end) stamps.push(run.end.monoNs);
  for (const s of stamps) {
    const t = parseMonoNs(s);
    if (t !== null && t > last) last = t;
  }
  return Number(last - start) / 1e6;
}

export function parseMonoNs(s: string): bigint | null {
  if (!/^-?\d+$/.test(s)) return null;
  return BigInt(s);
}

export type Tally = Record<Verdict, number> & { advisory: number; total: number };

/**
 * Counted from the cases rather than taken from run-end: an interrupted run may have no
 * run-end, and the unfinished cases count as errors there too.
 */
export function tally(run: RunRecord): Tally {
  // The rule run-end is counted by (runner/exit-code.ts), on the same outcomes every report shows.
  const counts = countResults(run.cases.map((c) => ({ strength: c.meta.strength, ...caseOutcome(c, run) })));
  return { pass: counts.pass, fail: counts.fail, error: counts.error, inconclusive: counts.inconclusive, 'not-applicable': counts['not-applicable'], advisory: counts.advisory, total: run.cases.length };
}

/** Display name and endpoint from the (redacted) profile, which events.ts types as unknown. */
export function dutIdentity(run: RunRecord): { name: string | null; endpoint: string | null } {
  const profile = run.start?.profile;
  const dut = isObject(profile) ? profile['dut'] : undefined;
  if (!isObject(dut)) return { name: null, endpoint: null };
  const endpoint = typeof dut['endpoint'] === 'string' ? dut['endpoint'] : null;
  const name = typeof dut['name'] === 'string' ? dut['name'] : endpoint;
  return { name, endpoint };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
