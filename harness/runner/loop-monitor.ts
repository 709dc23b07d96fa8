/**
 * Watches the harness's own event-loop delay while a case runs. A timestamp is taken in
 * the socket callback, so a stalled loop makes a datagram look late (and a reply of the
 * harness go out late). A timing miss the stalls could explain is inconclusive, never
 * fail; a miss larger than all the stalling around the measured interval is a fail all
 * the same.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** Lateness of the monitor's own tick that counts as stalling; smaller jitter is within every tolerance. */
const STALL_FLOOR_MS = 10;
const TICK_MS = 10;
/**
 * Stalls kept one by one; past this many (a loop stalling for minutes) the monitor judges
 * every interval by the case's whole stalling, which is never less than the local one.
 */
const MAX_STALLS = 50_000;
/**
 * A stall measured by the tick can end a little after the socket callback it delayed ran
 * (the poll phase may run before the timers phase): intervals are widened by this much.
 */
const EDGE_NS = BigInt(3 * TICK_MS) * 1_000_000n;

interface Stall {
  startNs: bigint;
  endNs: bigint;
  ms: number;
}

export class LoopMonitor {
  private histogram: IntervalHistogram | undefined;
  private tick: NodeJS.Timeout | undefined;
  private lastTickNs = 0n;
  private stalledMs = 0;
  private worstTickMs = 0;
  private stalls: Stall[] = [];
  private overflowed = false;

  start(): void {
    this.histogram = monitorEventLoopDelay({ resolution: 5 });
    this.histogram.enable();
    this.stalledMs = 0;
    this.worstTickMs = 0;
    this.stalls = [];
    this.overflowed = false;
    this.lastTickNs = process.hrtime.bigint();
    this.tick = setInterval(() => {
      const nowNs = process.hrtime.bigint();
      const late = Number(nowNs - this.lastTickNs) / 1e6 - TICK_MS;
      if (late > STALL_FLOOR_MS) {
        this.stalledMs += late;
        if (this.stalls.length < MAX_STALLS) this.stalls.push({ startNs: nowNs - BigInt(Math.ceil(late * 1e6)), endNs: nowNs, ms: late });
        else this.overflowed = true;
      }
      this.worstTickMs = Math.max(this.worstTickMs, late);
      this.lastTickNs = nowNs;
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
    return this.stalledMs + this.currentStallMs();
  }

  /**
   * The stalling that can have moved an interval measured between two monotonic
   * timestamps (process.hrtime.bigint()), in ms: every stall overlapping it, its edges
   * widened a little, added up. A timestamp is delayed only by the stall going on when its
   * datagram arrived, so stalls before the interval or after it cannot have shifted it;
   * those inside it are counted too, which can only make the bound larger.
   */
  stallMsBetween(fromNs: bigint, toNs: bigint): number {
    if (!this.tick) return 0;
    if (this.overflowed) return this.totalStallMs();
    const lo = (fromNs < toNs ? fromNs : toNs) - EDGE_NS;
    const hi = (fromNs < toNs ? toNs : fromNs) + EDGE_NS;
    let ms = 0;
    for (const s of this.stalls) if (s.endNs >= lo && s.startNs <= hi) ms += s.ms;
    // A stall still going on started at the last tick; it overlaps if the interval reaches it.
    if (this.lastTickNs <= hi) ms += this.currentStallMs();
    return ms;
  }

  private currentStallMs(): number {
    const current = Number(process.hrtime.bigint() - this.lastTickNs) / 1e6 - TICK_MS;
    return current > STALL_FLOOR_MS ? current : 0;
  }

  stop(): void {
    this.histogram?.disable();
    this.histogram = undefined;
    clearInterval(this.tick);
    this.tick = undefined;
  }
}
