/**
 * A clock for the device's own timers that moves only when the test says so: a test of
 * the retry schedule, hold-off or lifetime advances it and sees at once what the device
 * does, instead of sleeping through the protocol's seconds. Timers due now (delay 0) fire
 * on their own, as on a real clock, so a device with nothing to wait for is not stalled.
 */
import type { Clock, ClockHandle } from '../../fixtures/device/clock.js';

interface Pending {
  id: number;
  dueMs: number;
  delayMs: number;
  fn: () => void;
}

export class ManualClock implements Clock {
  private nowMs: number;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly armWaiters = new Set<() => void>();
  /** Every delay the device asked for, in order (the due-now ones included). */
  readonly armed: number[] = [];

  constructor(startMs = Date.parse('2026-01-01T00:00:00Z')) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  setTimeout(fn: () => void, delayMs: number): ClockHandle {
    const id = this.nextId++;
    const delay = Math.max(0, delayMs);
    this.armed.push(delay);
    if (delay === 0) {
      const t = setImmediate(() => {
        if (this.pending.delete(id)) fn();
      });
      this.pending.set(id, { id, dueMs: this.nowMs, delayMs: 0, fn: () => clearImmediate(t) });
    } else {
      this.pending.set(id, { id, dueMs: this.nowMs + delay, delayMs: delay, fn });
    }
    for (const w of [...this.armWaiters]) w();
    return id;
  }

  clearTimeout(handle: ClockHandle): void {
    const p = this.pending.get(handle as number);
    if (p?.delayMs === 0) p.fn();
    this.pending.delete(handle as number);
  }

  /** The delays of the timers still waiting, shortest first. */
  waiting(): number[] {
    return [...this.pending.values()]
      .filter((p) => p.delayMs > 0)
      .map((p) => p.dueMs - this.nowMs)
      .sort((a, b) => a - b);
  }

  /** Moves time on by `ms`, firing every timer that falls due on the way, earliest first. */
  advance(ms: number): void {
    const until = this.nowMs + ms;
    for (;;) {
      const next = [...this.pending.values()].filter((p) => p.delayMs > 0 && p.dueMs <= until).sort((a, b) => a.dueMs - b.dueMs || a.id - b.id)[0];
      if (!next) break;
      this.pending.delete(next.id);
      this.nowMs = next.dueMs;
      next.fn();
    }
    this.nowMs = until;
  }

  /** Resolves once a timer of more than zero delay is waiting that satisfies `test`; fails after `withinMs` of real time. */
  whenWaiting(test: (remainingMs: number) => boolean, withinMs: number, what: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.armWaiters.delete(check);
        reject(new Error(`${what}: no such timer armed within ${withinMs} ms (waiting: ${this.waiting().join(', ') || 'none'})`));
      }, withinMs);
      const check = () => {
        const found = this.waiting().find(test);
        if (found === undefined) return false;
        this.armWaiters.delete(check);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      if (!check()) this.armWaiters.add(check);
    });
  }
}
