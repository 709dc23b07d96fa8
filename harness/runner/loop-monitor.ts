/**
 * Watches the harness's own event-loop delay while a case runs. A timestamp is taken in
 * the socket callback, so a stalled loop makes a datagram look late (and a reply of the
 * harness go out late). A timing miss the stalls could explain is inconclusive, never
 * fail; a miss larger than all the stalling there was together is a fail all the same.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** Lateness of the monitor's own tick that counts as stalling; smaller jitter is within every tolerance. */
const STALL_FLOOR_MS = 10;
const TICK_MS = 10;

export class LoopMonitor {
  private histogram: IntervalHistogram | undefined;
  private tick: NodeJS.Timeout | undefined;
  private lastTick = 0;
  private stalledMs = 0;
  private worstTickMs = 0;

  start(): void {
    this.histogram = monitorEventLoopDelay({ resolution: 5 });
    this.histogram.enable();
    this.stalledMs = 0;
    this.worstTickMs = 0;
    this.lastTick = performance.now();
    this.tick = setInterval(() => {
      const now = performance.now();
      const late = now - this.lastTick - TICK_MS;
      if (late > STALL_FLOOR_MS) this.stalledMs += late;
      this.worstTickMs = Math.max(this.worstTickMs, late);
      this.lastTick = now;
    }, TICK_MS);
    this.tick.unref();
  }

  /** Worst event-loop delay seen since start(), in ms. */
  maxDelayMs(): number {
    if (!this.histogram) return 0;
    // The histogram reports the timer's whole interval; subtract the sampling resolution.
    // It sees nothing before its first sample, which the tick does.
    return Math.max(0, this.histogram.max / 1e6 - 5, this.worstTickMs);
  }

  /**
   * All stalling since start() added up, in ms (including a stall still going on): the
   * most by which stalls, however many, can have shifted any interval the case measured.
   */
  totalStallMs(): number {
    if (!this.tick) return 0;
    const current = performance.now() - this.lastTick - TICK_MS;
    return this.stalledMs + (current > STALL_FLOOR_MS ? current : 0);
  }

  stop(): void {
    this.histogram?.disable();
    this.histogram = undefined;
    clearInterval(this.tick);
    this.tick = undefined;
  }
}
