/**
 * The Registration-interface cases' runs of their own, apart from the shared matrix so that
 * they start early (test/suite-registration.test.ts reads the matrix's cells): a device
 * answering with separate responses passes, and TC-REG-08, which waits out a full
 * MAX_TRANSMIT_WAIT, runs with short declared CoAP parameters (the device uses the same),
 * which is what keeps it to seconds without bending its window.
 */
import { runCases, runOnSimulator, SHORT_COAP, profileWithCoap, explain, expectPass } from './support/simulator-run.js';

describe('Registration-interface cases: runs of their own (a variant, short CoAP parameters)', () => {
  test('a device that answers Execute and Write with an empty ACK and a separate response passes TC-REG-06, -07 and -11', async () => {
    const ids = ['TC-REG-06', 'TC-REG-07', 'TC-REG-11'];
    const run = await runOnSimulator(ids, null, { separateResponses: true });
    for (const id of ids) expectPass(id, run.verdicts.get(id));
  }, 180_000);

  test('TC-REG-08 with short CoAP parameters: Updates dropped until the lifetime passes, then a Register', async () => {
    const v = (await runCases(['TC-REG-08'], { profile: profileWithCoap(SHORT_COAP) })).verdicts.get('TC-REG-08');
    expect(explain(v)).toMatch(/^pass: the registration was renewed by Register CON POST \/rd\?.*Updates dropped: CON POST \/rd\//);
    expect(v?.advisory).toBeUndefined();
  }, 120_000);

  test('TC-REG-08 with short CoAP parameters fails a device that sends a new Update after expiry, naming it', async () => {
    const v = (await runCases(['TC-REG-08'], { profile: profileWithCoap(SHORT_COAP), defect: 'update-after-expiry' })).verdicts.get('TC-REG-08');
    expect(v?.verdict).toBe('fail');
    expect(v?.reason).toMatch(/when the lifetime of 10 s had expired .*the device sent CON POST \/rd\/\S+ \(mid \d+\) instead of a Register/);
  }, 120_000);
});
