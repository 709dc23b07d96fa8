/**
 * The Bootstrap-Pack cases (TC-BS-19, -20, -21) against the reference device, which the
 * simulator provisions to ask GET /bspack first because its profile claims
 * bootstrap.pack-request: they pass on the conformant device, each seeded bspack defect
 * gives the verdict its row's level calls for, and without the claim the device never asks
 * for a pack, so the pack cases are not applicable and classic bootstrap sees POST /bs only.
 */
import { expectPass, inboundPaths } from './support/simulator-run.js';
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

  matrixTest('defect bspack-pairs-by-instance-id: TC-BS-20 passes with the SHOULD advisory, naming the Register', async () => {
    const v = await matrixVerdict('TC-BS-20', 'bspack-pairs-by-instance-id');
    expect(v?.verdict).toBe('pass');
    expect(v!.advisory).toMatch(/SHOULD not met \(LWM2M-CORE-BSPACK-03, advisory\): after a pack with no consistent account .* the device registered at coap:\/\/127\.0\.0\.1:\d+ with CON POST \/rd/);
  });
});
