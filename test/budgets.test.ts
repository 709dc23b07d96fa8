/**
 * Case budgets and floors follow the device's own timers. With the manual meter example profile (a
 * real meter: 120 s startup bound, spec-default CoAP parameters) every case may run long
 * enough to see the device start and ask, and to wait out one exchange the device leaves
 * unanswered; with the simulator's short timers the same cases get short budgets. The
 * slow-variant run (test/slow-variant.test.ts) runs every default case with the manual meter's
 * timers against the reference device and shows no case outruns its budget.
 *
 * A floor (the least time a device doing all the case checks lets it finish in) is a lower
 * bound where the budget is an upper one: never above it, under every profile the tests
 * use. That no floor is above what the conformant reference device takes is shown on the
 * shared matrix's reference row (test/suite-reference.test.ts).
 */
import { loadProfile, defaultSimulatorProfile } from '../harness/profile/load.js';
import { caseBudgetMs, deviceTimers, leastGiveUpMs, retryBackoffsMs } from '../harness/runner/budget.js';
import type { Ixit } from '../harness/profile/load.js';
import { ALL_CASES } from '../suites/index.js';
import { listCases } from '../harness/cli/list-command.js';

const meter = loadProfile('fixtures/profiles/manual-meter.example.yaml');
const simulator = defaultSimulatorProfile();

describe('case budgets', () => {
  test('the manual meter profile has the spec-default CoAP parameters (MAX_TRANSMIT_WAIT 93 s, EXCHANGE_LIFETIME 247 s)', () => {
    const k = deviceTimers(meter.ixit);
    expect(k.maxTransmitWaitMs).toBe(93_000);
    expect(k.exchangeLifetimeMs).toBe(247_000);
  });

  test.each(ALL_CASES.map((c) => [c.meta.id, c] as const))('%s: on the manual meter the budget covers the first request window plus one unanswered exchange', (_id, c) => {
    const k = deviceTimers(meter.ixit);
    const budget = caseBudgetMs(c.budget, meter.ixit);
    expect(budget).toBeGreaterThanOrEqual(k.firstRequestMs + k.maxTransmitWaitMs);
  });

  test.each(ALL_CASES.map((c) => [c.meta.id, c] as const))('%s: the budget grows with the device timers, never a fixed number', (_id, c) => {
    const longer = { ...meter.ixit, startupBoundS: meter.ixit.startupBoundS * 2, holdOffS: meter.ixit.holdOffS + 30 };
    expect(caseBudgetMs(c.budget, longer)).toBeGreaterThan(caseBudgetMs(c.budget, meter.ixit));
    expect(caseBudgetMs(c.budget, meter.ixit)).toBeGreaterThan(caseBudgetMs(c.budget, simulator.ixit));
  });

  test('list --dut shows every budget and the total for that device', () => {
    const out = listCases(ALL_CASES, { profile: meter });
    expect(out.split('\n')[0]).toMatch(/BUDGET/);
    expect(out).toMatch(/budget of the \d+ cases that run for this DUT: \d+ min \d\d s at most/);
    const json = JSON.parse(listCases(ALL_CASES, { profile: meter, json: true })) as { id: string; budgetMs: number }[];
    for (const c of ALL_CASES) expect(json.find((x) => x.id === c.meta.id)!.budgetMs).toBe(caseBudgetMs(c.budget, meter.ixit));
  });
});

describe('case floors', () => {
  // The slow-variant run's timers (test/slow-variant.slow.test.ts): the manual meter's, with a 10 s hold-off.
  const profiles: [string, Ixit][] = [
    ['the simulator profile', simulator.ixit],
    ['the manual meter', meter.ixit],
    ['the manual meter with a 10 s hold-off', { ...meter.ixit, holdOffS: 10 }],
  ];
  const cells = ALL_CASES.flatMap((c) => profiles.map(([name, ixit]) => [c.meta.id, name, c, ixit] as const));

  test.each(cells)('%s under %s: 0 <= floor <= budget', (_id, _name, c, ixit) => {
    const k = deviceTimers(ixit);
    const floor = c.floor(k);
    expect(Number.isFinite(floor)).toBe(true);
    expect(floor).toBeGreaterThanOrEqual(0);
    expect(floor).toBeLessThanOrEqual(c.budget(k));
  });

  test.each(ALL_CASES.map((c) => [c.meta.id, c] as const))('%s: the floor follows the device timers: it grows with them, unless the case waits out none', (_id, c) => {
    const longer: Ixit = {
      ...simulator.ixit,
      coap: { ...simulator.ixit.coap, ackTimeoutS: simulator.ixit.coap.ackTimeoutS * 2 },
      startupBoundS: simulator.ixit.startupBoundS * 2,
      holdOffS: simulator.ixit.holdOffS + 5,
      lifetimeS: simulator.ixit.lifetimeS * 2,
      retryTimerS: simulator.ixit.retryTimerS * 2,
      sequenceDelayTimerS: simulator.ixit.sequenceDelayTimerS * 2,
    };
    const floor = c.floor(deviceTimers(simulator.ixit));
    if (floor === 0 && c.floor(deviceTimers(longer)) === 0) return;
    expect(c.floor(deviceTimers(longer))).toBeGreaterThan(floor);
  });

  test('the shared shapes: the earliest CoAP give-up with ACK_RANDOM_FACTOR 1, the back-offs between rejected attempts', () => {
    // ACK_TIMEOUT 2 s, MAX_RETRANSMIT 4: 2 + 4 + 8 + 16 + 32 s, where MAX_TRANSMIT_WAIT is 1.5 times that.
    expect(leastGiveUpMs(deviceTimers(meter.ixit))).toBe(62_000);
    expect(leastGiveUpMs(deviceTimers(meter.ixit)) * 1.5).toBe(deviceTimers(meter.ixit).maxTransmitWaitMs);
    expect(retryBackoffsMs(1000, 1)).toBe(0);
    expect(retryBackoffsMs(1000, 3)).toBe(1000 + 2000);
    expect(retryBackoffsMs(60_000, 3)).toBe(60_000 + 120_000);
  });
});
