/**
 * Verdict rules of the runner, on synthetic cases with a device adapter that does nothing:
 * worst wins, failed SHOULD is an advisory, a missed precondition is inconclusive, a
 * stalled harness cannot fail a timing check, the ICS gates applicability.
 */
import dgram from 'node:dgram';
import type { ActionHooks, DutAction, DutAdapter } from '../harness/dut/adapter.js';
import { AdapterError } from '../harness/dut/adapter.js';
import { defaultSimulatorProfile, type Profile } from '../harness/profile/load.js';
import { defineCase, type CaseDefinition, type ConformanceCase } from '../harness/runner/case.js';
import type { CaseContext } from '../harness/runner/context.js';
import { runCase } from '../harness/runner/run-case.js';
import { CoapTimeoutError } from '../harness/coap/endpoint.js';
import { exitCodeFor } from '../harness/runner/exit-code.js';
import type { ResultEvent, VerdictEvent } from '../harness/events/events.js';

class InertAdapter implements DutAdapter {
  readonly kind = 'exec' as const;
  disposed = 0;
  constructor(private readonly failOn?: DutAction) {}
  supports(action: DutAction): boolean {
    return action !== 'reboot';
  }
  async run(action: DutAction, _p: unknown, _s: unknown, hooks: ActionHooks): Promise<void> {
    hooks.note('adapter', `ran ${action}`);
    if (action === this.failOn) throw new AdapterError(action, 'vendor tool exited with code 3');
  }
  async dispose(): Promise<void> {
    this.disposed += 1;
  }
}

const SHALL_ROW = 'GEISA-ADM-BS-01';
const SHOULD_ROW = 'LWM2M-CORE-BS-02';

function meta(over: Partial<CaseDefinition> = {}): CaseDefinition {
  return {
    id: 'TC-TEST-01',
    title: 'synthetic',
    area: 'bootstrap',
    requirements: [{ id: SHALL_ROW, section: 'test', quote: 'test' }],
    budget: () => 5000,
    floor: () => 0,
    tags: [],
    ...over,
  };
}

async function run(c: ConformanceCase, opts: { profile?: Profile; adapter?: InertAdapter } = {}): Promise<{ v: VerdictEvent; events: ResultEvent[]; adapter: InertAdapter }> {
  const events: ResultEvent[] = [];
  const adapter = opts.adapter ?? new InertAdapter();
  const v = await runCase(c, { profile: opts.profile ?? defaultSimulatorProfile(), createAdapter: () => adapter, emit: (e) => events.push(e), signal: new AbortController().signal });
  return { v, events, adapter };
}

describe('runCase verdicts', () => {
  test('all checks held: pass with the case reason; the adapter is disposed', async () => {
    const { v, events, adapter } = await run(
      defineCase(meta(), async (t: CaseContext) => {
        t.check(SHALL_ROW, 'one', true, { expected: 'a', observed: 'a' });
        t.pass('observed the exchange');
      }),
    );
    expect(v.verdict).toBe('pass');
    expect(v.reason).toBe('observed the exchange');
    expect(adapter.disposed).toBe(1);
    expect(events.filter((e) => e.type === 'check')).toHaveLength(1);
  });

  test('a failed check fails the case and the reason quotes expected and observed', async () => {
    const { v } = await run(
      defineCase(meta(), async (t: CaseContext) => {
        t.check(SHALL_ROW, 'Bootstrap-Request is Confirmable', false, { expected: 'CON', observed: 'NON' });
        t.check(SHALL_ROW, 'other', true, { expected: 'x', observed: 'x' });
      }),
    );
    expect(v.verdict).toBe('fail');
    expect(v.reason).toBe('Bootstrap-Request is Confirmable: expected CON, observed NON');
  });

  test('a failed SHOULD case is a pass with an advisory', async () => {
    const { v } = await run(
      defineCase(meta({ requirements: [{ id: SHOULD_ROW, section: 'test', quote: 'test' }] }), async (t: CaseContext) => {
        t.fail(SHOULD_ROW, 'no fallback Bootstrap-Request');
      }),
    );
    expect(v.verdict).toBe('pass');
    expect(v.advisory).toContain('no fallback Bootstrap-Request');
    expect(exitCodeFor([{ strength: 'SHOULD', verdict: v.verdict, advisory: v.advisory }], false)).toBe(0);
    expect(exitCodeFor([{ strength: 'SHOULD', verdict: v.verdict, advisory: v.advisory }], true)).toBe(1);
  });

  test('a precondition the device does not reach is inconclusive, not fail', async () => {
    const { v } = await run(
      defineCase(meta(), async (t: CaseContext) => {
        await t.precondition('device registered', async () => t.fail(SHALL_ROW, 'no Register within 10 s'));
      }),
    );
    expect(v.verdict).toBe('inconclusive');
    expect(v.reason).toMatch(/^precondition not reached \(device registered\): no Register within 10 s/);
  });

  test('a timing check outside its window fails, with window, observed value and tolerance in the reason', async () => {
    const { v } = await run(
      defineCase(meta(), async (t: CaseContext) => {
        t.checkTiming({ req: SHALL_ROW, name: 'gap', observedMs: 900, minMs: 2000, maxMs: 4000, toleranceMs: 100, window: 'Retry Timer 2 s' });
      }),
    );
    expect(v.verdict).toBe('fail');
    expect(v.reason).toContain('expected 2.000 s to 4.000 s (Retry Timer 2 s), observed 900.0 ms (tolerance ±100.0 ms)');
  });

  test('a timing check is inconclusive when the harness event loop stalled beyond the tolerance', async () => {
    const { v } = await run(
      defineCase(meta(), async (t: CaseContext) => {
        await new Promise((r) => setTimeout(r, 20));
        const until = performance.now() + 150;
        while (performance.now() < until) {
          // block the event loop: the harness cannot trust its own timestamps now
        }
        await new Promise((r) => setTimeout(r, 20));
        // 100 ms short: beyond the tolerance, within what the stall can account for
        t.checkTiming({ req: SHALL_ROW, name: 'gap', observedMs: 1900, minMs: 2000, maxMs: 4000, toleranceMs: 50, window: 'Retry Timer 2 s' });
      }),
    );
    expect(v.verdict).toBe('inconclusive');
    expect(v.reason).toMatch(/event loop stalled/);
  });

  test('an optional feature the ICS does not claim is not-applicable, without starting anything', async () => {
    let ran = false;
    const { v, events } = await run(
      defineCase(meta({ ics: 'bootstrap.server-initiated' }), async () => {
        ran = true;
      }),
    );
    expect(ran).toBe(false);
    expect(v.verdict).toBe('not-applicable');
    expect(events.some((e) => e.type === 'datagram')).toBe(false);
  });

  test('a mandatory feature the ICS declares missing is a fail, not a skip', async () => {
    const profile = { ...defaultSimulatorProfile(), ics: { 'bootstrap.client-initiated': false } };
    const { v } = await run(
      defineCase(meta({ ics: 'bootstrap.client-initiated' }), async () => {}),
      { profile },
    );
    expect(v.verdict).toBe('fail');
    expect(v.reason).toContain("mandatory feature 'bootstrap.client-initiated'");
  });

  test('a DUT action that fails is an error naming the action; its output is evidence', async () => {
    const { v, events } = await run(
      defineCase(meta(), async (t: CaseContext) => {
        await t.device.provision();
      }),
      { adapter: new InertAdapter('provision') },
    );
    expect(v.verdict).toBe('error');
    expect(v.reason).toContain("DUT action 'provision' failed: vendor tool exited with code 3");
    expect(events.some((e) => e.type === 'note' && e.text === 'ran provision')).toBe(true);
  });

  test('an action the profile lacks makes the case inconclusive', async () => {
    const { v } = await run(
      defineCase(meta(), async (t: CaseContext) => {
        await t.device.restart(); // supports stop and start
        await (t.device as unknown as { act(a: string): Promise<void> }).act('reboot');
      }),
    );
    expect(v.verdict).toBe('inconclusive');
    expect(v.reason).toContain("no 'reboot' action");
  });

  test('a harness bug is an error, never a fail', async () => {
    const { v } = await run(
      defineCase(meta(), async () => {
        throw new TypeError('undefined is not a function');
      }),
    );
    expect(v.verdict).toBe('error');
    expect(v.reason).toContain('harness error: undefined is not a function');
  });

  test('the case budget (from the device timers, plus the margin) ends a hung case with error, naming it', async () => {
    const { v, events } = await run(
      defineCase(meta({ budget: (k) => k.startupMs / 100 }), async (t: CaseContext) => {
        await new Promise((r) => t.signal.addEventListener('abort', r));
      }),
    );
    const startupMs = defaultSimulatorProfile().ixit.startupBoundS * 1000;
    const expected = Math.ceil(startupMs / 100 + 5000 + startupMs / 1000);
    expect(v.verdict).toBe('error');
    expect(v.reason).toContain(`budget of ${expected / 1000} s for this profile's timers`);
    const start = events.find((e) => e.type === 'case-start');
    expect(start && start.type === 'case-start' && start.meta.timeoutMs).toBe(expected);
  }, 30_000);

  test('the fake servers listen on OS-chosen ports and are closed after the case', async () => {
    let uris: string[] = [];
    await run(
      defineCase(meta(), async (t: CaseContext) => {
        uris = [t.bootstrapServer.uri, t.lwm2mServer.uri];
      }),
    );
    expect(uris[0]).toMatch(/^coap:\/\/127\.0\.0\.1:\d+$/);
    expect(uris[0]).not.toBe(uris[1]);
  });
});

test('a malformed datagram from the device is kept as evidence and noted; the case goes on', async () => {
  const { v, events } = await run(
    defineCase(meta(), async (t: CaseContext) => {
      const sock = dgram.createSocket('udp4');
      const noted = new Promise((r) => t.bootstrapServer.endpoint.once('malformed', r));
      sock.send(Buffer.from('5f01', 'hex'), t.bootstrapServer.port, '127.0.0.1');
      await noted;
      sock.close();
      t.pass('still running');
    }),
  );
  expect(v.verdict).toBe('pass');
  const dg = events.find((e) => e.type === 'datagram');
  expect(dg && dg.type === 'datagram' && 'error' in dg.decoded && dg.decoded.error).toMatch(/shorter than the 4-byte CoAP header/);
  expect(events.some((e) => e.type === 'note' && /malformed datagram from 127\.0\.0\.1:\d+ at bootstrap-server/.test(e.text))).toBe(true);
});

describe('exit codes', () => {
  test('highest wins: error 3 over fail 1; inconclusive counts only with --strict', () => {
    expect(exitCodeFor([{ strength: 'SHALL', verdict: 'pass' }], false)).toBe(0);
    expect(
      exitCodeFor(
        [
          { strength: 'SHALL', verdict: 'fail' },
          { strength: 'SHALL', verdict: 'error' },
        ],
        false,
      ),
    ).toBe(3);
    expect(exitCodeFor([{ strength: 'MAY', verdict: 'fail' }], false)).toBe(1);
    expect(exitCodeFor([{ strength: 'SHALL', verdict: 'inconclusive' }], false)).toBe(0);
    expect(exitCodeFor([{ strength: 'SHALL', verdict: 'inconclusive' }], true)).toBe(1);
    expect(exitCodeFor([{ strength: 'MAY', verdict: 'not-applicable' }], true)).toBe(0);
  });
});

describe('device state between cases', () => {
  class RecordingAdapter implements DutAdapter {
    readonly actions: DutAction[] = [];
    constructor(
      readonly kind: DutAdapter['kind'],
      private readonly defined: DutAction[],
    ) {}
    supports(action: DutAction): boolean {
      return this.defined.includes(action);
    }
    async run(action: DutAction): Promise<void> {
      this.actions.push(action);
    }
    async dispose(): Promise<void> {}
  }
  const startsDevice = defineCase(meta(), async (t: CaseContext) => {
    await t.device.provision();
    await t.device.start();
    t.pass('started');
  });

  test('a manual or mixed device the case started is asked to stop at the end of the case', async () => {
    for (const kind of ['manual', 'mixed'] as const) {
      const adapter = new RecordingAdapter(kind, ['provision', 'start', 'stop']);
      const { v } = await run(startsDevice, { adapter: adapter as unknown as InertAdapter });
      expect(v.verdict).toBe('pass');
      expect(`${kind}: ${adapter.actions.join(',')}`).toBe(`${kind}: provision,start,stop`);
    }
  });

  test('not when the case stopped it itself, nor for an exec adapter (its dispose stops a background start)', async () => {
    const stopped = new RecordingAdapter('manual', ['provision', 'start', 'stop']);
    await run(
      defineCase(meta(), async (t: CaseContext) => {
        await t.device.start();
        await t.device.stop();
      }),
      { adapter: stopped as unknown as InertAdapter },
    );
    expect(stopped.actions).toEqual(['start', 'stop']);
    const exec = new RecordingAdapter('exec', ['provision', 'start', 'stop']);
    await run(startsDevice, { adapter: exec as unknown as InertAdapter });
    expect(exec.actions).toEqual(['provision', 'start']);
  });

  test('a manual profile without a stop action gets a note saying the device keeps running', async () => {
    const adapter = new RecordingAdapter('manual', ['provision', 'start']);
    const { events } = await run(startsDevice, { adapter: adapter as unknown as InertAdapter });
    expect(events.some((e) => e.type === 'note' && /no 'stop' action: the device keeps running/.test(e.text))).toBe(true);
  });
});

describe('a request the device never acknowledges', () => {
  const unanswered = () => new CoapTimeoutError({ type: 'CON', code: '0.01', messageId: 7, token: Buffer.alloc(0), options: [], payload: Buffer.alloc(0) } as never, 5, 93_000);

  test('inside a precondition it is inconclusive: the exchange belongs to another case', async () => {
    const { v } = await run(
      defineCase(meta(), async (t: CaseContext) => {
        await t.precondition('device bootstrapped', async () => {
          throw unanswered();
        });
      }),
    );
    expect(v.verdict).toBe('inconclusive');
    expect(v.reason).toMatch(/^precondition not reached \(device bootstrapped\): the device never acknowledged a request on the way \(no response to CON .* after 5 transmission\(s\) and 93000 ms\)/);
  });

  test("elsewhere it is the observation of the case's first row, at that row's level, never an error", async () => {
    const must = await run(
      defineCase(meta(), async () => {
        throw unanswered();
      }),
    );
    expect(must.v).toMatchObject({ verdict: 'fail', requirement: SHALL_ROW, level: 'SHALL' });
    expect(must.v.reason).toMatch(/^the device never acknowledged a request of this exchange/);
    const should = await run(
      defineCase(meta({ requirements: [{ id: SHOULD_ROW, section: 'test', quote: 'test' }] }), async () => {
        throw unanswered();
      }),
    );
    expect(should.v.verdict).toBe('pass');
    expect(should.v.advisory).toMatch(/never acknowledged/);
  });
});
