/**
 * Runs cases of the real suite against the reference device (spawned from dist/, as the
 * CLI does) and returns the verdict events. Used by the reference and defect-matrix tests.
 */
import type { ResultEvent, VerdictEvent } from '../../harness/events/events.js';
import { defaultSimulatorProfile, type Profile } from '../../harness/profile/load.js';
import { createSimulatorAdapter, type SimulatorOptions } from '../../harness/dut/simulator-adapter.js';
import { runSuite } from '../../harness/runner/runner.js';
import { ALL_CASES } from '../../suites/index.js';

export interface SimulatorRun {
  verdicts: Map<string, VerdictEvent>;
  events: ResultEvent[];
  exitCode: number;
}

/** `edit`: a profile variant (e.g. another IXIT) the cases and the adapter both see. */
export async function runOnSimulator(caseIds: readonly string[], defect: string | null = null, variant: SimulatorOptions = {}, ics: Record<string, boolean> = {}, edit: (p: Profile) => Profile = (p) => p): Promise<SimulatorRun> {
  const simulator = defaultSimulatorProfile();
  const profile = edit({ ...simulator, ics: { ...simulator.ics, ...ics } });
  const cases = caseIds.map((id) => {
    const c = ALL_CASES.find((x) => x.meta.id === id);
    if (!c) throw new Error(`no case ${id}`);
    return c;
  });
  const events: ResultEvent[] = [];
  const summary = await runSuite({
    cases,
    profile,
    defect,
    createAdapter: () => createSimulatorAdapter(profile, { ...variant, defect }),
    emit: (e) => events.push(e),
    signal: new AbortController().signal,
    strict: false,
  });
  const verdicts = new Map<string, VerdictEvent>();
  for (const e of events) if (e.type === 'verdict') verdicts.set(e.caseId, e);
  return { verdicts, events, exitCode: summary.exitCode };
}

/**
 * A defect "breaks" a case when it fails it, or leaves an advisory (a SHOULD row missed).
 * `strength` 'MUST'/'SHALL' asks for the fail itself.
 */
export function isBroken(v: VerdictEvent | undefined, strength: string): boolean {
  if (!v) return false;
  if (strength === 'SHOULD') return v.verdict === 'fail' || (v.verdict === 'pass' && Boolean(v.advisory));
  return v.verdict === 'fail';
}

export function explain(v: VerdictEvent | undefined): string {
  return v ? `${v.verdict}${v.advisory ? ' (advisory: ' + v.advisory + ')' : ''}: ${v.reason}` : 'no verdict';
}
