/**
 * The case model. A case is one file under suites/: its metadata first, then an async
 * scenario that reads like the message sequence it expects. The runner gives it a fresh
 * CaseContext (own fake servers, own device) each time.
 */
import type { CaseMeta, Strength } from '../events/events.js';
import type { CaseContext } from './context.js';
import type { Budget, Floor } from './budget.js';
import { catalogRow, strongestLevel } from '../catalog/index.js';

export interface ConformanceCase {
  meta: CaseMeta;
  /** How long the case may run, from the device's timers (harness/runner/budget.ts). */
  budget: Budget;
  /** The least time a device that does all the case checks lets it finish in, from the same timers (harness/runner/budget.ts). */
  floor: Floor;
  /**
   * Runs with no other case in flight when a run runs cases in parallel (`--jobs`): for a
   * case whose verdict rests on timing too tight to share the machine with other cases.
   */
  alone?: boolean;
  run(t: CaseContext): Promise<void>;
}

/** What a case file declares: its strength is not declared but derived from the rows it cites. */
export type CaseDefinition = Omit<CaseMeta, 'strength' | 'timeoutMs'> & { budget: Budget; floor: Floor; alone?: boolean };

const CASE_ID = /^TC-[A-Z]+-\d{2}$/;

/** Checks the metadata a report depends on, so a malformed case fails the build, not a run. */
export function defineCase(def: CaseDefinition, run: (t: CaseContext) => Promise<void>): ConformanceCase {
  const { budget, floor, alone, ...rest } = def;
  const problems: string[] = [];
  if (!CASE_ID.test(def.id)) problems.push(`id '${def.id}' is not of the form TC-AREA-NN`);
  if (!def.title.trim()) problems.push('title is empty');
  if (def.requirements.length === 0) problems.push('no requirement ids');
  for (const r of def.requirements) {
    if (!r.id || !r.section || !r.quote) problems.push(`requirement ${r.id || '?'} needs id, section and quote`);
    else if (!catalogRow(r.id)) problems.push(`requirement ${r.id} is not a catalog row (harness/catalog/requirements.ts)`);
  }
  if (typeof budget !== 'function') problems.push('budget must be a function of the device timers');
  if (typeof floor !== 'function') problems.push('floor must be a function of the device timers');
  if (problems.length) throw new Error(`case ${def.id}: ${problems.join('; ')}`);
  const level = strongestLevel(def.requirements.map((r) => r.id));
  // A case citing only open rows is listed at MAY: nothing it sees can fail the device.
  const strength: Strength = level === 'OPEN' ? 'MAY' : level;
  return { meta: { ...rest, strength }, budget, floor, ...(alone ? { alone: true } : {}), run };
}
