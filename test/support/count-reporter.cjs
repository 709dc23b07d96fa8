// CI reads the last line of the test run; jest's own totals go to stderr in a form it
// does not parse, so this reporter prints the counts alone on a line on stdout.
class CountReporter {
  onRunComplete(_contexts, results) {
    const passed = results.numPassedTests;
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = skipped > 0 ? `${passed} passed, ${failed} failed, ${skipped} skipped` : `${passed} passed, ${failed} failed`;
    process.stdout.write(`\n${line}\n`);
  }
}
module.exports = CountReporter;
