/**
 * The reference device with the timers a real device is entitled to: the IXIT of the
 * manual meter example profile (120 s startup bound, 60 s lifetime, 5 s retry timer, 30 s
 * sequence delay) with spec-default CoAP transmission parameters (RFC 7252 §4.8:
 * ACK_TIMEOUT 2 s, ACK_RANDOM_FACTOR 1.5, MAX_RETRANSMIT 4, so MAX_TRANSMIT_WAIT 93 s,
 * MAX_LATENCY 100 s) and a 10 s Client Hold Off Time. Every case of a default run must end
 * with a verdict about the device: every wait a case makes, each window computed from
 * these timers, must fit the case's budget (an `error` here would be the harness's own
 * bound deciding). The cells run in the self-test pool, each with its own device process;
 * the run is waiting, not computing, so many run at once.
 */
import { bundledDevice } from '../fixtures/simulator/simulator-adapter.js';
import { defaultSimulatorProfile, loadProfile, type Profile } from '../harness/profile/load.js';
import { isSlow, runMatrix } from '../harness/selftest/matrix.js';
import { caseBudgetMs } from '../harness/runner/budget.js';
import { ALL_CASES } from '../suites/index.js';

const meter = loadProfile('fixtures/profiles/manual-meter.example.yaml');
const slow: Profile = {
  ...defaultSimulatorProfile(),
  source: '<simulator with the manual meter IXIT, spec-default CoAP parameters and a 10 s hold-off>',
  ixit: { ...meter.ixit, coap: { ackTimeoutS: 2, ackRandomFactor: 1.5, maxRetransmit: 4, nstart: 1 }, holdOffS: 10 },
};
const CONCURRENCY = 12;
const cases = ALL_CASES.filter((c) => !isSlow(c));
const budgets = cases.map((c) => caseBudgetMs(c.budget, slow.ixit)).sort((a, b) => b - a);
// Bounded by the budgets: the pool can take no longer than the longest budgets run back to back, one per round.
const boundMs = budgets.filter((_, i) => i % CONCURRENCY === 0).reduce((a, b) => a + b, 0);

test(
  `a default run with the manual meter's timers, spec-default CoAP parameters and a 10 s hold-off ends with no error and no fail verdict (${cases.length} cases)`,
  async () => {
    const result = await runMatrix({ createDevice: bundledDevice, cases, defects: [], reference: true, profile: slow, concurrency: CONCURRENCY });
    const errors = result.cells.filter((c) => c.verdict === 'error').map((c) => `${c.caseId}: ${c.reason}`);
    expect(errors).toEqual([]);
    // The reference device is conformant whatever timers it is given: a fail here would be a false FAIL.
    const fails = result.cells.filter((c) => c.verdict === 'fail').map((c) => `${c.caseId}: ${c.reason}`);
    expect(fails).toEqual([]);
    expect(result.cells.length).toBe(cases.length);
  },
  boundMs + 60_000,
);
