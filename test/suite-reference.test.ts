/**
 * Every case passes against the conformant reference device (slow cases too: the simulator
 * profile's short timers make them quick), with a reason that names the exchange it
 * judged and wire evidence. The reference row of the shared self-test run
 * (test/support/shared-matrix.ts); the cases whose floor is minutes even on those timers
 * are in suite-reference.slow.test.ts. No case's floor is above what the reference device
 * takes: a floor is the least a conformant device lets the case finish in.
 */
import { ALL_CASES } from '../suites/index.js';
import { explainCell } from '../harness/selftest/matrix.js';
import { deviceTimers } from '../harness/runner/budget.js';
import { defaultSimulatorProfile } from '../harness/profile/load.js';
import { FLOOR_TOLERANCE_MS, SLOW_TIER_REFERENCE, belowFloor, cellKey, cellsOf, sharedMatrix, matrixTest } from './support/shared-matrix.js';

describe('the suite against the conformant reference device', () => {
  matrixTest('every case passes, without advisory, with wire evidence', async () => {
    const { result, events } = await sharedMatrix();
    const cells = result.cells.filter((c) => c.defect === null);
    const slowest = [...cells].sort((a, b) => b.durationMs - a.durationMs).slice(0, 5);
    process.stdout.write(`reference row: ${cells.length} cases; longest ${slowest.map((c) => `${c.caseId} ${(c.durationMs / 1000).toFixed(1)} s`).join(', ')}\n`);
    expect(result.interrupted).toBe(false);
    expect(cells.map((c) => c.caseId)).toEqual(ALL_CASES.map((c) => c.meta.id).filter((id) => !SLOW_TIER_REFERENCE.includes(id)));
    for (const c of cells) {
      const withDatagrams = (events[cellKey(null, c.caseId)] ?? []).some((e) => e.type === 'datagram');
      expect(explainCell(c)).toContain(`reference × ${c.caseId} (reference, ${c.strength}): pass — pass: `);
      expect(`${c.caseId} reason: ${c.reason.length > 20}`).toBe(`${c.caseId} reason: true`);
      expect(`${c.caseId} wire evidence: ${withDatagrams}`).toBe(`${c.caseId} wire evidence: true`);
    }
    expect(cells.every((c) => c.ok)).toBe(true);
  });

  matrixTest(`every case takes at least its floor on the reference device (tolerance ${FLOOR_TOLERANCE_MS} ms)`, async () => {
    const cells = [...cellsOf(await sharedMatrix(), null).values()];
    const k = deviceTimers(defaultSimulatorProfile().ixit);
    const floors = new Map(ALL_CASES.map((c) => [c.meta.id, c.floor(k)]));
    const sum = (ms: number[]) => (ms.reduce((a, b) => a + b, 0) / 1000).toFixed(1);
    process.stdout.write(`reference row: Σ durations ${sum(cells.map((c) => c.durationMs))} s, Σ floors ${sum(cells.map((c) => floors.get(c.caseId)!))} s\n`);
    // Not vacuous: the row holds the cases that wait out lifetimes, retry timers and silent windows.
    expect(cells.filter((c) => floors.get(c.caseId)! >= 3000).length).toBeGreaterThanOrEqual(20);
    expect(belowFloor(cells)).toEqual([]);
  });
});
