// Jest's own order (failed first, then the longest), except that the files reading the
// shared self-test matrix (test/support/shared-matrix.ts) go last: the first of them runs
// the matrix in its worker and the others wait for it, so a worker given one early would
// sit waiting while the rest of the files could have run.
const { readFileSync } = require('node:fs');
const Sequencer = require('@jest/test-sequencer').default;

class MatrixLastSequencer extends Sequencer {
  async sort(tests) {
    const sorted = await super.sort(tests);
    const reads = (t) => readFileSync(t.path, 'utf8').includes('/support/shared-matrix.js');
    return [...sorted.filter((t) => !reads(t)), ...sorted.filter(reads)];
  }
}

module.exports = MatrixLastSequencer;
