/**
 * The Bootstrap-Pack cases' runs of their own, apart from the shared matrix so that they
 * start early (test/suite-bootstrap-pack.test.ts reads the matrix's cells). The cases
 * (TC-BS-19, -20, -21) against the reference device, which the
 * simulator provisions to ask GET /bspack first because its profile claims
 * bootstrap.pack-request: they pass on the conformant device, each seeded bspack defect
 * gives the verdict its row's level calls for, and without the claim the device never asks
 * for a pack, so the pack cases are not applicable and classic bootstrap sees POST /bs only.
 */
import { runOnSimulator, inboundPaths } from './support/simulator-run.js';

const PACK_CASES = ['TC-BS-19', 'TC-BS-20', 'TC-BS-21'];

describe('Bootstrap-Pack cases on the reference device: runs of their own (a defect outcome or an ICS outside the shared matrix)', () => {
  test('defect bspack-no-fallback: TC-BS-21 fails (GEISA SHALL), TC-BS-20 is inconclusive (the fallback is open), TC-BS-01 fails naming the refused pack requests', async () => {
    const run = await runOnSimulator(['TC-BS-21', 'TC-BS-20', 'TC-BS-01'], 'bspack-no-fallback');
    const c = run.verdicts.get('TC-BS-21');
    expect(c?.verdict).toBe('fail');
    expect(c!.reason).toMatch(/after its Bootstrap-Pack-Request CON GET \/bspack.* was answered 4\.04, no Bootstrap-Request \(POST \/bs\) reached .* the device cannot bootstrap from a Bootstrap-Server that serves no pack/);
    const b = run.verdicts.get('TC-BS-20');
    expect(b?.verdict).toBe('inconclusive');
    expect(b!.reason).toMatch(/no Bootstrap-Request \(POST \/bs\) reached .* of the unusable pack \(the device asked for the pack \d+ more times?\); LWM2M-CORE-BSPACK-04, .* leaves this open/);
    const a = run.verdicts.get('TC-BS-01');
    expect(a?.verdict).toBe('fail');
    expect(a!.reason).toMatch(/it sent \d+ Bootstrap-Pack-Requests? \(GET \/bspack\) instead, answered 4\.04 \(this case serves no pack\)/);
  }, 150_000);

  test('without the ICS claim the device is not provisioned for packs: TC-BS-19/20 not applicable, TC-BS-21 not applicable (no pack asked), TC-BS-01 sees POST /bs only', async () => {
    const run = await runOnSimulator([...PACK_CASES, 'TC-BS-01'], null, {}, { 'bootstrap.pack-request': false });
    expect(run.verdicts.get('TC-BS-19')?.verdict).toBe('not-applicable');
    expect(run.verdicts.get('TC-BS-20')?.verdict).toBe('not-applicable');
    const c = run.verdicts.get('TC-BS-21');
    expect(c?.verdict).toBe('not-applicable');
    expect(c!.reason).toMatch(/^the device opened bootstrap with the Bootstrap-Request CON POST \/bs\?ep=.* and never asked for a pack/);
    expect(run.verdicts.get('TC-BS-01')?.verdict).toBe('pass');
    expect(
      inboundPaths(run, 'TC-BS-01')
        .filter((w) => w.startsWith('bootstrap-server'))
        .every((w) => w === 'bootstrap-server /bs'),
    ).toBe(true);
    const provision = run.events.find((e) => e.type === 'note' && e.caseId === 'TC-BS-01' && e.text.startsWith('[provision] $ '));
    expect(provision && provision.type === 'note' ? provision.text : '').not.toContain('--bootstrap-pack');
  }, 90_000);
});
