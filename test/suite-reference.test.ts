/**
 * Every case passes against the conformant reference device (slow cases too: the simulator
 * profile's short timers make them quick), with a reason that names the exchange it
 * judged and wire evidence. Cells run in parallel through the self-test matrix.
 */
import { ALL_CASES } from '../suites/index.js';
import { DEFAULT_CONCURRENCY, explainCell, runMatrix } from '../harness/selftest/matrix.js';

describe('the suite against the conformant reference device', () => {
  test('every case passes, without advisory, with wire evidence', async () => {
    const withDatagrams = new Set<string>();
    const result = await runMatrix({
      cases: ALL_CASES,
      defects: [],
      slowReference: 'all',
      // Passing cases wait out their whole windows (defect cells mostly fail early), so this
      // file is the longest: it takes the CLI's pool size, beside one matrix shard at half.
      concurrency: Number(process.env['GEISA_SELFTEST_CONCURRENCY']) || DEFAULT_CONCURRENCY,
      onEvent: (_defect, e) => {
        if (e.type === 'datagram') withDatagrams.add(e.caseId);
      },
    });
    const slowest = [...result.cells].sort((a, b) => b.durationMs - a.durationMs).slice(0, 5);
    process.stdout.write(`reference run: ${result.cells.length} cases in ${(result.wallMs / 1000).toFixed(1)} s at ${result.concurrency} in parallel; longest ${slowest.map((c) => `${c.caseId} ${(c.durationMs / 1000).toFixed(1)} s`).join(', ')}\n`);
    expect(result.interrupted).toBe(false);
    expect(result.cells.map((c) => c.caseId)).toEqual(ALL_CASES.map((c) => c.meta.id));
    for (const c of result.cells) {
      expect(explainCell(c)).toContain(`reference × ${c.caseId} (reference, ${c.strength}): pass — pass: `);
      expect(`${c.caseId} reason: ${c.reason.length > 20}`).toBe(`${c.caseId} reason: true`);
      expect(`${c.caseId} wire evidence: ${withDatagrams.has(c.caseId)}`).toBe(`${c.caseId} wire evidence: true`);
    }
    expect(result.ok).toBe(true);
  }, 15 * 60_000);
});
