/**
 * The bootstrap lifecycle cases (Delete, Finish consistency, Finish timeout, Initial
 * Registration Delay, Bootstrap-Request Trigger, bootstrap-interface guard, Bootstrap-Server
 * Account Timeout) pass on the conformant reference device, each with a reason naming the
 * exchange it judged.
 */
import { isBroken, explain, expectPass } from './support/simulator-run.js';
import { matrixRun, matrixTest, matrixVerdict, expectReferencePasses } from './support/shared-matrix.js';

const NAMED_EXCHANGE: Record<string, RegExp> = {
  'TC-BS-10': /Bootstrap-Delete \/ answered 2\.02 Deleted; Bootstrap-Discover \/ then showed .*<\/0\/\d+>.*<\/3\/0>/,
  'TC-BS-11': /Bootstrap-Finish answered 4\.06 Not Acceptable/,
  'TC-BS-12': /Bootstrap-Finish answered 4\.06 Not Acceptable/,
  'TC-BS-14': /Register CON POST \/rd\?.* after the 2\.04 to Bootstrap-Finish, honouring the Initial Registration Delay of 3 s/,
  'TC-BS-15': /Execute \/1\/\d+\/9 answered 2\.04 Changed, then Bootstrap-Request CON POST \/bs/,
  'TC-BS-16': /POST \/bs from the LwM2M Server answered 4\.0[014]/,
  'TC-BS-17': /\/0\/\d+\/12 = 2 s written; after it ran, Execute \/1\/\d+\/9 answered 2\.04 Changed and no Bootstrap-Request followed/,
};

describe('bootstrap lifecycle cases against the conformant reference device', () => {
  matrixTest('Delete, Finish consistency, Initial Registration Delay, Trigger, guard and account timeout cases pass, naming the exchange', async () => {
    await expectReferencePasses(NAMED_EXCHANGE);
  });

  matrixTest('the Bootstrap-Finish timeout case passes: nothing reaches the LwM2M Server within EXCHANGE_LIFETIME + hold-off + startup bound; the new Bootstrap-Request is noted, not judged', async () => {
    const v = await matrixVerdict('TC-BS-13');
    expectPass('TC-BS-13', v);
    expect(v!.reason).toMatch(/nothing reached the LwM2M Server of the unfinished session .*EXCHANGE_LIFETIME 7\.500 s .*tolerance 1\.000 s\); a new Bootstrap-Request CON POST \/bs/);
  });

  matrixTest('defect commit-on-finish-timeout: a Register on the half-finished configuration fails TC-BS-13', async () => {
    const v = await matrixVerdict('TC-BS-13', 'commit-on-finish-timeout');
    expect(`TC-BS-13: ${explain(v)}`).toMatch(/^TC-BS-13: fail: /);
    expect(v!.reason).toMatch(/does not register with, or otherwise use, the configuration .*observed register CON POST \/rd/);
  });

  matrixTest('defect delete-keeps-objects: a 2.02 to Bootstrap-Delete / that leaves /4/0 fails TC-BS-10, naming the surviving instance', async () => {
    const v = await matrixVerdict('TC-BS-10', 'delete-keeps-objects');
    expect(`TC-BS-10 broken: ${isBroken(v, 'MUST')} — ${explain(v)}`).toMatch(/^TC-BS-10 broken: true/);
    expect(v!.verdict).toBe('fail');
    expect(v!.reason).toMatch(/no instance of any object survives Bootstrap-Delete \/.*observed <\/4\/0> still there after the 2\.02/);
  });

  matrixTest('defect finish-accepts-no-server: a 2.04 to a Finish that leaves no LwM2M Server account fails TC-BS-12, though a new Bootstrap-Request follows', async () => {
    const run = await matrixRun(['TC-BS-12', 'TC-BS-11'], 'finish-accepts-no-server');
    const v = run.verdicts.get('TC-BS-12');
    expect(`TC-BS-12: ${explain(v)}`).toMatch(/^TC-BS-12: fail: /);
    expect(v!.reason).toMatch(/expected 4\.06 Not Acceptable, observed Bootstrap-Finish answered 2\.04 Changed: the device reported a successful bootstrap without any LwM2M Server account/);
    // The defect is narrow: a Server instance without its Security instance is still refused.
    expect(run.verdicts.get('TC-BS-11')?.verdict).toBe('pass');
  });
});
