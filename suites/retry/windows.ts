/**
 * The windows the retry and fallback cases wait, from the device's timers. Each case
 * computes its waits here from t.timers and its budget from the same functions, so a wait
 * and the budget that must cover it cannot drift apart.
 */
import type { DeviceTimers } from '../../harness/runner/budget.js';
import { type CaseContext, fmtMs } from '../../harness/runner/context.js';
import type { RegistrationMessage } from '../../harness/servers/lwm2m-server.js';
import { describeRequest, registrationRetryBudgetMs } from '../steps.js';

/** Scheduling slack on the lower bound of a retry gap, stated in every timing reason. */
export const RETRY_TOLERANCE_MS = 100;

/**
 * The spec fixes the wait between attempts as a lower bound; a device may be slower to
 * act, so the upper bound is +50 % +1 s over the device's own timer.
 */
export function slowDeviceBoundMs(timerMs: number): number {
  return timerMs * 1.5 + 1000;
}

/** The wait after failed attempt k (1-based): Retry Timer × 2^(k−1). */
export function backoffMs(retryTimerMs: number, k: number): number {
  return retryTimerMs * 2 ** (k - 1);
}

/** How long to wait for the Register that follows failed attempt k: its upper bound plus the tolerance. */
export function nextAttemptWaitMs(retryTimerMs: number, k: number): number {
  return slowDeviceBoundMs(backoffMs(retryTimerMs, k)) + RETRY_TOLERANCE_MS;
}

/** The waits for Registers #2..#R of one sequence of R attempts, each rejected at once. */
export function sequenceWaitsMs(retryTimerMs: number, retryCount: number): number {
  let sum = 0;
  for (let k = 1; k < retryCount; k++) sum += nextAttemptWaitMs(retryTimerMs, k);
  return sum;
}

/**
 * The latest the first Register of the next sequence may come after the last failure of
 * the previous one: the Sequence Delay Timer, plus the last back-off a device may let run
 * out first (1.xml res 19: a sequence is "the exhaustion of" the retry values), +50 % +1 s.
 */
export function sequenceGapMaxMs(sequenceDelayMs: number, retryTimerMs: number, retryCount: number): number {
  return slowDeviceBoundMs(sequenceDelayMs + backoffMs(retryTimerMs, retryCount));
}

export interface RetrySettingsMs {
  retryCount: number;
  retryTimerMs: number;
  sequenceDelayMs: number;
  sequenceRetryCount: number;
}

/**
 * The window for a Bootstrap-Request once registration fails with /1/x/16 true: every
 * retry and sequence run out (each attempt taking `attemptMs` to fail), +50 % +1 s, then
 * the Client Hold Off Time.
 */
export function fallbackWindowMs(k: DeviceTimers, s: RetrySettingsMs, attemptMs: number): number {
  const budget = registrationRetryBudgetMs({ retryCount: s.retryCount, retryTimerS: s.retryTimerMs / 1000, sequenceDelayTimerS: s.sequenceDelayMs / 1000, sequenceRetryCount: s.sequenceRetryCount }, attemptMs);
  return slowDeviceBoundMs(budget) + k.holdOffMs;
}

/** The same settings in seconds, as the Bootstrap-Server writes them. */
export function writtenSettings(s: RetrySettingsMs): { retryCount: number; retryTimerS: number; sequenceDelayTimerS: number; sequenceRetryCount: number } {
  return { retryCount: s.retryCount, retryTimerS: s.retryTimerMs / 1000, sequenceDelayTimerS: s.sequenceDelayMs / 1000, sequenceRetryCount: s.sequenceRetryCount };
}

const RES16 = 'LWM2M-CORE-RETRY-03';

/**
 * Bootstrap on Registration Failure written false (1.xml res 16: "the client will continue
 * with the registration attempts as dictated by the other resource settings", a SHOULD in
 * the catalog). A Bootstrap-Request while retries or sequences remain misses that SHOULD;
 * one after the last attempt of the last sequence failed is not covered by any text (no
 * server is left, and nothing says what the client does then): it is noted, never judged.
 *
 * `lastAttempt`: the last Register of the last allowed sequence, once seen; undefined while
 * attempts remain (every Bootstrap-Request seen so far came while retries remained).
 */
export function judgeBootstrapWhileFalse(t: CaseContext, since: RegistrationMessage, lastAttempt: RegistrationMessage | undefined, remaining: string): void {
  const requests = t.bootstrapServer.bootstrapRequests.all.filter((r) => r.monoNs > since.monoNs);
  const early = requests.filter((r) => lastAttempt === undefined || r.monoNs < lastAttempt.monoNs);
  const late = requests.filter((r) => !early.includes(r));
  t.check(RES16, 'no Bootstrap-Request while retries or sequences remain (Bootstrap on Registration Failure false)', early.length === 0, {
    expected: `registration attempts only while ${remaining} remain`,
    observed: early.length ? `Bootstrap-Request ${describeRequest(early[0]!)} ${fmtMs(elapsed(since, early[0]!.monoNs))} after Register #1` : 'none',
  });
  if (late.length && lastAttempt) {
    t.note(
      `Bootstrap-Request ${describeRequest(late[0]!)} ${fmtMs(elapsed(lastAttempt, late[0]!.monoNs))} after the last attempt of the last sequence (${describeRequest(lastAttempt)}) failed: with /1/x/16 false, what a client does once every sequence has failed is not specified (1.xml res 16, ${RES16}); noted, not judged`,
    );
  }
}

function elapsed(from: RegistrationMessage, toNs: bigint): number {
  return Number(toNs - from.monoNs) / 1e6;
}

/**
 * A Register the retry rules call for did not come. If the device went to the
 * Bootstrap-Server instead (with /1/x/16 false), that is the SHOULD of res 16 missed, and
 * the retry rule this wait judges could not be observed: inconclusive, not a fail of the
 * retry row. Otherwise the missing Register fails `row`.
 */
export function missingRegister(t: CaseContext, since: RegistrationMessage, row: string, reason: string): never {
  const bs = t.bootstrapServer.bootstrapRequests.all.find((r) => r.monoNs > since.monoNs);
  if (bs) {
    t.check(RES16, 'no Bootstrap-Request while retries or sequences remain (Bootstrap on Registration Failure false)', false, {
      expected: 'the next registration attempt the retry settings call for',
      observed: `Bootstrap-Request ${describeRequest(bs)} ${fmtMs(elapsed(since, bs.monoNs))} after Register #1, instead of the next Register`,
    });
    t.inconclusive(`${reason}; the device went to the Bootstrap-Server instead (${describeRequest(bs)}), so the retry rule (${row}) could not be observed`);
  }
  t.fail(row, reason);
}
