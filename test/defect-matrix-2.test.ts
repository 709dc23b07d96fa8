import { ALL_DEFECT_NAMES, defectMatrixTests } from './support/defect-matrix.js';

describe('seeded defects (second half)', () => {
  defectMatrixTests(ALL_DEFECT_NAMES.filter((_n, i) => i % 2 === 1));
});
