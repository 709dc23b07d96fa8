/**
 * The self-test matrix machinery: what it plans, how it judges a cell, how it shards, that
 * the pool is bounded, that a cell the loaded harness could not time is run again alone
 * (and says so), and that a misdeclared defect shows as survived and collateral against
 * the real reference device. Then `geisa-adm selftest` as a user runs it.
 */
import { bundledDevice } from '../fixtures/simulator/simulator-adapter.js';
import { defineCase, type ConformanceCase } from '../harness/runner/case.js';
import type { CaseContext } from '../harness/runner/context.js';
import type { Strength } from '../harness/events/events.js';
import { explainCell, judgeCell, planMatrix, runMatrix, shardDefects, type MatrixDefect } from '../harness/selftest/matrix.js';
import { runPool } from '../harness/runner/pool.js';
import { renderMatrix } from '../harness/selftest/render.js';
import { findCase } from '../suites/index.js';
import { cliSync } from './support/cli-child.js';

function fake(id: string, opts: { tags?: string[]; strength?: Strength } = {}, body: (t: CaseContext) => Promise<void> = async (t) => t.pass('synthetic pass')): ConformanceCase {
  // A row of the strength asked for: the case's strength is derived from the rows it cites.
  const row = { SHALL: 'GEISA-ADM-BS-01', MUST: 'LWM2M-CORE-BS-01', SHOULD: 'LWM2M-CORE-BS-02', MAY: 'GEISA-ADM-BS-03' }[opts.strength ?? 'SHALL'];
  return defineCase({ id, title: id, area: 'bootstrap', requirements: [{ id: row, section: 's', quote: 'q' }], budget: () => 5000, floor: () => 0, tags: opts.tags ?? [] }, body);
}

describe('planning and judging', () => {
  const cases = [fake('TC-A-01'), fake('TC-A-02'), fake('TC-A-03', { tags: ['slow'] }), fake('TC-A-04', { tags: ['slow'] })];
  const defects: MatrixDefect[] = [
    { name: 'd1', breaks: ['TC-A-01'], leavesAlone: ['TC-A-02'] },
    { name: 'd2', breaks: ['TC-A-03'], leavesAlone: ['TC-A-01'] },
  ];
  const plan = (scope: 'declared' | 'full') => planMatrix({ cases, defects, scope }).map((j) => `${j.defect ?? 'ref'}:${j.c.meta.id}:${j.role}`);

  test('declared: the reference row (slow cases only where a defect declares them), then each defect against its own lists', () => {
    expect(plan('declared')).toEqual(['ref:TC-A-01:reference', 'ref:TC-A-02:reference', 'ref:TC-A-03:reference', 'd1:TC-A-01:breaks', 'd1:TC-A-02:leavesAlone', 'd2:TC-A-03:breaks', 'd2:TC-A-01:leavesAlone']);
  });

  test('skipReference leaves a case out of the reference row only: a defect that declares it still runs it', () => {
    const jobs = planMatrix({ cases, defects, scope: 'declared', slowReference: 'all', skipReference: ['TC-A-03'] }).map((j) => `${j.defect ?? 'ref'}:${j.c.meta.id}:${j.role}`);
    expect(jobs).toEqual(['ref:TC-A-01:reference', 'ref:TC-A-02:reference', 'ref:TC-A-04:reference', 'd1:TC-A-01:breaks', 'd1:TC-A-02:leavesAlone', 'd2:TC-A-03:breaks', 'd2:TC-A-01:leavesAlone']);
  });

  test('full: every defect against every other non-slow case too, as undeclared cells', () => {
    // Slow TC-A-03/04 enter only where declared; d1 already covers both non-slow cases.
    expect(plan('full')).toEqual([...plan('declared'), 'd2:TC-A-02:undeclared']);
  });

  test('a case is killed by a fail, or by the advisory of a SHOULD row it missed (checks are judged per row, whatever the case strength); a left-alone case must pass without advisory', () => {
    expect(judgeCell('breaks', 'SHALL', 'fail', undefined)).toEqual({ outcome: 'killed', ok: true });
    expect(judgeCell('breaks', 'SHALL', 'pass', 'late Update')).toEqual({ outcome: 'killed', ok: true });
    expect(judgeCell('breaks', 'SHALL', 'pass', undefined)).toEqual({ outcome: 'survived', ok: false });
    expect(judgeCell('breaks', 'SHALL', 'inconclusive', undefined)).toEqual({ outcome: 'survived', ok: false });
    expect(judgeCell('breaks', 'SHOULD', 'pass', 'no fallback')).toEqual({ outcome: 'killed', ok: true });
    expect(judgeCell('breaks', 'MAY', 'not-applicable', undefined)).toEqual({ outcome: 'survived', ok: false });
    expect(judgeCell('leavesAlone', 'SHALL', 'pass', undefined)).toEqual({ outcome: 'pass', ok: true });
    expect(judgeCell('leavesAlone', 'SHOULD', 'pass', 'no fallback')).toEqual({ outcome: 'collateral', ok: false });
    expect(judgeCell('leavesAlone', 'SHALL', 'error', undefined)).toEqual({ outcome: 'collateral', ok: false });
    expect(judgeCell('reference', 'MAY', 'not-applicable', undefined)).toEqual({ outcome: 'not-applicable', ok: true });
    expect(judgeCell('reference', 'SHALL', 'inconclusive', undefined)).toEqual({ outcome: 'other', ok: false });
    expect(judgeCell('undeclared', 'SHALL', 'fail', undefined)).toEqual({ outcome: 'killed', ok: true });
  });

  test('shards cover every defect once, in equal work', () => {
    const many: MatrixDefect[] = Array.from({ length: 9 }, (_, i) => ({ name: `d${i}`, breaks: ['x'], leavesAlone: Array.from({ length: i % 4 }, () => 'y') }));
    const shards = [0, 1, 2].map((i) => shardDefects(many, 3, i));
    expect(
      shards
        .flat()
        .map((d) => d.name)
        .sort(),
    ).toEqual(many.map((d) => d.name).sort());
    const work = shards.map((s) => s.reduce((n, d) => n + d.breaks.length + d.leavesAlone.length, 0));
    expect(Math.max(...work) - Math.min(...work)).toBeLessThanOrEqual(2);
    expect(shardDefects(many, 3, 1)).toEqual(shardDefects(many, 3, 1));
  });
});

test('the pool never has more than its bound in flight and keeps job order', async () => {
  let inFlight = 0;
  let peak = 0;
  const out = await runPool([5, 4, 3, 2, 1, 0], 2, async (n) => {
    inFlight += 1;
    peak = Math.max(peak, inFlight);
    for (let i = 0; i < n; i++) await Promise.resolve();
    inFlight -= 1;
    return n * 10;
  });
  expect(out).toEqual([50, 40, 30, 20, 10, 0]);
  expect(peak).toBe(2);
});

test('a timing check the stalled harness could not judge is run again alone, and both attempts are reported', async () => {
  let attempts = 0;
  const stalls = fake('TC-A-05', {}, async (t) => {
    attempts += 1;
    await new Promise((r) => setImmediate(r));
    const until = performance.now() + 120;
    while (performance.now() < until) {
      // the harness's own loop is blocked: its timestamps cannot be trusted
    }
    await new Promise((r) => setImmediate(r));
    // 50 ms short: beyond the tolerance, within what the 120 ms stall can account for
    t.checkTiming({ req: t.meta.requirements[0]!.id, name: 'gap', observedMs: 950, minMs: 1000, maxMs: 2000, toleranceMs: 20, window: 'synthetic' });
  });
  const result = await runMatrix({ createDevice: bundledDevice, cases: [stalls], defects: [], concurrency: 2 });
  expect(attempts).toBe(2);
  const cell = result.cells[0]!;
  expect(cell.stalledAttempt?.verdict).toBe('inconclusive');
  expect(cell.verdict).toBe('inconclusive');
  expect(explainCell(cell)).toMatch(/run again alone: first attempt inconclusive: .*event loop stalled/);
  expect(renderMatrix(result, ['TC-A-05'])).toContain('were run again alone');
  expect(result.ok).toBe(false);
});

test('against the reference device, a misdeclared defect shows as survived and collateral, with verdicts and reasons', async () => {
  // no-update really breaks TC-REG-02 and leaves TC-REG-01 alone: declared the other way round.
  const cases = [findCase('TC-REG-01')!, findCase('TC-REG-02')!];
  const result = await runMatrix({ createDevice: bundledDevice, cases, defects: [{ name: 'no-update', breaks: ['TC-REG-01'], leavesAlone: ['TC-REG-02'] }], reference: false, concurrency: 2 });
  const text = result.cells.map(explainCell);
  expect(text[0]).toMatch(/^no-update × TC-REG-01 \(breaks, SHALL\): survived — pass: /);
  expect(text[1]).toMatch(/^no-update × TC-REG-02 \(leavesAlone, SHALL\): collateral — fail: .*Update/);
  expect(result.ok).toBe(false);
  const table = renderMatrix(result, ['TC-REG-01', 'TC-REG-02']);
  expect(table).toMatch(/no-update\s+S C\s+NOT OK/);
  expect(table).toContain('SELFTEST FAILED');
}, 120_000);

describe('geisa-adm selftest', () => {
  const cli = (args: string[]) => cliSync(args, { timeoutMs: 180_000 });

  test('runs the declared matrix for the chosen defects and cases, prints the table, exit 0 when all holds', () => {
    const r = cli(['selftest', '--defects', 'no-update', '--cases', 'TC-REG-01,TC-REG-02']);
    expect(r.stdout).toMatch(/\(reference device\)\s+\. \.\s+ok/);
    expect(r.stdout).toMatch(/no-update\s+\. K\s+ok/);
    expect(r.stdout).toContain('SELFTEST OK');
    expect(r.status).toBe(0);
  }, 180_000);

  test('an unknown defect or case pattern is a usage error', () => {
    const r = cli(['selftest', '--defects', 'no-such-*']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--defects 'no-such-*' matches nothing; known: ");
    expect(cli(['selftest', '--cases', 'TC-NOPE-*']).status).toBe(2);
  });
});
