/**
 * The self-validation matrix in npm test: each seeded defect must kill the cases it
 * declares broken and leave its declared neighbours passing. The cells come from the run
 * shared by this jest run (test/support/shared-matrix.ts: runMatrix, the code behind
 * `geisa-adm selftest`, every declared cell in parallel); this file judges every one.
 */
import { DEFECTS } from '../fixtures/device/defects.js';
import { explainCell, type MatrixResult } from '../harness/selftest/matrix.js';
import { SHARED_MATRIX_BOUND_MS, sharedMatrix } from './support/shared-matrix.js';

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

  for (const d of DEFECTS) {
    test(`defect ${d.name} kills ${d.breaks.join(', ')} and leaves ${d.leavesAlone.join(', ')} passing`, () => {
      const cells = result!.cells.filter((c) => c.defect === d.name);
      expect(cells.map((c) => c.caseId).sort()).toEqual([...d.breaks, ...d.leavesAlone].sort());
      for (const c of cells) {
        // The message names the case, the defect, the verdict and its reason.
        const want = c.role === 'breaks' ? 'killed' : 'pass';
        expect(explainCell(c)).toContain(`${c.caseId} (${c.role}, ${c.strength}): ${want} — `);
      }
    });
  }
});
