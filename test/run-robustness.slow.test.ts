/**
 * The slow tier's run-then-verify: 20 in a row, three at a time (the fast tier does two
 * rounds in run-robustness.test.ts). A manifest that verifies only most of the time shows
 * up here.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUN_VERIFY_OK, runThenVerify } from './support/run-verify.js';

test('run then verify passes 20 times in a row (3 at a time)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geisa-run-verify-'));
  try {
    const lines = await runThenVerify(dir, 20);
    expect(lines.filter((l) => !RUN_VERIFY_OK.test(l))).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 300_000);
