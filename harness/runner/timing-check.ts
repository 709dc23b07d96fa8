/**
 * How a timing check is judged when the harness's own event loop may have moved the
 * observation: a miss the loop's stalls can account for is not trusted (inconclusive),
 * a miss beyond the tolerance plus every stall that can have moved it is a miss anyway.
 */
import type { Req } from './context.js';
import type { LoopMonitor } from './loop-monitor.js';

export interface TimingCheck {
  /** The row judged (see Req). */
  req: Req;
  name: string;
  /** The exchange judged, e.g. "gap between Register #1 and #2". */
  observedMs: number;
  minMs: number;
  maxMs: number;
  toleranceMs: number;
  /** Where the window comes from, e.g. "Retry Timer 1 s × 2^(k−1), /1/x/18". */
  window: string;
  /**
   * The two monotonic timestamps (process.hrtime.bigint()) the observed interval lies
   * between. A miss is then weighed against the stalls around that interval only; without
   * it, against every stall of the case.
   */
  span?: { fromNs: bigint; toNs: bigint };
}

/** The check's outcome: `trusted` false when a miss is within what the loop's stalls can explain. */
export interface TimingJudgement {
  ok: boolean;
  expected: string;
  observed: string;
  tolerance: string;
  /** Set when the miss cannot be trusted: the reason the case is inconclusive. */
  untrusted?: string;
}

/**
 * Outside the window it misses, unless the loop stalled while the interval was measured
 * and the stalls could account for the miss. Without a span, a stall no longer than the
 * tolerance moves nothing beyond it (the old rule, kept for checks that cannot name their
 * interval), and every stall of the case counts.
 */
export function judgeTiming(c: TimingCheck, loop: LoopMonitor): TimingJudgement {
  const ok = c.observedMs >= c.minMs - c.toleranceMs && c.observedMs <= c.maxMs + c.toleranceMs;
  const expected = `${fmtMs(c.minMs)} to ${fmtMs(c.maxMs)} (${c.window})`;
  const observed = fmtMs(c.observedMs);
  const tolerance = `±${fmtMs(c.toleranceMs)}`;
  if (ok) return { ok: true, expected, observed, tolerance };
  const miss = c.observedMs < c.minMs ? c.minMs - c.observedMs : c.observedMs - c.maxMs;
  const stalled = c.span ? loop.stallMsBetween(c.span.fromNs, c.span.toNs) : loop.maxDelayMs() > c.toleranceMs ? loop.totalStallMs() : 0;
  const where = c.span ? 'while this interval was measured' : 'during the case';
  if (stalled === 0) return { ok: false, expected, observed, tolerance };
  if (miss > c.toleranceMs + stalled) {
    return { ok: false, expected, observed: `${observed} (off by ${fmtMs(miss)}: more than the tolerance plus all ${fmtMs(stalled)} the harness's event loop stalled ${where})`, tolerance };
  }
  return {
    ok: true,
    expected,
    observed: `${observed} (not judged: harness event loop stalled ${fmtMs(stalled)} ${where})`,
    tolerance,
    untrusted: `${c.name}: observed ${observed} outside ${expected} (tolerance ${tolerance}), but ${HARNESS_STALL} ${fmtMs(stalled)} ${where}, which can account for the miss`,
  };
}

/**
 * Words every verdict reason uses when the harness's own event loop stalled past a timing
 * tolerance; the self-test matrix finds stalled cells by them and runs them again, alone.
 */
export const HARNESS_STALL = "the harness's event loop stalled";

export function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(3)} s` : `${ms.toFixed(1)} ms`;
}
