// CI reads the last line of the test run; jest's own totals go to stderr in a form it
// does not parse, and its summary reporter writes after every custom reporter. So the
// counts are written when the process exits, after everything jest prints.
const fs = require('node:fs');

class CountReporter {
  onRunComplete(_contexts, results) {
    // .ci/run prints the install phases; the test phase's time is jest's own, from its start.
    const testSeconds = Math.round((Date.now() - results.startTime) / 1000);
    const passed = results.numPassedTests;
    const failed = () => results.numFailedTests + results.numRuntimeErrorTestSuites + (process.env.GEISA_TEST_SECRETS_LEFT ? 1 : 0);
    const skipped = results.numPendingTests + results.numTodoTests;
    // The counts line stands alone, exactly "N passed, N failed"; skipped tests get their own line before it.
    process.once('exit', () => {
      // Decided at exit: the global teardown (tmpdir-teardown.cjs) runs after this hook.
      const leak = process.env.GEISA_TEST_SECRETS_LEFT ? [`secrets folders left behind by the tests: ${process.env.GEISA_TEST_SECRETS_LEFT}`] : [];
      const lines = [...leak, `phase tests: ${testSeconds} s`, ...(skipped > 0 ? [`${skipped} skipped`] : []), `${passed} passed, ${failed()} failed`];
      fs.writeSync(1, `\n${lines.join('\n')}\n`);
    });
  }
}
module.exports = CountReporter;
