// Every test run gets a temp folder of its own (TMPDIR, inherited by the jest workers and
// every process a test spawns), so that the teardown can tell what this run left behind
// from what other runs on the machine are doing.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

module.exports = async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geisa-jest-'));
  process.env.GEISA_TEST_TMPDIR = dir;
  process.env.TMPDIR = dir;
};
