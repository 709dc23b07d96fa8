/**
 * The CoAP message-layer cases' runs of their own, apart from the shared matrix so that
 * they start early (test/suite-coap.test.ts reads the matrix's cells): they pass on the conformant
 * device (piggy-backed and separate responses alike), their reasons name the exchange,
 * the retransmission case runs in seconds with short declared CoAP parameters, and timing
 * that fits none of the declared parameters is inconclusive, never fail.
 */
import type { VerdictEvent } from '../harness/events/events.js';
import type { Profile } from '../harness/profile/load.js';
import { HARNESS_STALL } from '../harness/runner/context.js';
import { runCases, runOnSimulator, SHORT_COAP, profileWithCoap, explain, expectPass } from './support/simulator-run.js';

/**
 * Runs TC-COAP-02 with the harness judging against `declared` and the device running with
 * `actual` parameters. A verdict the harness withheld because its own event loop stalled
 * (a loaded machine) says nothing about the device: such a run is repeated, twice at most.
 */
async function runRetransmission(declared: Profile, actual: Profile, defect: string | null = null): Promise<VerdictEvent | undefined> {
  let v: VerdictEvent | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    v = (await runCases(['TC-COAP-02'], { profile: declared, device: actual, defect })).verdicts.get('TC-COAP-02');
    if (!(v?.verdict === 'inconclusive' && v.reason.includes(HARNESS_STALL))) break;
  }
  return v;
}

describe('CoAP message-layer cases: runs of their own (variants, declared parameters, defect outcomes outside the shared matrix)', () => {
  test('a device whose Registration Update Trigger does nothing: TC-COAP-01 still passes (heartbeat), TC-COAP-03 is inconclusive naming the trigger and TC-REG-07', async () => {
    const run = await runOnSimulator(['TC-COAP-01', 'TC-COAP-03'], 'update-trigger-ignored');
    const v = run.verdicts.get('TC-COAP-01');
    expectPass('TC-COAP-01', v);
    expect(explain(run.verdicts.get('TC-COAP-03'))).toMatch(/^inconclusive: after the 2\.04 to Execute \/1\/\d+\/8 .*Registration Update Trigger, this case's tool, did not work \(TC-REG-07 judges it\)/);
  }, 180_000);

  test('a device that answers with an empty ACK and a separate response passes TC-COAP-01 and TC-COAP-03', async () => {
    const run = await runOnSimulator(['TC-COAP-01', 'TC-COAP-03'], null, { separateResponses: true });
    for (const id of ['TC-COAP-01', 'TC-COAP-03']) expectPass(id, run.verdicts.get(id));
    expect(run.verdicts.get('TC-COAP-01')!.reason).toMatch(/Bootstrap-Finish: empty ACK mid=\d+, then separate CON 2\.04/);
    // The wire shows it: empty ACKs from the device, then its CON responses.
    const fromDevice = run.events.filter((e) => e.type === 'datagram' && e.direction === 'in' && e.caseId === 'TC-COAP-01');
    const decoded = fromDevice.map((e) => (e.type === 'datagram' && e.decoded && 'type' in e.decoded ? e.decoded : undefined));
    expect(decoded.some((d) => d?.type === 'ACK' && d.code === '0.00')).toBe(true);
    expect(decoded.some((d) => d?.type === 'CON' && d.code === '2.04')).toBe(true);
  }, 120_000);

  test('TC-COAP-02 with short declared CoAP parameters: passes on the reference device in seconds', async () => {
    const profile = profileWithCoap(SHORT_COAP);
    const v = await runRetransmission(profile, profile);
    expectPass('TC-COAP-02', v);
    expect(v!.reason).toMatch(/^4 copies of CON POST mid=\d+ .*\/bs.* 3 retransmissions = MAX_RETRANSMIT, nothing more within MAX_TRANSMIT_WAIT 6\.750 s/);
  }, 150_000);

  test('TC-COAP-02 gives a device that retransmits at a constant interval the SHOULD advisory (the back-off has no keyword), naming the gap', async () => {
    const profile = profileWithCoap(SHORT_COAP);
    const v = await runRetransmission(profile, profile, 'no-retransmission-backoff');
    expect(v?.verdict).toBe('pass');
    expect(v?.advisory).toMatch(/SHOULD not met \(COAP-02, advisory\): gap between copy #2 and #3 doubles the gap before: expected .* observed .* \(tolerance ±100\.0 ms\)/);
    expect(v!.reason).toMatch(/MID and token kept, .*not every gap double the one before \(SHOULD, see the advisory\), 3 retransmissions = MAX_RETRANSMIT/);
  }, 150_000);

  test('TC-COAP-02: a device whose timers differ from the declared ones is inconclusive, not failed', async () => {
    // The device really waits twice as long as declared before its first retransmission.
    const v = await runRetransmission(profileWithCoap(SHORT_COAP), profileWithCoap({ ...SHORT_COAP, ackTimeoutS: 0.6, maxRetransmit: 2 }));
    expect(explain(v)).toMatch(/^inconclusive: .*fits none of the declared parameters.*first timeout was .* outside \[ACK_TIMEOUT, ACK_TIMEOUT·ACK_RANDOM_FACTOR\]/);
  }, 150_000);
});
