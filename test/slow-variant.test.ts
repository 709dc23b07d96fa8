/**
 * The reference device with the timers a real device is entitled to: spec-default CoAP
 * transmission parameters (RFC 7252 §4.8: ACK_TIMEOUT 2 s, ACK_RANDOM_FACTOR 1.5,
 * MAX_RETRANSMIT 4, so MAX_TRANSMIT_WAIT 93 s, MAX_LATENCY 100 s) and a 10 s Client Hold
 * Off Time. Every case of a default run must end with a verdict about the device: no
 * case budget may be shorter than the waits its case makes (an `error` here would be the
 * harness's own bound deciding). The cells run in the self-test pool, each with its own
 * device process, so the run takes about as long as its longest case.
 */
import { defaultSimulatorProfile, type Profile } from '../harness/profile/load.js';
import { isSlow, runMatrix } from '../harness/selftest/matrix.js';
import { caseBudgetMs } from '../harness/runner/budget.js';
import { ALL_CASES } from '../suites/index.js';

const simulator = defaultSimulatorProfile();
const slow: Profile = {
  ...simulator,
  source: '<simulator profile with spec-default CoAP parameters and a 10 s hold-off>',
  ixit: { ...simulator.ixit, coap: { ackTimeoutS: 2, ackRandomFactor: 1.5, maxRetransmit: 4, nstart: 1 }, holdOffS: 10 },
};
const cases = ALL_CASES.filter((c) => !isSlow(c));
const longestMs = Math.max(...cases.map((c) => caseBudgetMs(c.budget, slow.ixit)));

test(`a default run with spec-default CoAP parameters and a 10 s hold-off ends with no error verdict (${cases.length} cases)`, async () => {
  const result = await runMatrix({ cases, defects: [], reference: true, profile: slow, concurrency: 8 });
  const errors = result.cells.filter((c) => c.verdict === 'error').map((c) => `${c.caseId}: ${c.reason}`);
  expect(errors).toEqual([]);
  expect(result.cells.length).toBe(cases.length);
}, longestMs * 1.5 + 60_000);
