/**
 * Case budgets follow the device's own timers. With the manual meter example profile (a
 * real meter: 120 s startup bound, spec-default CoAP parameters) every case may run long
 * enough to see the device start and ask, and to wait out one exchange the device leaves
 * unanswered; with the simulator's short timers the same cases get short budgets. The
 * slow-variant run (test/slow-variant.test.ts) runs every default case with the manual meter's
 * timers against the reference device and shows no case outruns its budget.
 */
import { loadProfile, defaultSimulatorProfile } from '../harness/profile/load.js';
import { caseBudgetMs, deviceTimers } from '../harness/runner/budget.js';
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
