/**
 * Runs cases of the real suite against the reference device (spawned from dist/, as the
 * CLI does) and returns the verdict events, and the checks the suite-* tests make of them.
 */
import type { ResultEvent, VerdictEvent } from '../../harness/events/events.js';
import { defaultSimulatorProfile, type Profile } from '../../harness/profile/load.js';
import { createSimulatorAdapter, type SimulatorOptions } from '../../fixtures/simulator/simulator-adapter.js';
import { runSuite } from '../../harness/runner/runner.js';
import { ALL_CASES } from '../../suites/index.js';

export interface SimulatorRun {
  verdicts: Map<string, VerdictEvent>;
  events: ResultEvent[];
  exitCode: number;
}

/**
 * `profile` is what the harness judges against; `device` what the reference device is
 * started with (the same unless a test declares parameters the device does not keep).
 */
export interface SimulatorRunOptions {
  defect?: string | null;
  variant?: SimulatorOptions;
  profile?: Profile;
  device?: Profile;
}

/**
 * Runs `caseIds` against the reference device, as many at once as the device's profile
 * allows (adapter.parallel, as `geisa-adm run` does): each case has its own servers and
 * device, so the verdicts are those of a serial run (test/run-jobs.test.ts compares them).
 */
export async function runCases(caseIds: readonly string[], { defect = null, variant = {}, profile = defaultSimulatorProfile(), device = profile }: SimulatorRunOptions = {}): Promise<SimulatorRun> {
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
    createAdapter: () => createSimulatorAdapter(device, { ...variant, defect }),
    emit: (e) => events.push(e),
    signal: new AbortController().signal,
    strict: false,
    jobs: Math.max(1, Math.min(cases.length, device.adapter.parallel)),
  });
  const verdicts = new Map<string, VerdictEvent>();
  for (const e of events) if (e.type === 'verdict') verdicts.set(e.caseId, e);
  return { verdicts, events, exitCode: summary.exitCode };
}

/** `edit`: a profile variant (e.g. another IXIT) the cases and the adapter both see. */
export function runOnSimulator(caseIds: readonly string[], defect: string | null = null, variant: SimulatorOptions = {}, ics: Record<string, boolean> = {}, edit: (p: Profile) => Profile = (p) => p): Promise<SimulatorRun> {
  const simulator = defaultSimulatorProfile();
  return runCases(caseIds, { defect, variant, profile: edit({ ...simulator, ics: { ...simulator.ics, ...ics } }) });
}

/** Short CoAP parameters, for cases that wait out MAX_TRANSMIT_WAIT: 0.3 s × 15 × 1.5 = 6.75 s. */
export const SHORT_COAP = { ackTimeoutS: 0.3, ackRandomFactor: 1.5, maxRetransmit: 3, nstart: 1 };

/** The simulator profile with other IXIT CoAP parameters, for cases whose windows follow them. */
export function profileWithCoap(coap: Partial<Profile['ixit']['coap']>): Profile {
  const p = defaultSimulatorProfile();
  return { ...p, ixit: { ...p.ixit, coap: { ...p.ixit.coap, ...coap } } };
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

/**
 * A pass without advisory. `explain` names any advisory, so comparing it whole shows the
 * verdict, the reason and the advisory when it is not one.
 */
export function expectPass(caseId: string, v: VerdictEvent | undefined): void {
  expect(`${caseId}: ${explain(v)}`).toBe(`${caseId}: pass: ${v?.reason}`);
  expect(v?.advisory).toBeUndefined();
}

/** What reached the harness in one case, as `endpoint uri-path` (e.g. `bootstrap-server /bs`), in order. */
export function inboundPaths(run: { events: ResultEvent[] }, caseId: string): string[] {
  return run.events.flatMap((e) => (e.type === 'datagram' && e.direction === 'in' && e.caseId === caseId && 'uriPath' in e.decoded ? [`${e.endpoint} ${e.decoded.uriPath}`] : []));
}
