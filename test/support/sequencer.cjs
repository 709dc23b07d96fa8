// Jest's own order (failed first, then the longest), except:
//  - one file reading the shared self-test matrix goes first: it runs the matrix (a minute
//    or two of protocol waits, little CPU) in its worker while the other worker takes the
//    rest of the files;
//  - the slow tier's files (*.slow.test.ts, real-time minutes each) go first, so the
//    longest single file never starts last and stretches the run;
//  - the other files reading it (sharedMatrix(), matrixRun(), matrixVerdict(),
//    expectReferencePasses() or matrixTest() of test/support/shared-matrix.ts) go last:
//    they wait for the matrix, so a worker given one early would sit waiting while the
//    rest of the files could have run.
const { readFileSync } = require('node:fs');
const Sequencer = require('@jest/test-sequencer').default;

class MatrixLastSequencer extends Sequencer {
  async sort(tests) {
    const sorted = await super.sort(tests);
    const reads = (t) => /\b(sharedMatrix|matrixRun|matrixVerdict|expectReferencePasses|matrixTest)\(/.test(readFileSync(t.path, 'utf8'));
    const slow = (t) => t.path.endsWith('.slow.test.ts');
    const runner = sorted.find((t) => t.path.endsWith('/defect-matrix.test.ts')) ?? sorted.find(reads);
    const rank = (t) => (t === runner ? -1 : reads(t) ? 2 : slow(t) ? 0 : 1);
    return [...sorted].sort((a, b) => rank(a) - rank(b));
  }
}

module.exports = MatrixLastSequencer;
