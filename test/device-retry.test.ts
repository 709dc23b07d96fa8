/**
 * The reference device's Communication Retry behaviour (Server resources 16-20), with
 * small timers written at bootstrap and a scripted server that rejects or ignores every
 * Register, and the retry defects.
 */
import { DeviceBench, FAST_MAX_TRANSMIT_WAIT_MS, PROMPT_MS, type AccountSpec, benchPerTest } from './support/device-bench.js';
import type { DefectName } from '../fixtures/device/defects.js';
import { elapsedMs, isBootstrapRequest, isRegister, type SeenRequest } from './support/scripted-peers.js';
import { afterFailedRegister } from '../fixtures/device/retry.js';
import { RETRY_DEFAULTS } from '../fixtures/device/accounts.js';
import { ManualClock } from './support/manual-clock.js';

const EARLY_MS = 20;
const RETRY_TIMER_S = 1;

const openBench = benchPerTest();

/**
 * Bootstraps a device whose every Register the server answers by `policy`; returns the
 * first Register. Its timers run on a manual clock unless `realTime`: the retry schedule
 * is the device's own logic, so a test advances the clock rather than sleeping through it.
 */
async function rejected(account: Omit<AccountSpec, 'lifetimeS'>, opts: { defect?: DefectName; policy?: 'silent' | { code: string }; realTime?: boolean } = {}) {
  const clock = new ManualClock();
  const b = await openBench({ defect: opts.defect, clock: opts.realTime ? undefined : clock });
  b.desk.registerPolicy = opts.policy ?? { code: '4.03' };
  await b.provisionAndStart();
  expect(await b.bootstrapOnto({ lifetimeS: 30, ...account })).toEqual(['2.04', '2.04', '2.04']);
  const first = await b.must(b.server, isRegister, PROMPT_MS, 'Register #1');
  return { b, first, clock };
}

/** Upper bound for a wait of `ms`: +50 % and the prompt margin, as the suite allows slow devices. */
const generous = (ms: number) => ms * 1.5 + PROMPT_MS;

/** The delay of the retry timer the device arms after a failed Register. */
function retryTimer(clock: ManualClock, what: string): Promise<number> {
  return clock.whenWaiting(() => true, PROMPT_MS, what);
}

/**
 * Moves the clock to 1 ms short of `delayMs`, where nothing may have gone out yet, then to
 * it; resolves with the Register that follows.
 */
async function registerAfter(b: DeviceBench, clock: ManualClock, delayMs: number, what: string): Promise<SeenRequest> {
  const before = b.server.inbox.all.filter(isRegister).length;
  clock.advance(delayMs - 1);
  expect(`${what} before its time: ${b.server.inbox.all.filter(isRegister).length - before}`).toBe(`${what} before its time: 0`);
  clock.advance(1);
  return b.must(b.server, isRegister, PROMPT_MS, what);
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
  test('Bootstrap on Registration Failure false: waits of 1 s then 2 s, three attempts, no Bootstrap-Request', async () => {
    const { b, clock } = await rejected({ bootstrapOnFailure: false, retryCount: 3, retryTimerS: RETRY_TIMER_S, sequenceRetryCount: 1 });
    expect(await retryTimer(clock, 'after Register #1')).toBe(1000);
    await registerAfter(b, clock, 1000, 'Register #2');
    expect(await retryTimer(clock, 'after Register #2')).toBe(2000);
    await registerAfter(b, clock, 2000, 'Register #3');
    // The sequence is over (count 3, one sequence) and 16 is false: silence, no fallback.
    await b.waitForLog(/giving up on registration/, PROMPT_MS);
    expect(clock.waiting()).toEqual([]);
    // A device that went on would send #4 after Retry Timer × 2^2 = 4 s.
    clock.advance(3_600_000);
    expect(await b.server.next(isRegister, 200)).toBeUndefined();
    expect(b.bs.inbox.all.filter(isBootstrapRequest)).toHaveLength(1);
  });

  test('a second sequence starts after the Sequence Delay Timer', async () => {
    const { b, clock } = await rejected({ bootstrapOnFailure: false, retryCount: 2, retryTimerS: RETRY_TIMER_S, sequenceDelayS: 2, sequenceRetryCount: 2 });
    expect(await retryTimer(clock, 'after Register #1 of sequence 1')).toBe(1000);
    await registerAfter(b, clock, 1000, 'Register #2 (sequence 1)');
    expect(await retryTimer(clock, 'Sequence Delay after sequence 1')).toBe(2000);
    await registerAfter(b, clock, 2000, 'Register #1 of sequence 2');
    // A new sequence starts its Retry Timer afresh: 1 s, not the 2 s it had doubled to.
    expect(await retryTimer(clock, 'after Register #1 of sequence 2')).toBe(1000);
    await registerAfter(b, clock, 1000, 'Register #2 of sequence 2');
    await b.waitForLog(/giving up on registration/, PROMPT_MS);
    expect(clock.waiting()).toEqual([]);
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
    // The wire is the point here: attempts end by CoAP timeouts, so the device runs in real time.
    const { b, first } = await rejected({ bootstrapOnFailure: true, retryCount: 2, retryTimerS: RETRY_TIMER_S, sequenceRetryCount: 1 }, { policy: 'silent', realTime: true });
    // CoAP retransmissions of one Register share its MID; a new attempt has a new MID.
    const second = await b.must(b.server, (r) => isRegister(r) && r.msg.mid !== first.msg.mid, generous(FAST_MAX_TRANSMIT_WAIT_MS + 1000), 'Register attempt #2');
    expect(elapsedMs(first.monoNs, second.monoNs)).toBeGreaterThanOrEqual((FAST_MAX_TRANSMIT_WAIT_MS * 2) / 3 + 1000 - EARLY_MS);
    const req = await b.must(b.bs, isBootstrapRequest, generous(FAST_MAX_TRANSMIT_WAIT_MS), 'fallback Bootstrap-Request');
    expect(elapsedMs(second.monoNs, req.monoNs)).toBeGreaterThanOrEqual((FAST_MAX_TRANSMIT_WAIT_MS * 2) / 3 - EARLY_MS);
  });
});

describe('retry defects', () => {
  test('no-registration-retry: after the rejection nothing more, neither Register nor Bootstrap-Request', async () => {
    const { b, clock } = await rejected({ bootstrapOnFailure: false, retryCount: 3, retryTimerS: RETRY_TIMER_S }, { defect: 'no-registration-retry' });
    await b.waitForLog(/giving up on registration/, PROMPT_MS);
    expect(clock.waiting()).toEqual([]);
    clock.advance(3_600_000);
    expect(await b.server.next(isRegister, 200)).toBeUndefined();
    expect(b.bs.inbox.all.filter(isBootstrapRequest)).toHaveLength(1);
  });

  test('retry-without-backoff: the second wait is the Retry Timer again, not twice it', async () => {
    const { b, clock } = await rejected({ bootstrapOnFailure: false, retryCount: 3, retryTimerS: RETRY_TIMER_S }, { defect: 'retry-without-backoff' });
    expect(await retryTimer(clock, 'after Register #1')).toBe(1000);
    await registerAfter(b, clock, 1000, 'Register #2');
    expect(await retryTimer(clock, 'after Register #2')).toBe(1000);
    await registerAfter(b, clock, 1000, 'Register #3');
  });

  test('no-bootstrap-fallback: with 16 = true a rejection leads to another Register, never to a Bootstrap-Request', async () => {
    const { b, clock } = await rejected({ bootstrapOnFailure: true, retryCount: 2, retryTimerS: RETRY_TIMER_S }, { defect: 'no-bootstrap-fallback' });
    expect(await retryTimer(clock, 'after Register #1')).toBe(1000);
    await registerAfter(b, clock, 1000, 'Register #2');
    // Both attempts of the one sequence rejected: a conformant device bootstraps here.
    await b.waitForLog(/giving up on registration/, PROMPT_MS);
    expect(b.bs.inbox.all.filter(isBootstrapRequest)).toHaveLength(1);
  });
});
