/**
 * The CoAP message-layer cases against the reference device: they pass on the conformant
 * device (piggy-backed and separate responses alike), their reasons name the exchange,
 * the retransmission case runs in seconds with short declared CoAP parameters, and timing
 * that fits none of the declared parameters is inconclusive, never fail.
 */
import type { VerdictEvent } from '../harness/events/events.js';
import type { Profile } from '../harness/profile/load.js';
import { HARNESS_STALL } from '../harness/runner/context.js';
import { runCases, runOnSimulator, SHORT_COAP, profileWithCoap, explain, expectPass } from './support/simulator-run.js';
import { matrixRun, matrixTest, matrixVerdict } from './support/shared-matrix.js';

const QUICK_CASES = ['TC-COAP-01', 'TC-COAP-03', 'TC-COAP-04', 'TC-COAP-05'];

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

describe('CoAP message-layer cases against the reference device', () => {
  matrixTest('TC-COAP-01, -03, -04, -05 pass without advisory and name the exchange they judged', async () => {
    const run = await matrixRun(QUICK_CASES);
    for (const id of QUICK_CASES) expectPass(id, run.verdicts.get(id));
    expect(run.verdicts.get('TC-COAP-01')!.reason).toMatch(/CON mid=\d+ \/bs.*Bootstrap-Finish: piggy-backed 2\.04 in ACK mid=\d+/);
    expect(run.verdicts.get('TC-COAP-03')!.reason).toMatch(/Execute \/1\/\d+\/8 mid=\d+ sent twice.*one Update CON POST \/rd\//);
    expect(run.verdicts.get('TC-COAP-04')!.reason).toMatch(/2\d new messages to the LwM2M Server/);
    expect(run.verdicts.get('TC-COAP-05')!.reason).toMatch(/next request CON DELETE .* after the ACK/);
  });

  matrixTest('TC-COAP-01 reaches the Update through the heartbeat (no Registration Update Trigger) and reads /3/0', async () => {
    const v = await matrixVerdict('TC-COAP-01');
    expectPass('TC-COAP-01', v);
    expect(v!.reason).toMatch(/CON mid=\d+ \/rd\/[^,]+, .*DM-Read \/3\/0: piggy-backed 2\.05 in ACK mid=\d+; Execute \/1\/\d+\/4: piggy-backed 2\.04/);
    expect(v!.reason).not.toMatch(/\/1\/\d+\/8/);
  });

  matrixTest('silent-to-con: TC-COAP-01 fails on the DM-Read /3/0 the device never acknowledges, naming transmissions and time; TC-COAP-03 is left alone', async () => {
    const run = await matrixRun(['TC-COAP-01', 'TC-COAP-03'], 'silent-to-con');
    const v = run.verdicts.get('TC-COAP-01');
    expect(explain(v)).toMatch(
      /^fail: DM-Read \/3\/0: CON GET mid=\d+ token=[0-9a-f]+ \/3\/0 sent [2-9] time\(s\) over \d+\.\d{3} s, the harness's whole retransmission schedule \(MAX_TRANSMIT_WAIT \d+\.\d{3} s at most\), got no ACK, no RST and no response/,
    );
    expectPass('TC-COAP-03', run.verdicts.get('TC-COAP-03'));
  });

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

  matrixTest('TC-COAP-06 (MAY, ICS coap.block1): passes on the reference device (its simulator profile claims Block1), not applicable when the ICS disclaims it', async () => {
    const v = await matrixVerdict('TC-COAP-06');
    expectPass('TC-COAP-06', v);
    expect(v!.reason).toMatch(/a gap answered 4\.08 .* Block1 blocks answered 2\.31 .* 2\.04 .*after 4\.13: \d+ Block1 blocks of 1024 bytes.* registered/);
    const unclaimed = await runOnSimulator(['TC-COAP-06'], null, {}, { 'coap.block1': false });
    expect(unclaimed.verdicts.get('TC-COAP-06')?.verdict).toBe('not-applicable');
  });

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
