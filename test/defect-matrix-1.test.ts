import { ALL_DEFECT_NAMES, defectMatrixTests } from './support/defect-matrix.js';

// Split in two files so jest runs the halves on both cores.
describe('seeded defects (first half)', () => {
  defectMatrixTests(ALL_DEFECT_NAMES.filter((_n, i) => i % 2 === 0));
});
