/**
 * Every case passes against the conformant reference device, with a reason that names the
 * exchange it judged — and the evidence holds no secret.
 */
import { ALL_CASES } from '../suites/index.js';
import { explain, runOnSimulator } from './support/simulator-run.js';

describe('the suite against the conformant reference device', () => {
  test('every case passes, without advisory', async () => {
    const ids = ALL_CASES.map((c) => c.meta.id);
    const run = await runOnSimulator(ids);
    for (const id of ids) {
      const v = run.verdicts.get(id);
      expect(`${id}: ${explain(v)}`).toBe(`${id}: pass: ${v?.reason}`);
      expect(v?.advisory).toBeUndefined();
      expect(v!.reason.length).toBeGreaterThan(20);
    }
    expect(run.exitCode).toBe(0);
    // Every case recorded wire evidence.
    for (const id of ids) expect(run.events.some((e) => e.type === 'datagram' && e.caseId === id)).toBe(true);
    const end = run.events.find((e) => e.type === 'run-end');
    expect(end && end.type === 'run-end' && end.interrupted).toBe(false);
  }, 180_000);
});
