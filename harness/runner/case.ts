/**
 * The case model. A case is one file under suites/: its metadata first, then an async
 * scenario that reads like the message sequence it expects. The runner gives it a fresh
 * CaseContext (own fake servers, own device) each time.
 */
import type { CaseMeta } from '../results/events.js';
import type { CaseContext } from './context.js';

export interface ConformanceCase {
  meta: CaseMeta;
  run(t: CaseContext): Promise<void>;
}

const CASE_ID = /^TC-[A-Z]+-\d{2}$/;

/** Checks the metadata a report depends on, so a malformed case fails the build, not a run. */
export function defineCase(meta: CaseMeta, run: (t: CaseContext) => Promise<void>): ConformanceCase {
  const problems: string[] = [];
  if (!CASE_ID.test(meta.id)) problems.push(`id '${meta.id}' is not of the form TC-AREA-NN`);
  if (!meta.title.trim()) problems.push('title is empty');
  if (meta.requirements.length === 0) problems.push('no requirement ids');
  for (const r of meta.requirements) {
    if (!r.id || !r.section || !r.quote) problems.push(`requirement ${r.id || '?'} needs id, section and quote`);
  }
  if (!(meta.timeoutMs > 0)) problems.push('timeoutMs must be > 0');
  if (problems.length) throw new Error(`case ${meta.id}: ${problems.join('; ')}`);
  return { meta, run };
}
