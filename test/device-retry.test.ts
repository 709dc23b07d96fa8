/**
 * The reference device's Communication Retry behaviour (Server resources 16-20), with
 * small timers written at bootstrap and a scripted server that rejects or ignores every
 * Register, and the retry defects.
 */
import { DeviceBench, FAST_MAX_TRANSMIT_WAIT_MS, PROMPT_MS, type AccountSpec } from './support/device-bench.js';
import type { DefectName } from '../fixtures/device/defects.js';
import { elapsedMs, isBootstrapRequest, isRegister, type SeenRequest } from './support/scripted-peers.js';
import { afterFailedRegister } from '../fixtures/device/retry.js';
import { RETRY_DEFAULTS } from '../fixtures/device/accounts.js';

const EARLY_MS = 20;
const RETRY_TIMER_S = 1;

const benches: DeviceBench[] = [];
afterEach(async () => {
  await Promise.all(benches.splice(0).map((b) => b.close()));
});

/** Bootstraps a device whose every Register the server answers by `policy`; returns the first Register. */
async function rejected(account: Omit<AccountSpec, 'lifetimeS'>, opts: { defect?: DefectName; policy?: 'silent' | { code: string } } = {}) {
  const b = await DeviceBench.create({ defect: opts.defect });
  benches.push(b);
  b.desk.registerPolicy = opts.policy ?? { code: '4.03' };
  await b.provisionAndStart();
  expect(await b.bootstrapOnto({ lifetimeS: 30, ...account })).toEqual(['2.04', '2.04', '2.04']);
  const first = await b.must(b.server, isRegister, PROMPT_MS, 'Register #1');
  return { b, first };
}

/** Upper bound for a wait of `ms`: +50 % and the prompt margin, as the suite allows slow devices. */
const generous = (ms: number) => ms * 1.5 + PROMPT_MS;

async function nextRegister(b: DeviceBench, expectedGapMs: number, what: string): Promise<SeenRequest> {
  return b.must(b.server, isRegister, generous(expectedGapMs), what);
}

describe('retry rules, pure', () => {
  test('attempt 1 immediate, then Retry Timer × 2^(k−1); then the Sequence Delay; then bootstrap or idle', () => {
    const s = { ...RETRY_DEFAULTS, bootstrapOnFailure: false, retryCount: 3, retryTimerS: 2, sequenceRetryCount: 2, sequenceDelayS: 10 };
    expect(afterFailedRegister(s, { attempt: 1, sequence: 1 }, 'rejected')).toMatchObject({ kind: 'retry', delayMs: 2000 });
    expect(afterFailedRegister(s, { attempt: 2, sequence: 1 }, 'failed')).toMatchObject({ kind: 'retry', delayMs: 4000 });
    expect(afterFailedRegister(s, { attempt: 3, sequence: 1 }, 'failed')).toMatchObject({ kind: 'retry', delayMs: 10000, next: { attempt: 1, sequence: 2 } });
    expect(afterFailedRegister(s, { attempt: 3, sequence: 2 }, 'failed').kind).toBe('give-up');
    expect(afterFailedRegister({ ...s, bootstrapOnFailure: true }, { attempt: 3, sequence: 2 }, 'failed').kind).toBe('bootstrap');
    expect(afterFailedRegister({ ...s, bootstrapOnFailure: true }, { attempt: 1, sequence: 1 }, 'rejected').kind).toBe('bootstrap');
    expect(afterFailedRegister({ ...s, sequenceDelayS: 0xffffffff }, { attempt: 3, sequence: 1 }, 'failed').kind).toBe('give-up');
  });
});

describe('Communication Retry against a server that rejects every Register (4.03)', () => {
  test('Bootstrap on Registration Failure false: gaps of ≥ 1 s then ≥ 2 s, three attempts, no Bootstrap-Request', async () => {
    const { b, first } = await rejected({ bootstrapOnFailure: false, retryCount: 3, retryTimerS: RETRY_TIMER_S, sequenceRetryCount: 1 });
    const second = await nextRegister(b, 1000, 'Register #2');
    const third = await nextRegister(b, 2000, 'Register #3');
    expect(elapsedMs(first.monoNs, second.monoNs)).toBeGreaterThanOrEqual(1000 - EARLY_MS);
    expect(elapsedMs(first.monoNs, second.monoNs)).toBeLessThan(generous(1000));
    expect(elapsedMs(second.monoNs, third.monoNs)).toBeGreaterThanOrEqual(2000 - EARLY_MS);
    expect(elapsedMs(second.monoNs, third.monoNs)).toBeLessThan(generous(2000));
    // The sequence is over (count 3, one sequence) and 16 is false: silence, no fallback.
    // A device that went on would send #4 after Retry Timer × 2^2 = 4 s.
    expect(await b.server.next(isRegister, 4000 + PROMPT_MS)).toBeUndefined();
    expect(b.bs.inbox.all.filter(isBootstrapRequest)).toHaveLength(1);
  });

  test('a second sequence starts after the Sequence Delay Timer', async () => {
    const { b, first } = await rejected({ bootstrapOnFailure: false, retryCount: 2, retryTimerS: RETRY_TIMER_S, sequenceDelayS: 2, sequenceRetryCount: 2 });
    const second = await nextRegister(b, 1000, 'Register #2 (sequence 1)');
    const third = await nextRegister(b, 2000, 'Register #1 of sequence 2');
    const fourth = await nextRegister(b, 1000, 'Register #2 of sequence 2');
    expect(elapsedMs(first.monoNs, second.monoNs)).toBeGreaterThanOrEqual(1000 - EARLY_MS);
    expect(elapsedMs(second.monoNs, third.monoNs)).toBeGreaterThanOrEqual(2000 - EARLY_MS);
    expect(elapsedMs(third.monoNs, fourth.monoNs)).toBeGreaterThanOrEqual(1000 - EARLY_MS);
    expect(elapsedMs(third.monoNs, fourth.monoNs)).toBeLessThan(2000 - EARLY_MS);
  });

  test('Bootstrap on Registration Failure true: the rejection is followed by a Bootstrap-Request', async () => {
    const { b, first } = await rejected({ bootstrapOnFailure: true, retryCount: 3, retryTimerS: RETRY_TIMER_S });
    const req = await b.must(b.bs, isBootstrapRequest, PROMPT_MS, 'fallback Bootstrap-Request');
    expect(req.msg.type).toBe('CON');
    expect(req.monoNs > first.monoNs).toBe(true);
    expect(b.server.inbox.all.filter(isRegister)).toHaveLength(1);
  });

  test('Bootstrap on Registration Failure absent (default true) behaves as true', async () => {
    const { b } = await rejected({ retryCount: 3, retryTimerS: RETRY_TIMER_S });
    await b.must(b.bs, isBootstrapRequest, PROMPT_MS, 'fallback Bootstrap-Request');
  });
});

describe('Communication Retry against a silent server', () => {
  test('each timed-out attempt counts; after the last sequence the device falls back to bootstrap', async () => {
    const { b, first } = await rejected({ bootstrapOnFailure: true, retryCount: 2, retryTimerS: RETRY_TIMER_S, sequenceRetryCount: 1 }, { policy: 'silent' });
    // CoAP retransmissions of one Register share its MID; a new attempt has a new MID.
    const second = await b.must(b.server, (r) => isRegister(r) && r.msg.mid !== first.msg.mid, generous(FAST_MAX_TRANSMIT_WAIT_MS + 1000), 'Register attempt #2');
    expect(elapsedMs(first.monoNs, second.monoNs)).toBeGreaterThanOrEqual((FAST_MAX_TRANSMIT_WAIT_MS * 2) / 3 + 1000 - EARLY_MS);
    const req = await b.must(b.bs, isBootstrapRequest, generous(FAST_MAX_TRANSMIT_WAIT_MS), 'fallback Bootstrap-Request');
    expect(elapsedMs(second.monoNs, req.monoNs)).toBeGreaterThanOrEqual((FAST_MAX_TRANSMIT_WAIT_MS * 2) / 3 - EARLY_MS);
  });
});

describe('retry defects', () => {
  test('no-registration-retry: after the rejection nothing more, neither Register nor Bootstrap-Request', async () => {
    const { b } = await rejected({ bootstrapOnFailure: false, retryCount: 3, retryTimerS: RETRY_TIMER_S }, { defect: 'no-registration-retry' });
    expect(await b.server.next(isRegister, generous(1000))).toBeUndefined();
    expect(b.bs.inbox.all.filter(isBootstrapRequest)).toHaveLength(1);
  });

  test('retry-without-backoff: the second gap is the Retry Timer again, not twice it', async () => {
    const { b, first } = await rejected({ bootstrapOnFailure: false, retryCount: 3, retryTimerS: RETRY_TIMER_S }, { defect: 'retry-without-backoff' });
    const second = await nextRegister(b, 1000, 'Register #2');
    const third = await nextRegister(b, 2000, 'Register #3');
    expect(elapsedMs(first.monoNs, second.monoNs)).toBeGreaterThanOrEqual(1000 - EARLY_MS);
    expect(elapsedMs(second.monoNs, third.monoNs)).toBeLessThan(2000 - EARLY_MS);
  });

  test('no-bootstrap-fallback: with 16 = true a rejection leads to another Register, never to a Bootstrap-Request', async () => {
    const { b, first } = await rejected({ bootstrapOnFailure: true, retryCount: 2, retryTimerS: RETRY_TIMER_S }, { defect: 'no-bootstrap-fallback' });
    const second = await nextRegister(b, 1000, 'Register #2');
    expect(elapsedMs(first.monoNs, second.monoNs)).toBeGreaterThanOrEqual(1000 - EARLY_MS);
    expect(await b.bs.next(isBootstrapRequest, PROMPT_MS)).toBeUndefined();
  });
});
