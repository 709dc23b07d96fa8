// Jest's own order (failed first, then the longest), except:
//  - the slow tier's files (*.slow.test.ts, real-time minutes each) go first, so the
//    longest single file never starts last and stretches the run;
//  - the files reading the shared self-test matrix (sharedMatrix() / matrixRun() of
//    test/support/shared-matrix.ts) go last: the first of them runs the matrix in its
//    worker and the others wait for it, so a worker given one early would sit waiting
//    while the rest of the files could have run.
const { readFileSync } = require('node:fs');
const Sequencer = require('@jest/test-sequencer').default;

class MatrixLastSequencer extends Sequencer {
  async sort(tests) {
    const sorted = await super.sort(tests);
    const reads = (t) => /\b(sharedMatrix|matrixRun)\(/.test(readFileSync(t.path, 'utf8'));
    const slow = (t) => t.path.endsWith('.slow.test.ts');
    const rank = (t) => (reads(t) ? 2 : slow(t) ? 0 : 1);
    return [...sorted].sort((a, b) => rank(a) - rank(b));
  }
}

module.exports = MatrixLastSequencer;
