/**
 * The slow tier's share of the reference row: cases whose floor is minutes of real time
 * even on the simulator profile (TC-RETRY-07: the LwM2M default Retry Timer of 60 s,
 * doubling). They pass on the reference device with wire evidence, and the reason shows
 * the spec-default spacing.
 */
import { bundledDevice } from '../fixtures/simulator/simulator-adapter.js';
import { explainCell, runMatrix } from '../harness/selftest/matrix.js';
import { ALL_CASES } from '../suites/index.js';
import { SLOW_TIER_REFERENCE, belowFloor } from './support/shared-matrix.js';

test(
  `${SLOW_TIER_REFERENCE.join(', ')} pass on the reference device with the spec-default timers, with wire evidence`,
  async () => {
    const withDatagrams = new Set<string>();
    const result = await runMatrix({
      createDevice: bundledDevice,
      cases: ALL_CASES.filter((c) => SLOW_TIER_REFERENCE.includes(c.meta.id)),
      defects: [],
      slowReference: 'all',
      concurrency: SLOW_TIER_REFERENCE.length,
      onEvent: (_defect, e) => {
        if (e.type === 'datagram') withDatagrams.add(e.caseId);
      },
    });
    expect(result.cells.map((c) => c.caseId)).toEqual(SLOW_TIER_REFERENCE);
    for (const c of result.cells) {
      expect(explainCell(c)).toContain(`reference × ${c.caseId} (reference, ${c.strength}): pass — pass: `);
      expect(`${c.caseId} wire evidence: ${withDatagrams.has(c.caseId)}`).toBe(`${c.caseId} wire evidence: true`);
    }
    expect(result.cells.find((c) => c.caseId === 'TC-RETRY-07')?.reason).toMatch(/^with \/1\/x\/17-20 absent, 3 rejected Register attempts spaced 60\.\d+ s, 120\.\d+ s/);
    expect(belowFloor(result.cells)).toEqual([]);
    expect(result.ok).toBe(true);
  },
  8 * 60_000,
);
