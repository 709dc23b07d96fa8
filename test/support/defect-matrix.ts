/**
 * The self-validation matrix in npm test: each seeded defect must kill the cases it
 * declares broken and leave its declared neighbours passing. It runs through runMatrix,
 * the code behind `geisa-adm selftest`, with the cells of one shard in parallel; the
 * defects are split into shards of equal work so jest puts each file on its own worker.
 */
import { DEFECTS } from '../../fixtures/device/defects.js';
import { ALL_CASES } from '../../suites/index.js';
import { DEFAULT_CONCURRENCY, explainCell, runMatrix, shardDefects, type MatrixResult } from '../../harness/selftest/matrix.js';

/**
 * Per test file: jest runs two files at once, so half the CLI's default keeps the same
 * load. GEISA_SELFTEST_CONCURRENCY overrides it (e.g. 1 to debug a flaky cell).
 */
export function matrixConcurrency(): number {
  const env = Number(process.env['GEISA_SELFTEST_CONCURRENCY']);
  return Number.isInteger(env) && env >= 1 ? env : Math.max(1, Math.floor(DEFAULT_CONCURRENCY / 2));
}

/** Generous bound for a whole shard; each cell is bounded by its case timeout. */
const SHARD_BOUND_MS = 25 * 60_000;

export function defectMatrixShard(index: number, count: number): void {
  const defects = shardDefects(DEFECTS, count, index);
  let result: MatrixResult | undefined;

  beforeAll(async () => {
    result = await runMatrix({ cases: ALL_CASES, defects, scope: 'declared', reference: false, concurrency: matrixConcurrency() });
    process.stdout.write(`defect matrix shard ${index + 1}/${count}: ${result.cells.length} cells, ${defects.length} defects, ${(result.wallMs / 1000).toFixed(1)} s at ${result.concurrency} in parallel\n`);
  }, SHARD_BOUND_MS);

  test('the shard ran every declared cell', () => {
    const declared = defects.reduce((n, d) => n + d.breaks.length + d.leavesAlone.length, 0);
    expect(result?.interrupted).toBe(false);
    expect(result?.cells.length).toBe(declared);
  });

  for (const d of defects) {
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
}
