/**
 * The retry cases' runs of their own, apart from the shared matrix so that they start
 * early (test/suite-retry.test.ts reads the matrix's cells). The retry, fallback and DTLS
 * cipher-suite cases against the reference device: each passes and its reason names the exchange it judged. The cases that wait for a CoAP
 * give-up (MAX_TRANSMIT_WAIT) also run with shorter IXIT CoAP parameters, which shows
 * their windows follow the profile, and keeps this file fast. The variant that
 * re-bootstraps only after its retries shows TC-RETRY-02 and TC-RETRY-09 accept both
 * alternatives resource 16 allows.
 */
import { runCases, runOnSimulator, profileWithCoap, explain } from './support/simulator-run.js';
import { afterFailedRegister } from '../fixtures/device/retry.js';
import { RETRY_DEFAULTS } from '../fixtures/device/accounts.js';

/** ACK_TIMEOUT 0.5 s, MAX_RETRANSMIT 2: MAX_TRANSMIT_WAIT 5.25 s, half the built-in profile's 10.5 s. */
const SHORTER_GIVE_UP = { ackTimeoutS: 0.5, maxRetransmit: 2 };

describe('Retry cases: runs of their own (short CoAP parameters, variants outside the shared matrix)', () => {
  test('the cases that wait for a CoAP give-up, with short IXIT CoAP parameters', async () => {
    const run = await runCases(['TC-RETRY-05', 'TC-RETRY-06', 'TC-SEC-08'], { profile: profileWithCoap(SHORTER_GIVE_UP) });
    const v = (id: string) => explain(run.verdicts.get(id));
    expect(v('TC-RETRY-05')).toMatch(/^pass: after the Update CON POST \/rd\/\S+ \(mid \d+\) went unanswered \(\d+ retransmission\(s\) of the Update seen\), the device registered again: CON POST \/rd\?ep=.*MAX_TRANSMIT_WAIT 5\.250 s/);
    expect(v('TC-RETRY-06')).toMatch(/^pass: the LwM2M Server coap:\/\/127\.0\.0\.1:\d+ never answered; .*the device fell back: CON POST \/bs\?ep=.*registered to the reachable server: CON POST \/rd\?/);
    expect(v('TC-SEC-08')).toMatch(/^pass: the DTLS handshake with the LwM2M Server failed [1-9]\d* time\(s\) and counted as a registration failure: .*the device fell back: CON POST \/bs\?ep=/);
  }, 200_000);
});

describe('TC-RETRY-02 and TC-RETRY-09 accept both fallbacks resource 16 allows', () => {
  test("the variant's rule: a rejection is one more failed attempt, and the fallback comes once the sequences are used up", () => {
    const s = { ...RETRY_DEFAULTS, bootstrapOnFailure: true, retryCount: 2, retryTimerS: 1, sequenceRetryCount: 1 };
    const variant = { rejectionIsFailure: true };
    expect(afterFailedRegister(s, { attempt: 1, sequence: 1 }, 'rejected').kind).toBe('bootstrap');
    expect(afterFailedRegister(s, { attempt: 1, sequence: 1 }, 'rejected', variant)).toMatchObject({ kind: 'retry', delayMs: 1000, next: { attempt: 2, sequence: 1 } });
    expect(afterFailedRegister(s, { attempt: 2, sequence: 1 }, 'rejected', variant).kind).toBe('bootstrap');
  });

  test('a device that re-bootstraps only once its retries are used up passes, and the reason says so', async () => {
    const run = await runOnSimulator(['TC-RETRY-02', 'TC-RETRY-09'], null, { bootstrapAfterRetries: true });
    for (const id of ['TC-RETRY-02', 'TC-RETRY-09']) {
      const v = run.verdicts.get(id);
      expect(explain(v)).toMatch(/^pass: .*after 3 rejected Register attempt\(s\) the device fell back to bootstrap: CON POST \/bs\?ep=.*\(after the retries\)$/);
      expect(v?.advisory).toBeUndefined();
    }
  }, 120_000);
});

describe('unspecified-after-sequences: a Bootstrap-Request once every sequence has failed (/1/x/16 false) is noted, never judged', () => {
  test("the device's rule: retries first, the Bootstrap-Request only after the last attempt of the last sequence", () => {
    const s = { ...RETRY_DEFAULTS, bootstrapOnFailure: false, retryCount: 2, retryTimerS: 1, sequenceDelayS: 4, sequenceRetryCount: 2 };
    const quirk = { bootstrapAfterLastSequence: true };
    expect(afterFailedRegister(s, { attempt: 1, sequence: 1 }, 'rejected', quirk)).toMatchObject({ kind: 'retry', next: { attempt: 2, sequence: 1 } });
    expect(afterFailedRegister(s, { attempt: 2, sequence: 1 }, 'rejected', quirk)).toMatchObject({ kind: 'retry', delayMs: 4000, next: { attempt: 1, sequence: 2 } });
    expect(afterFailedRegister(s, { attempt: 2, sequence: 2 }, 'rejected', quirk).kind).toBe('bootstrap');
    expect(afterFailedRegister(s, { attempt: 2, sequence: 2 }, 'rejected').kind).toBe('give-up');
  });
});

// TC-RETRY-07 (the default Retry Timer of 60 s, doubling) is minutes of real time: test/suite-reference.slow.test.ts.
