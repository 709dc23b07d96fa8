/**
 * The Bootstrap-Pack cases (TC-BS-19, -20, -21) against the reference device, which the
 * simulator provisions to ask GET /bspack first because its profile claims
 * bootstrap.pack-request: they pass on the conformant device, each seeded bspack defect
 * gives the verdict its row's level calls for, and without the claim the device never asks
 * for a pack, so the pack cases are not applicable and classic bootstrap sees POST /bs only.
 */
import { runOnSimulator, expectPass, inboundPaths } from './support/simulator-run.js';
import { matrixRun, matrixTest, matrixVerdict } from './support/shared-matrix.js';

const PACK_CASES = ['TC-BS-19', 'TC-BS-20', 'TC-BS-21'];

describe('Bootstrap-Pack cases on the reference device', () => {
  matrixTest('all three pass; the wire shows GET /bspack, a block-wise pack and a Register with no POST /bs in TC-BS-19', async () => {
    const run = await matrixRun([...PACK_CASES, 'TC-BS-01']);
    for (const id of [...PACK_CASES, 'TC-BS-01']) expectPass(id, run.verdicts.get(id));
    expect(run.verdicts.get('TC-BS-19')!.reason).toMatch(
      /^the device asked CON GET \/bspack\?ep=urn:dev:ops:geisa-ref-0001 .*\(Accept 112 .*Block2 0\/128\), took the pack \(\d+ bytes .* in \d+ Block2 blocks\) and registered at coap:\/\/127\.0\.0\.1:\d+ with CON POST \/rd\?ep=.*&lt=10.* with no Bootstrap-Finish$/,
    );
    const wire = inboundPaths(run, 'TC-BS-19');
    expect(wire.filter((w) => w === 'bootstrap-server /bspack').length).toBeGreaterThan(1);
    expect(wire).toContain('lwm2m-server /rd');
    expect(wire).not.toContain('bootstrap-server /bs');
    expect(run.verdicts.get('TC-BS-21')!.reason).toMatch(/^the Bootstrap-Pack-Request CON GET \/bspack\?ep=.* was answered 4\.04 and the device sent the Bootstrap-Request CON POST \/bs\?ep=/);
    // Classic bootstrap with the pack path on: refused first, then POST /bs.
    expect(inboundPaths(run, 'TC-BS-01').slice(0, 2)).toEqual(['bootstrap-server /bspack', 'bootstrap-server /bs']);
  });

  matrixTest('defect bspack-ignores-pack: TC-BS-19 fails at its MUST naming the missing Register; TC-BS-21 still passes', async () => {
    const run = await matrixRun(['TC-BS-19', 'TC-BS-21'], 'bspack-ignores-pack');
    const v = run.verdicts.get('TC-BS-19');
    expect(v?.verdict).toBe('fail');
    expect(v!.reason).toMatch(/no Register \(POST \/rd\) reached the LwM2M Server at coap:\/\/127\.0\.0\.1:\d+ within [\d.]+ s of the Bootstrap-Pack-Request/);
    expect(run.verdicts.get('TC-BS-21')?.verdict).toBe('pass');
  });

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

  matrixTest('defect bspack-pairs-by-instance-id: TC-BS-20 passes with the SHOULD advisory, naming the Register', async () => {
    const v = await matrixVerdict('TC-BS-20', 'bspack-pairs-by-instance-id');
    expect(v?.verdict).toBe('pass');
    expect(v!.advisory).toMatch(/SHOULD not met \(LWM2M-CORE-BSPACK-03, advisory\): after a pack with no consistent account .* the device registered at coap:\/\/127\.0\.0\.1:\d+ with CON POST \/rd/);
  });

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
