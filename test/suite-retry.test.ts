/**
 * The retry, fallback and DTLS cipher-suite cases against the reference device, read from
 * the shared matrix (their runs of their own are in test/suite-retry-runs.test.ts): each
 * passes and its reason names the exchange it judged. The cases that wait for a CoAP
 * give-up (MAX_TRANSMIT_WAIT) also run with shorter IXIT CoAP parameters, which shows
 * their windows follow the profile, and keeps this file fast. The variant that
 * re-bootstraps only after its retries shows TC-RETRY-02 and TC-RETRY-09 accept both
 * alternatives resource 16 allows.
 */
import { explain } from './support/simulator-run.js';
import { matrixRun, matrixTest } from './support/shared-matrix.js';

describe('retry and DTLS cipher-suite cases pass on the reference device', () => {
  matrixTest('sequences, defaults of resource 16, re-handshake report, /0/x/16 in PSK and certificate mode', async () => {
    const run = await matrixRun(['TC-RETRY-03', 'TC-RETRY-04', 'TC-RETRY-08', 'TC-RETRY-09', 'TC-SEC-07', 'TC-SEC-09']);
    const v = (id: string) => explain(run.verdicts.get(id));
    expect(v('TC-RETRY-03')).toMatch(/^pass: two sequences of 2 rejected Registers: sequence 2 started \d+\.\d+ s after the last failure of sequence 1 .*no third sequence/);
    expect(v('TC-RETRY-04')).toMatch(/^pass: one sequence of 2 rejected Registers, then no further Register within \d+\.\d+ s of the last \(Sequence Retry Count 1\), and no Bootstrap-Request while the sequence lasted$/);
    expect(v('TC-RETRY-08')).toMatch(/^pass: each 4\.03 over DTLS was counted as a failed attempt: 3 Register attempts; .*Register #1: new DTLS handshake/);
    expect(v('TC-RETRY-09')).toMatch(/^pass: with \/1\/x\/16 absent, after 1 rejected Register attempt\(s\) the device fell back to bootstrap: CON POST \/bs\?ep=/);
    expect(v('TC-SEC-07')).toMatch(/^pass: the ClientHello toward the LwM2M Server proposed TLS_PSK_WITH_AES_128_CCM_8, exactly \/0\/x\/16 as written .*then CON POST \/rd\?/);
    expect(v('TC-SEC-09')).toMatch(/^pass: the ClientHello toward the LwM2M Server proposed TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, exactly \/0\/x\/16 as written .*then CON POST \/rd\?/);
    expect(run.exitCode).toBe(0);
  });

  matrixTest('TC-RETRY-03 and TC-RETRY-04 see the Bootstrap-Request, note it as unspecified and pass without advisory', async () => {
    const run = await matrixRun(['TC-RETRY-03', 'TC-RETRY-04'], 'unspecified-after-sequences');
    for (const id of ['TC-RETRY-03', 'TC-RETRY-04']) {
      const v = run.verdicts.get(id);
      expect(explain(v)).toMatch(/^pass: /);
      expect(v?.advisory).toBeUndefined();
      const notes = run.events.filter((e) => e.type === 'note' && e.caseId === id).map((e) => (e as { text: string }).text);
      expect(notes.join('\n')).toMatch(/Bootstrap-Request CON POST \/bs\?ep=\S+ \(mid \d+\) \d+\.\d+ m?s after the last attempt of the last sequence .* is not specified \(1\.xml res 16, LWM2M-CORE-RETRY-03\); noted, not judged/);
    }
  });
});

// TC-RETRY-07 (the default Retry Timer of 60 s, doubling) is minutes of real time: test/suite-reference.slow.test.ts.
