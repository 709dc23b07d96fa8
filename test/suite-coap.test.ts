/**
 * The CoAP message-layer cases against the reference device: they pass on the conformant
 * device (piggy-backed and separate responses alike), their reasons name the exchange,
 * the retransmission case runs in seconds with short declared CoAP parameters, and timing
 * that fits none of the declared parameters is inconclusive, never fail.
 */
import type { ResultEvent, VerdictEvent } from '../harness/events/events.js';
import { defaultSimulatorProfile, type Profile } from '../harness/profile/load.js';
import { createSimulatorAdapter } from '../harness/dut/simulator-adapter.js';
import { runSuite } from '../harness/runner/runner.js';
import { HARNESS_STALL } from '../harness/runner/context.js';
import { ALL_CASES } from '../suites/index.js';
import { explain, runOnSimulator } from './support/simulator-run.js';
import { SHARED_MATRIX_BOUND_MS, matrixRun } from './support/shared-matrix.js';

const QUICK_CASES = ['TC-COAP-01', 'TC-COAP-03', 'TC-COAP-04', 'TC-COAP-05'];

/** Short CoAP parameters: MAX_TRANSMIT_WAIT = 0.3 s × 15 × 1.5 = 6.75 s. */
const SHORT_COAP = { ackTimeoutS: 0.3, ackRandomFactor: 1.5, maxRetransmit: 3, nstart: 1 };

function profileWith(coap: Partial<Profile['ixit']['coap']>): Profile {
  const p = defaultSimulatorProfile();
  return { ...p, ixit: { ...p.ixit, coap: { ...p.ixit.coap, ...coap } } };
}

/**
 * Runs TC-COAP-02 with the harness judging against `declared` and the device running with
 * `actual` parameters. A verdict the harness withheld because its own event loop stalled
 * (a loaded machine) says nothing about the device: such a run is repeated, twice at most.
 */
async function runRetransmission(declared: Profile, actual: Profile, defect: string | null = null): Promise<VerdictEvent | undefined> {
  let v: VerdictEvent | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    v = await runRetransmissionOnce(declared, actual, defect);
    if (!(v?.verdict === 'inconclusive' && v.reason.includes(HARNESS_STALL))) break;
  }
  return v;
}

async function runRetransmissionOnce(declared: Profile, actual: Profile, defect: string | null): Promise<VerdictEvent | undefined> {
  const events: ResultEvent[] = [];
  await runSuite({
    cases: [ALL_CASES.find((c) => c.meta.id === 'TC-COAP-02')!],
    profile: declared,
    defect,
    createAdapter: () => createSimulatorAdapter(actual, { defect }),
    emit: (e) => events.push(e),
    signal: new AbortController().signal,
    strict: false,
  });
  return events.find((e): e is VerdictEvent => e.type === 'verdict');
}

describe('CoAP message-layer cases against the reference device', () => {
  test(
    'TC-COAP-01, -03, -04, -05 pass without advisory and name the exchange they judged',
    async () => {
      const run = await matrixRun(QUICK_CASES);
      for (const id of QUICK_CASES) {
        const v = run.verdicts.get(id);
        expect(`${id}: ${explain(v)}`).toBe(`${id}: pass: ${v?.reason}`);
        expect(v?.advisory).toBeUndefined();
      }
      expect(run.verdicts.get('TC-COAP-01')!.reason).toMatch(/CON mid=\d+ \/bs.*Bootstrap-Finish: piggy-backed 2\.04 in ACK mid=\d+/);
      expect(run.verdicts.get('TC-COAP-03')!.reason).toMatch(/Execute \/1\/\d+\/8 mid=\d+ sent twice.*one Update CON POST \/rd\//);
      expect(run.verdicts.get('TC-COAP-04')!.reason).toMatch(/2\d new messages to the LwM2M Server/);
      expect(run.verdicts.get('TC-COAP-05')!.reason).toMatch(/next request CON DELETE .* after the ACK/);
    },
    SHARED_MATRIX_BOUND_MS,
  );

  test(
    'TC-COAP-01 reaches the Update through the heartbeat (no Registration Update Trigger) and reads /3/0',
    async () => {
      const run = await matrixRun(['TC-COAP-01']);
      const v = run.verdicts.get('TC-COAP-01');
      expect(`${explain(v)}`).toBe(`pass: ${v?.reason}`);
      expect(v!.reason).toMatch(/CON mid=\d+ \/rd\/[^,]+, .*DM-Read \/3\/0: piggy-backed 2\.05 in ACK mid=\d+; Execute \/1\/\d+\/4: piggy-backed 2\.04/);
      expect(v!.reason).not.toMatch(/\/1\/\d+\/8/);
    },
    SHARED_MATRIX_BOUND_MS,
  );

  test(
    'silent-to-con: TC-COAP-01 fails on the DM-Read /3/0 the device never acknowledges, naming transmissions and time; TC-COAP-03 is left alone',
    async () => {
      const run = await matrixRun(['TC-COAP-01', 'TC-COAP-03'], 'silent-to-con');
      const v = run.verdicts.get('TC-COAP-01');
      expect(explain(v)).toMatch(
        /^fail: DM-Read \/3\/0: CON GET mid=\d+ token=[0-9a-f]+ \/3\/0 sent [2-9] time\(s\) over \d+\.\d{3} s, the harness's whole retransmission schedule \(MAX_TRANSMIT_WAIT \d+\.\d{3} s at most\), got no ACK, no RST and no response/,
      );
      const alone = run.verdicts.get('TC-COAP-03');
      expect(`${explain(alone)}`).toBe(`pass: ${alone?.reason}`);
    },
    SHARED_MATRIX_BOUND_MS,
  );

  test('a device whose Registration Update Trigger does nothing: TC-COAP-01 still passes (heartbeat), TC-COAP-03 is inconclusive naming the trigger and TC-REG-07', async () => {
    const run = await runOnSimulator(['TC-COAP-01', 'TC-COAP-03'], 'update-trigger-ignored');
    const v = run.verdicts.get('TC-COAP-01');
    expect(`${explain(v)}`).toBe(`pass: ${v?.reason}`);
    expect(explain(run.verdicts.get('TC-COAP-03'))).toMatch(/^inconclusive: after the 2\.04 to Execute \/1\/\d+\/8 .*Registration Update Trigger, this case's tool, did not work \(TC-REG-07 judges it\)/);
  }, 180_000);

  test('a device that answers with an empty ACK and a separate response passes TC-COAP-01 and TC-COAP-03', async () => {
    const run = await runOnSimulator(['TC-COAP-01', 'TC-COAP-03'], null, { separateResponses: true });
    for (const id of ['TC-COAP-01', 'TC-COAP-03']) {
      const v = run.verdicts.get(id);
      expect(`${id}: ${explain(v)}`).toBe(`${id}: pass: ${v?.reason}`);
    }
    expect(run.verdicts.get('TC-COAP-01')!.reason).toMatch(/Bootstrap-Finish: empty ACK mid=\d+, then separate CON 2\.04/);
    // The wire shows it: empty ACKs from the device, then its CON responses.
    const fromDevice = run.events.filter((e) => e.type === 'datagram' && e.direction === 'in' && e.caseId === 'TC-COAP-01');
    const decoded = fromDevice.map((e) => (e.type === 'datagram' && e.decoded && 'type' in e.decoded ? e.decoded : undefined));
    expect(decoded.some((d) => d?.type === 'ACK' && d.code === '0.00')).toBe(true);
    expect(decoded.some((d) => d?.type === 'CON' && d.code === '2.04')).toBe(true);
  }, 120_000);

  test(
    'TC-COAP-06 (MAY, ICS coap.block1): passes on the reference device (its simulator profile claims Block1), not applicable when the ICS disclaims it',
    async () => {
      const claimed = await matrixRun(['TC-COAP-06']);
      const v = claimed.verdicts.get('TC-COAP-06');
      expect(`${explain(v)}`).toBe(`pass: ${v?.reason}`);
      expect(v!.reason).toMatch(/a gap answered 4\.08 .* Block1 blocks answered 2\.31 .* 2\.04 .*after 4\.13: \d+ Block1 blocks of 1024 bytes.* registered/);
      const unclaimed = await runOnSimulator(['TC-COAP-06'], null, {}, { 'coap.block1': false });
      expect(unclaimed.verdicts.get('TC-COAP-06')?.verdict).toBe('not-applicable');
    },
    SHARED_MATRIX_BOUND_MS,
  );

  test('TC-COAP-02 with short declared CoAP parameters: passes on the reference device in seconds', async () => {
    const profile = profileWith(SHORT_COAP);
    const v = await runRetransmission(profile, profile);
    expect(`${explain(v)}`).toBe(`pass: ${v?.reason}`);
    expect(v!.reason).toMatch(/^4 copies of CON POST mid=\d+ .*\/bs.* 3 retransmissions = MAX_RETRANSMIT, nothing more within MAX_TRANSMIT_WAIT 6\.750 s/);
  }, 150_000);

  test('TC-COAP-02 gives a device that retransmits at a constant interval the SHOULD advisory (the back-off has no keyword), naming the gap', async () => {
    const profile = profileWith(SHORT_COAP);
    const v = await runRetransmission(profile, profile, 'no-retransmission-backoff');
    expect(v?.verdict).toBe('pass');
    expect(v?.advisory).toMatch(/SHOULD not met \(COAP-02, advisory\): gap between copy #2 and #3 doubles the gap before: expected .* observed .* \(tolerance ±100\.0 ms\)/);
    expect(v!.reason).toMatch(/MID and token kept, .*not every gap double the one before \(SHOULD, see the advisory\), 3 retransmissions = MAX_RETRANSMIT/);
  }, 150_000);

  test('TC-COAP-02: a device whose timers differ from the declared ones is inconclusive, not failed', async () => {
    // The device really waits twice as long as declared before its first retransmission.
    const v = await runRetransmission(profileWith(SHORT_COAP), profileWith({ ...SHORT_COAP, ackTimeoutS: 0.6, maxRetransmit: 2 }));
    expect(explain(v)).toMatch(/^inconclusive: .*fits none of the declared parameters.*first timeout was .* outside \[ACK_TIMEOUT, ACK_TIMEOUT·ACK_RANDOM_FACTOR\]/);
  }, 150_000);
});
