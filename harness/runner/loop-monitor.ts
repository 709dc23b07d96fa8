/**
 * Watches the harness's own event-loop delay while a case runs. A timestamp is taken in
 * the socket callback, so a stalled loop makes a datagram look late: a timing verdict
 * whose tolerance the stall exceeded is turned into inconclusive, never fail.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export class LoopMonitor {
  private histogram: IntervalHistogram | undefined;

  start(): void {
    this.histogram = monitorEventLoopDelay({ resolution: 5 });
    this.histogram.enable();
  }

  /** Worst event-loop delay seen since start(), in ms. */
  maxDelayMs(): number {
    if (!this.histogram) return 0;
    // The histogram reports the timer's whole interval; subtract the sampling resolution.
    return Math.max(0, this.histogram.max / 1e6 - 5);
  }

  stop(): void {
    this.histogram?.disable();
    this.histogram = undefined;
  }
}
