/**
 * The self-validation matrix: each seeded defect must break the cases it declares and
 * leave its declared neighbours passing. A case no defect can break is a case that
 * cannot fail, so the lint test also checks every SHALL/SHOULD case is someone's target.
 */
import { DEFECTS } from '../../fixtures/device/defects.js';
import { ALL_CASES } from '../../suites/index.js';
import { explain, isBroken, runOnSimulator } from './simulator-run.js';

export function defectMatrixTests(names: readonly string[]): void {
  for (const name of names) {
    const defect = DEFECTS.find((d) => d.name === name);
    if (!defect) throw new Error(`no defect ${name}`);
    test(`defect ${name} breaks ${defect.breaks.join(', ')} and leaves ${defect.leavesAlone.join(', ')} passing`, async () => {
      const ids = [...defect.breaks, ...defect.leavesAlone];
      const run = await runOnSimulator(ids, name);
      for (const id of defect.breaks) {
        const strength = ALL_CASES.find((c) => c.meta.id === id)!.meta.strength;
        const v = run.verdicts.get(id);
        expect(`${id} broken: ${isBroken(v, strength)} — ${explain(v)}`).toMatch(new RegExp(`^${id} broken: true`));
      }
      for (const id of defect.leavesAlone) {
        const v = run.verdicts.get(id);
        expect(`${id}: ${explain(v)}`).toMatch(new RegExp(`^${id}: pass`));
      }
    }, 240_000);
  }
}

export const ALL_DEFECT_NAMES = DEFECTS.map((d) => d.name);
