/**
 * Levels (issue 4 item 4) on synthetic cases through runSuite, the way a run judges them:
 * a failed SHALL/MUST fails the run; a failed SHOULD is a pass with an advisory; a MAY
 * the ICS does not claim is not-applicable and never counted as a pass; a claimed MAY
 * that fails is a fail; a mandatory feature the ICS says is missing is a fail; a spec-open
 * point is inconclusive with its clause. Then the expected-failures rules of the exit code.
 */
import type { ActionHooks, DutAction, DutAdapter } from '../harness/dut/adapter.js';
import { defaultSimulatorProfile, type Profile } from '../harness/profile/load.js';
import { defineCase, type ConformanceCase } from '../harness/runner/case.js';
import type { CaseContext } from '../harness/runner/context.js';
import { runSuite } from '../harness/runner/runner.js';
import type { CaseMeta, ResultEvent, RunEndEvent, VerdictEvent } from '../harness/results/events.js';

class InertAdapter implements DutAdapter {
  readonly kind = 'exec' as const;
  supports(action: DutAction): boolean {
    return action !== 'reboot';
  }
  async run(_a: DutAction, _p: unknown, _s: unknown, _h: ActionHooks): Promise<void> {}
  async dispose(): Promise<void> {}
}

let serial = 0;
function synthetic(over: Partial<CaseMeta>, body: (t: CaseContext) => Promise<void>): ConformanceCase {
  serial += 1;
  return defineCase(
    {
      id: `TC-LEVEL-${String(serial).padStart(2, '0')}`,
      title: 'synthetic',
      area: 'bootstrap',
      requirements: [{ id: 'GEISA-ADM-BS-01', section: 'test', quote: 'test' }],
      strength: 'SHALL',
      timeoutMs: 5000,
      tags: [],
      ...over,
    },
    body,
  );
}

const failing = async (t: CaseContext) => {
  t.check('the device did what the text asks', false, { expected: 'X', observed: 'Y' });
};
const passing = async (t: CaseContext) => {
  t.check('the device did what the text asks', true, { expected: 'X', observed: 'X' });
  t.pass('observed X');
};

async function suite(cases: ConformanceCase[], opts: { ics?: Record<string, boolean>; strict?: boolean; expected?: Map<string, string> } = {}) {
  const events: ResultEvent[] = [];
  const profile: Profile = { ...defaultSimulatorProfile(), ics: opts.ics ?? {} };
  const summary = await runSuite({
    cases,
    profile,
    defect: null,
    createAdapter: () => new InertAdapter(),
    emit: (e) => events.push(e),
    signal: new AbortController().signal,
    strict: opts.strict ?? false,
    ...(opts.expected ? { expectedFailures: opts.expected } : {}),
  });
  const verdicts = events.filter((e): e is VerdictEvent => e.type === 'verdict');
  const end = events.find((e): e is RunEndEvent => e.type === 'run-end')!;
  return { summary, verdicts, end, events };
}

describe('levels', () => {
  test('a failed SHALL fails the run, and so does a failed MUST', async () => {
    for (const strength of ['SHALL', 'MUST'] as const) {
      const { verdicts, summary } = await suite([synthetic({ strength }, failing)]);
      expect(`${strength}: ${verdicts[0]!.verdict}`).toBe(`${strength}: fail`);
      expect(verdicts[0]!.reason).toBe('the device did what the text asks: expected X, observed Y');
      expect(summary.exitCode).toBe(1);
    }
  });

  test('a failed SHOULD is a pass with an advisory: exit 0, exit 1 only with --strict', async () => {
    const c = synthetic({ strength: 'SHOULD' }, failing);
    const loose = await suite([c]);
    expect(loose.verdicts[0]!.verdict).toBe('pass');
    expect(loose.verdicts[0]!.advisory).toContain('expected X, observed Y');
    expect(loose.verdicts[0]!.reason).toMatch(/^SHOULD not met \(advisory, not a fail\)/);
    expect(loose.summary.exitCode).toBe(0);
    expect(loose.end.counts.advisory).toBe(1);
    expect((await suite([c], { strict: true })).summary.exitCode).toBe(1);
  });

  test('a SHOULD whose failed check is followed by an early stop is still an advisory, not a fail', async () => {
    const { verdicts, summary } = await suite([
      synthetic({ strength: 'SHOULD' }, async (t) => {
        t.check('fallback Bootstrap-Request', false, { expected: 'a Bootstrap-Request', observed: 'none' });
        t.inconclusive('device went silent afterwards');
      }),
    ]);
    expect(verdicts[0]!.verdict).toBe('pass');
    expect(verdicts[0]!.advisory).toContain('fallback Bootstrap-Request');
    expect(summary.exitCode).toBe(0);
  });

  test('a MAY the ICS does not claim is not-applicable, never counted as a pass, and its body never runs', async () => {
    let ran = false;
    const { verdicts, end, summary } = await suite([
      synthetic({ strength: 'MAY', ics: 'content-format.tlv' }, async (t) => {
        ran = true;
        await passing(t);
      }),
    ]);
    expect(ran).toBe(false);
    expect(verdicts[0]!.verdict).toBe('not-applicable');
    expect(verdicts[0]!.reason).toContain("does not claim optional feature 'content-format.tlv'");
    expect(end.counts.pass).toBe(0);
    expect(end.counts['not-applicable']).toBe(1);
    expect(summary.exitCode).toBe(0);
  });

  test('a MAY the ICS claims runs: failing is a fail that fails the run, passing a pass', async () => {
    const ics = { 'content-format.tlv': true };
    const bad = await suite([synthetic({ strength: 'MAY', ics: 'content-format.tlv' }, failing)], { ics });
    expect(bad.verdicts[0]!.verdict).toBe('fail');
    expect(bad.summary.exitCode).toBe(1);
    const good = await suite([synthetic({ strength: 'MAY', ics: 'content-format.tlv' }, passing)], { ics });
    expect(good.verdicts[0]!.verdict).toBe('pass');
    expect(good.end.counts.pass).toBe(1);
  });

  test('a mandatory feature the ICS says is missing is a fail, not a skip, and the body never runs', async () => {
    let ran = false;
    const { verdicts, summary } = await suite(
      [
        synthetic({ strength: 'SHALL', ics: 'server.communication-retry' }, async (t) => {
          ran = true;
          await passing(t);
        }),
      ],
      { ics: { 'server.communication-retry': false } },
    );
    expect(ran).toBe(false);
    expect(verdicts[0]!.verdict).toBe('fail');
    expect(verdicts[0]!.reason).toContain("mandatory feature 'server.communication-retry' as not supported (LWM2M-CORE-RETRY-01)");
    expect(summary.exitCode).toBe(1);
  });

  test('a point the spec leaves open is inconclusive with its clause, never fail; a real failure still wins', async () => {
    const open = await suite([
      synthetic({}, async (t) => {
        t.specOpen('GEISA adm/bootstrap.rst "ToDo" (catalog O-5)', 'Bootstrap-Request without ep');
        t.check('other', true, { expected: 'a', observed: 'a' });
      }),
    ]);
    expect(open.verdicts[0]!.verdict).toBe('inconclusive');
    expect(open.verdicts[0]!.reason).toContain('GEISA adm/bootstrap.rst "ToDo" (catalog O-5) leaves this open');
    expect(open.summary.exitCode).toBe(0);
    expect((await suite([synthetic({}, async (t) => t.specOpen('O-5', 'x'))], { strict: true })).summary.exitCode).toBe(1);

    const both = await suite([
      synthetic({}, async (t) => {
        t.specOpen('O-5', 'no ep');
        await failing(t);
      }),
    ]);
    expect(both.verdicts[0]!.verdict).toBe('fail');
  });
});

describe('timing under load', () => {
  const stallThenCheck = (observedMs: number) => async (t: CaseContext) => {
    await new Promise((r) => setImmediate(r));
    const until = performance.now() + 150;
    while (performance.now() < until) {
      // the harness's own loop is blocked for 150 ms
    }
    await new Promise((r) => setImmediate(r));
    t.checkTiming({ name: 'gap', observedMs, minMs: 2000, maxMs: 4000, toleranceMs: 50, window: 'Retry Timer 1 s × 2^1' });
  };

  test('a miss the stall can account for is inconclusive; a miss larger than all the stalling is a fail, saying so', async () => {
    const near = await suite([synthetic({}, stallThenCheck(1900))]);
    expect(near.verdicts[0]!.verdict).toBe('inconclusive');
    expect(near.verdicts[0]!.reason).toMatch(/observed 1\.900 s outside 2\.000 s to 4\.000 s .*event loop stalled/);
    const far = await suite([synthetic({}, stallThenCheck(1000))]);
    expect(far.verdicts[0]!.verdict).toBe('fail');
    expect(far.verdicts[0]!.reason).toMatch(/observed 1\.000 s \(off by 1\.000 s: more than the tolerance plus all \d+\.\d ms the harness's event loop stalled\) \(tolerance ±50\.0 ms\)/);
  });
});

describe('expected failures', () => {
  test('a listed case that fails does not fail the run and its verdict says it was expected', async () => {
    const c = synthetic({}, failing);
    const { verdicts, summary, end } = await suite([c, synthetic({}, passing)], { expected: new Map([[c.meta.id, 'firmware 1.4 bug, JIRA-12']]) });
    expect(verdicts[0]!.verdict).toBe('fail');
    expect(verdicts[0]!.expectedFailure).toEqual({ reason: 'firmware 1.4 bug, JIRA-12', stale: false });
    expect(verdicts[1]!.expectedFailure).toBeUndefined();
    expect(summary.exitCode).toBe(0);
    expect(end.counts.expectedFailure).toBe(1);
    const start = (await suite([c], { expected: new Map([[c.meta.id, 'r']]) })).events.find((e) => e.type === 'run-start');
    expect(start && start.type === 'run-start' && start.expectedFailures).toEqual({ [c.meta.id]: 'r' });
  });

  test('an unlisted failure still fails the run', async () => {
    const listed = synthetic({}, failing);
    const other = synthetic({}, failing);
    const { summary } = await suite([listed, other], { expected: new Map([[listed.meta.id, 'known']]) });
    expect(summary.exitCode).toBe(1);
  });

  test('a listed case that passes is stale: reported, exit 0, exit 1 with --strict', async () => {
    const c = synthetic({}, passing);
    const loose = await suite([c], { expected: new Map([[c.meta.id, 'was broken in 1.3']]) });
    expect(loose.verdicts[0]!.expectedFailure).toEqual({ reason: 'was broken in 1.3', stale: true });
    expect(loose.end.counts.stale).toBe(1);
    expect(loose.summary.exitCode).toBe(0);
    expect((await suite([c], { strict: true, expected: new Map([[c.meta.id, 'x']]) })).summary.exitCode).toBe(1);
  });

  test('with --strict a listed advisory or inconclusive is forgiven too; an error never is', async () => {
    const should = synthetic({ strength: 'SHOULD' }, failing);
    const open = synthetic({}, async (t) => t.specOpen('O-5', 'x'));
    const broken = synthetic({}, async () => {
      throw new TypeError('harness bug');
    });
    const expected = new Map([
      [should.meta.id, 'a'],
      [open.meta.id, 'b'],
    ]);
    expect((await suite([should, open], { strict: true, expected })).summary.exitCode).toBe(0);
    const err = await suite([broken], { expected: new Map([[broken.meta.id, 'c']]) });
    expect(err.verdicts[0]!.verdict).toBe('error');
    expect(err.verdicts[0]!.expectedFailure).toBeUndefined();
    expect(err.summary.exitCode).toBe(3);
  });
});
