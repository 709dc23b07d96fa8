/**
 * The Certificate-mode-with-EST cases (TC-EST-01..11) against the reference device: they
 * pass on the conformant device (Security Mode 4 written, crts then sen over the IDevID
 * session on the Bootstrap-Server, Register with the issued certificate, sren before the
 * short-lived certificate runs out), and a few seeded EST defects give the verdict their
 * row's level calls for, named in the reason. Every EST defect against every case it
 * declares is in the defect matrix (test/defect-matrix.test.ts); the cells these tests
 * read come from that same shared run (test/support/shared-matrix.ts).
 */
import { expectPass, inboundPaths } from './support/simulator-run.js';
import { matrixRun, matrixTest, matrixVerdict } from './support/shared-matrix.js';

const EST_CASES = ['TC-EST-01', 'TC-EST-02', 'TC-EST-03', 'TC-EST-04', 'TC-EST-05', 'TC-EST-06', 'TC-EST-07', 'TC-EST-08', 'TC-EST-09', 'TC-EST-10', 'TC-EST-11'];

describe('EST cases on the reference device', () => {
  matrixTest('all pass; the wire shows crts before sen on the Bootstrap-Server, then the Register', async () => {
    const run = await matrixRun(EST_CASES);
    for (const id of EST_CASES) expectPass(id, run.verdicts.get(id));
    const wire = inboundPaths(run, 'TC-EST-05').filter((w) => !w.endsWith('/bspack'));
    expect(wire.indexOf('bootstrap-server /.well-known/est/crts')).toBeGreaterThan(wire.indexOf('bootstrap-server /bs'));
    expect(wire.indexOf('bootstrap-server /.well-known/est/sen')).toBeGreaterThan(wire.indexOf('bootstrap-server /.well-known/est/crts'));
    expect(wire.indexOf('lwm2m-server /rd')).toBeGreaterThan(wire.indexOf('bootstrap-server /.well-known/est/sen'));
    expect(run.verdicts.get('TC-EST-07')!.reason).toMatch(/^re-enrolled [\d.]+ s after the first enrollment, before expiry; then CON POST \/rd.* with the renewed certificate$/);
    expect(inboundPaths(run, 'TC-EST-07')).toContain('bootstrap-server /.well-known/est/sren');
  });

  matrixTest('defect est-psk-auth: TC-EST-02 fails at the IDevID MUST, naming the PSK ClientHello the Bootstrap-Server refused', async () => {
    const v = await matrixVerdict('TC-EST-02', 'est-psk-auth');
    expect(v?.verdict).toBe('fail');
    expect(v!.reason).toMatch(/no EST request \(crts or sen\) reached the EST server on the Bootstrap-Server \(coaps:\/\/127\.0\.0\.1:\d+\) within [\d.]+ s of Bootstrap-Finish — .*the device offered TLS_PSK_WITH_AES_128_CCM_8/);
  });

  matrixTest('defect est-stale-key: TC-EST-04 passes with the SHOULD advisory naming the IDevID key', async () => {
    const v = await matrixVerdict('TC-EST-04', 'est-stale-key');
    expect(v?.verdict).toBe('pass');
    expect(v!.advisory).toMatch(/SHOULD not met \(LWM2M-TRANS-EST-03, advisory\): the CSR key is not the IDevID key .*: expected a key other than the IDevID's sha256:([0-9a-f]{16}), observed key sha256:\1/);
  });

  matrixTest('defect est-ignores-retry-after: TC-EST-08 gives the SHOULD advisory with the gap it measured', async () => {
    const v = await matrixVerdict('TC-EST-08', 'est-ignores-retry-after');
    expect(v?.verdict).toBe('pass');
    expect(v!.advisory).toMatch(/SHOULD not met \(EST-COAPS-04, advisory\): the sen after a 5\.03 comes no sooner than its Max-Age: expected 4\.000 s to/);
  });

  matrixTest('defect est-keeps-idevid: after a 4.03 the device registers anyway, and TC-EST-09 fails naming the IDevID it presented', async () => {
    const v = await matrixVerdict('TC-EST-09', 'est-keeps-idevid');
    expect(v?.verdict).toBe('fail');
    expect(v!.reason).toMatch(/the device registered after its enrollment was refused 4\.03 \(CON POST \/rd.*\), presenting CN=urn:dev:ops:geisa-ref-0001 issued by CN=GEISA reference device manufacturer CA/);
  });
});
