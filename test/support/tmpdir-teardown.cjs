// A test that leaves a geisa-secrets-* folder behind leaves PSKs or private keys in the
// machine's temp directory: the run fails, naming it. The run's temp folder goes in any case.
const fs = require('node:fs');

module.exports = async () => {
  const dir = process.env.GEISA_TEST_TMPDIR;
  if (!dir) return;
  let left = [];
  try {
    left = fs.readdirSync(dir).filter((name) => name.startsWith('geisa-secrets-'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (left.length > 0) {
    // Read by count-reporter.cjs, whose counts line CI parses and which prints at exit, after this.
    process.env.GEISA_TEST_SECRETS_LEFT = left.join(' ');
    throw new Error(`the tests left ${left.length} secrets folder(s) in the temp directory (removed now): ${left.join(', ')}`);
  }
};
