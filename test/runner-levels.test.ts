/**
 * Levels on synthetic cases through runSuite, the way a run judges them. Each check names
 * the catalog row it judges and is judged at that row's level, whatever else the case
 * cites: a missed SHALL/MUST row fails the run; a missed SHOULD row is a pass with an
 * advisory; an OPEN row is inconclusive with its clause; a MAY the ICS does not claim is
 * not-applicable; a claimed MAY that fails is a fail; a mandatory feature the ICS says is
 * missing is a fail. Then the expected-failures rules of the exit code.
 */
import type { ActionHooks, DutAction, DutAdapter } from '../harness/dut/adapter.js';
import { defaultSimulatorProfile, type Profile } from '../harness/profile/load.js';
import { defineCase, type ConformanceCase } from '../harness/runner/case.js';
import type { CaseContext } from '../harness/runner/context.js';
import { runSuite } from '../harness/runner/runner.js';
import type { CaseMeta, CheckEvent, ResultEvent, RunEndEvent, VerdictEvent } from '../harness/events/events.js';

/** One catalog row of each level, for synthetic cases. */
const ROW = { SHALL: 'GEISA-ADM-BS-01', MUST: 'LWM2M-CORE-BS-01', SHOULD: 'LWM2M-CORE-BS-02', MAY: 'GEISA-ADM-BS-03', OPEN: 'GEISA-ADM-BS-04', TWO: 'GEISA-ADM-REG-04' } as const;
const ref = (id: string) => ({ id, section: 'test', quote: 'test' });

class InertAdapter implements DutAdapter {
  readonly kind = 'exec' as const;
  supports(action: DutAction): boolean {
    return action !== 'reboot';
  }
  async run(_a: DutAction, _p: unknown, _s: unknown, _h: ActionHooks): Promise<void> {}
  async dispose(): Promise<void> {}
}

let serial = 0;
/** A case citing one row of `strength` (its first requirement), plus any `rows` given. */
function synthetic(over: Omit<Partial<CaseMeta>, 'strength'> & { strength?: keyof typeof ROW; rows?: string[] }, body: (t: CaseContext) => Promise<void>): ConformanceCase {
  serial += 1;
  const { strength = 'SHALL', rows = [], ...rest } = over;
  return defineCase(
    {
      id: `TC-LEVEL-${String(serial).padStart(2, '0')}`,
      title: 'synthetic',
      area: 'bootstrap',
      requirements: [ref(ROW[strength]), ...rows.map(ref)],
      budget: () => 5000,
      floor: () => 0,
      tags: [],
      ...rest,
    },
    body,
  );
}

/** Misses the case's first row. */
const failing = async (t: CaseContext) => {
  t.check(t.meta.requirements[0]!.id, 'the device did what the text asks', false, { expected: 'X', observed: 'Y' });
};
const passing = async (t: CaseContext) => {
  t.check(t.meta.requirements[0]!.id, 'the device did what the text asks', true, { expected: 'X', observed: 'X' });
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
    expect(loose.verdicts[0]!.reason).toBe(`advisory, not a fail: SHOULD not met (${ROW.SHOULD}, advisory): the device did what the text asks: expected X, observed Y`);
    expect(loose.summary.exitCode).toBe(0);
    expect(loose.end.counts.advisory).toBe(1);
    expect((await suite([c], { strict: true })).summary.exitCode).toBe(1);
  });

  test('a SHOULD whose failed check is followed by an early stop is still an advisory, not a fail', async () => {
    const { verdicts, summary } = await suite([
      synthetic({ strength: 'SHOULD' }, async (t) => {
        t.check(ROW.SHOULD, 'fallback Bootstrap-Request', false, { expected: 'a Bootstrap-Request', observed: 'none' });
        t.fail(ROW.SHOULD, 'device went silent afterwards');
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
        t.check(ROW.SHALL, 'other', true, { expected: 'a', observed: 'a' });
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

describe('check-level requirements', () => {
  const checkOf = (events: ResultEvent[], name: string) => events.find((e): e is CheckEvent => e.type === 'check' && e.name === name);

  test('a missed SHOULD row inside a SHALL case is an advisory, not a fail; the check carries its row and level', async () => {
    const { verdicts, summary, events } = await suite([
      synthetic({ rows: [ROW.SHOULD] }, async (t) => {
        t.check(ROW.SHALL, 'the SHALL part', true, { expected: 'a', observed: 'a' });
        t.check(ROW.SHOULD, 'the back-off', false, { expected: '>= 1 s', observed: '10 ms' });
        t.pass('the SHALL part held');
      }),
    ]);
    expect(verdicts[0]!.verdict).toBe('pass');
    expect(verdicts[0]!.reason).toBe('the SHALL part held (with an advisory, not a fail)');
    expect(verdicts[0]!.advisory).toBe(`SHOULD not met (${ROW.SHOULD}, advisory): the back-off: expected >= 1 s, observed 10 ms`);
    expect(summary.exitCode).toBe(0);
    expect(checkOf(events, 'the back-off')).toMatchObject({ requirement: ROW.SHOULD, level: 'SHOULD', ok: false });
    expect(checkOf(events, 'the SHALL part')).toMatchObject({ requirement: ROW.SHALL, level: 'SHALL', ok: true });
  });

  test('a missed MUST row inside a SHOULD case fails it, and the verdict names the row that decided it', async () => {
    const { verdicts, summary } = await suite([
      synthetic({ strength: 'SHOULD', rows: [ROW.MUST] }, async (t) => {
        t.check(ROW.MUST, 'Bootstrap-Request is CON', false, { expected: 'CON', observed: 'NON' });
      }),
    ]);
    expect(verdicts[0]!).toMatchObject({ verdict: 'fail', requirement: ROW.MUST, level: 'MUST' });
    expect(summary.exitCode).toBe(1);
  });

  test('a case is listed at the strongest main level of the rows it cites', () => {
    expect(synthetic({ strength: 'SHOULD', rows: [ROW.MUST] }, passing).meta.strength).toBe('MUST');
    expect(synthetic({ strength: 'SHOULD' }, passing).meta.strength).toBe('SHOULD');
    expect(synthetic({ strength: 'OPEN' }, passing).meta.strength).toBe('MAY');
  });

  test('a missed OPEN row is inconclusive with the clause; t.fail on it too', async () => {
    const { verdicts } = await suite([
      synthetic({ rows: [ROW.OPEN] }, async (t) => {
        t.check(ROW.OPEN, 'ep present', false, { expected: 'ep=', observed: 'none' });
      }),
      synthetic({ rows: [ROW.OPEN] }, async (t) => t.fail(ROW.OPEN, 'no ep over DTLS')),
    ]);
    for (const v of verdicts) {
      expect(v.verdict).toBe('inconclusive');
      expect(v.reason).toContain(`${ROW.OPEN}, test leaves this open`);
      expect(v.requirement).toBe(ROW.OPEN);
    }
  });

  test('a row carrying two levels is judged at the one the check names; a level it does not carry is a harness error', async () => {
    const { verdicts } = await suite([
      synthetic({ strength: 'TWO' }, async (t) => {
        t.check({ row: ROW.TWO, level: 'SHOULD' }, 'first Update near 50 % of the lifetime', false, { expected: '0.4–0.6 lt', observed: '0.9 lt' });
        t.check(ROW.TWO, 'Update before the lifetime expires', true, { expected: '< lt', observed: '0.9 lt' });
      }),
      synthetic({ strength: 'TWO' }, async (t) => {
        t.check({ row: ROW.TWO, level: 'MAY' }, 'x', true, { expected: 'a', observed: 'a' });
      }),
    ]);
    expect(verdicts[0]!.verdict).toBe('pass');
    expect(verdicts[0]!.advisory).toContain('first Update near 50 %');
    expect(verdicts[1]!.verdict).toBe('error');
    expect(verdicts[1]!.reason).toContain(`${ROW.TWO} is SHALL / SHOULD; a check cannot judge it at MAY`);
  });

  test('a check naming a row the case does not cite is a harness error, never a verdict about the device', async () => {
    const { verdicts } = await suite([synthetic({}, async (t) => void t.check(ROW.MUST, 'x', false, { expected: 'a', observed: 'b' }))]);
    expect(verdicts[0]!.verdict).toBe('error');
    expect(verdicts[0]!.reason).toContain(`judges row ${ROW.MUST}, which its metadata does not cite`);
  });

  test('a failure inside a precondition is demoted and no longer names a deciding row', async () => {
    const { verdicts } = await suite([
      synthetic({}, async (t) => {
        await t.precondition('device registered', async () => t.fail(ROW.SHALL, 'no Register'));
      }),
    ]);
    expect(verdicts[0]!.verdict).toBe('inconclusive');
    expect(verdicts[0]!.reason).toBe('precondition not reached (device registered): no Register');
    expect(verdicts[0]!.requirement).toBeUndefined();
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
    t.checkTiming({ req: ROW.SHALL, name: 'gap', observedMs, minMs: 2000, maxMs: 4000, toleranceMs: 50, window: 'Retry Timer 1 s × 2^1' });
  };

  test('a miss the stall can account for is inconclusive; a miss larger than all the stalling is a fail, saying so', async () => {
    const near = await suite([synthetic({}, stallThenCheck(1900))]);
    expect(near.verdicts[0]!.verdict).toBe('inconclusive');
    expect(near.verdicts[0]!.reason).toMatch(/observed 1\.900 s outside 2\.000 s to 4\.000 s .*event loop stalled/);
    const far = await suite([synthetic({}, stallThenCheck(1000))]);
    expect(far.verdicts[0]!.verdict).toBe('fail');
    expect(far.verdicts[0]!.reason).toMatch(/observed 1\.000 s \(off by 1\.000 s: more than the tolerance plus all \d+\.\d ms the harness's event loop stalled during the case\) \(tolerance ±50\.0 ms\)/);
  });

  const block = (ms: number) => {
    const until = performance.now() + ms;
    while (performance.now() < until) {
      // the harness's own loop is blocked
    }
  };
  const tick = () => new Promise((r) => setTimeout(r, 40));

  test('with a span, only the stalls around the measured interval can excuse a miss', async () => {
    // A 1.2 s stall, then an interval measured well after it: a 1 s miss stands (judged
    // against the whole case's stalling it would be inconclusive).
    const before = await suite([
      synthetic({}, async (t) => {
        await tick();
        block(1200);
        await tick();
        await tick();
        const fromNs = process.hrtime.bigint();
        await tick();
        const toNs = process.hrtime.bigint();
        t.checkTiming({ req: ROW.SHALL, name: 'gap', observedMs: 1000, minMs: 2000, maxMs: 4000, toleranceMs: 50, window: 'Retry Timer 1 s × 2^1', span: { fromNs, toNs } });
      }),
    ]);
    expect(before.verdicts[0]!.verdict).toBe('fail');
    expect(before.verdicts[0]!.reason).toMatch(/expected 2\.000 s to 4\.000 s \(Retry Timer 1 s × 2\^1\), observed 1\.000 s/);
    // The same stall inside the interval: the miss cannot be told from it.
    const inside = await suite([
      synthetic({}, async (t) => {
        await tick();
        const fromNs = process.hrtime.bigint();
        await tick();
        block(150);
        await tick();
        const toNs = process.hrtime.bigint();
        t.checkTiming({ req: ROW.SHALL, name: 'gap', observedMs: 1900, minMs: 2000, maxMs: 4000, toleranceMs: 50, window: 'Retry Timer 1 s × 2^1', span: { fromNs, toNs } });
      }),
    ]);
    expect(inside.verdicts[0]!.verdict).toBe('inconclusive');
    expect(inside.verdicts[0]!.reason).toMatch(/event loop stalled \d+\.\d ms while this interval was measured, which can account for the miss/);
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
