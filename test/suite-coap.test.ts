/**
 * The CoAP message-layer cases against the reference device, read from the shared matrix
 * (their runs of their own are in test/suite-coap-runs.test.ts): they pass on the conformant
 * device (piggy-backed and separate responses alike), their reasons name the exchange,
 * the retransmission case runs in seconds with short declared CoAP parameters, and timing
 * that fits none of the declared parameters is inconclusive, never fail.
 */
import { runOnSimulator, explain, expectPass } from './support/simulator-run.js';
import { matrixRun, matrixTest, matrixVerdict } from './support/shared-matrix.js';

const QUICK_CASES = ['TC-COAP-01', 'TC-COAP-03', 'TC-COAP-04', 'TC-COAP-05'];

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

  matrixTest('TC-COAP-06 (MAY, ICS coap.block1): passes on the reference device (its simulator profile claims Block1), not applicable when the ICS disclaims it', async () => {
    const v = await matrixVerdict('TC-COAP-06');
    expectPass('TC-COAP-06', v);
    expect(v!.reason).toMatch(/a gap answered 4\.08 .* Block1 blocks answered 2\.31 .* 2\.04 .*after 4\.13: \d+ Block1 blocks of 1024 bytes.* registered/);
    const unclaimed = await runOnSimulator(['TC-COAP-06'], null, {}, { 'coap.block1': false });
    expect(unclaimed.verdicts.get('TC-COAP-06')?.verdict).toBe('not-applicable');
  });
});
