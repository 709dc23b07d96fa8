import { defectMatrixShard } from './support/defect-matrix.js';

// The declared matrix in four shards of equal work (about 90 cells each today): jest runs
// two files at a time and balances small files better than two long ones.
describe('seeded defects (shard 3 of 4)', () => {
  defectMatrixShard(2, 4);
});
