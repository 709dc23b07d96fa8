/**
 * One live line while cases wait: on a terminal it is redrawn in place, naming each case in
 * flight with its elapsed time (against its timeout when only one runs); elsewhere (CI
 * logs) one line per case start and end. Several cases, or several devices, may be in
 * flight at once: every line names its case, and its device when the run has several.
 * While an operator acts the case's bound is paused: its line says so and what is awaited,
 * and the time shown against the bound leaves the pause out, as the bound does.
 */
import type { ConformanceCase } from '../runner/case.js';
import type { VerdictEvent } from '../events/events.js';

interface Running {
  c: ConformanceCase;
  device: string | undefined;
  started: number;
  /** What the operator was asked, while the case's bound is paused. */
  awaiting?: string;
  pausedAt?: number;
  /** Time spent paused before, not counted toward the bound. */
  pausedMs: number;
}

export class LiveStatus {
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Map<string, Running>();
  private drawn = false;
  /** The text on the terminal now: an unchanged line is not redrawn (an operator may be typing below a paused one). */
  private shown: string | undefined;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly paint: (verdict: VerdictEvent['verdict'], s: string) => string,
  ) {}

  private get tty(): boolean {
    return Boolean(this.out.isTTY);
  }

  caseStarted(c: ConformanceCase, device?: string): void {
    this.running.set(key(c.meta.id, device), { c, device, started: performance.now(), pausedMs: 0 });
    if (!this.tty) {
      this.out.write(`${prefix(device)}${c.meta.id} ${c.meta.title} ...\n`);
      return;
    }
    this.draw();
    if (!this.timer) {
      this.timer = setInterval(() => this.draw(), 250);
      this.timer.unref();
    }
  }

  /** The case's bound paused while an operator acts (`awaiting`: what they were asked), or resumed (undefined). */
  casePaused(caseId: string, awaiting: string | undefined, device?: string): void {
    const r = this.running.get(key(caseId, device));
    if (!r) return;
    const now = performance.now();
    if (awaiting !== undefined) {
      if (r.pausedAt === undefined) r.pausedAt = now;
      r.awaiting = awaiting;
      if (!this.tty) this.out.write(`${prefix(device)}${caseId} ${pausedText(awaiting)}\n`);
    } else if (r.pausedAt !== undefined) {
      r.pausedMs += now - r.pausedAt;
      r.pausedAt = undefined;
      r.awaiting = undefined;
    }
    if (this.tty) this.draw();
  }

  caseEnded(v: VerdictEvent, device?: string): void {
    this.running.delete(key(v.caseId, device));
    const label = this.paint(v.verdict, v.verdict.toUpperCase());
    const line = `${prefix(device)}${v.caseId} ${label}${v.advisory ? ' (advisory)' : ''} ${(v.durationMs / 1000).toFixed(1)} s`;
    if (this.tty) {
      this.out.write(`\r\x1b[2K${line}\n`);
      this.drawn = false;
      this.shown = undefined;
      if (this.running.size === 0) this.stopTimer();
      else this.draw();
    } else this.out.write(`${line}\n`);
  }

  stop(): void {
    this.stopTimer();
    if (this.tty && this.drawn) this.out.write('\r\x1b[2K');
    this.drawn = false;
    this.shown = undefined;
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private draw(): void {
    if (this.running.size === 0) return;
    const now = performance.now();
    const all = [...this.running.values()];
    let text: string;
    if (all.length === 1) {
      const r = all[0]!;
      const { c, device } = r;
      text =
        r.awaiting !== undefined
          ? `${prefix(device)}${c.meta.id} ${pausedText(r.awaiting)}`
          : `${prefix(device)}${c.meta.id} ${c.meta.title.slice(0, 60)}  ${(counted(r, now) / 1000).toFixed(1)} s${c.meta.timeoutMs ? ` / ${(c.meta.timeoutMs / 1000).toFixed(0)} s` : ''}`;
    } else {
      // The paused case first: it is the one waiting for the person at the terminal.
      const order = [...all.filter((r) => r.awaiting !== undefined), ...all.filter((r) => r.awaiting === undefined)];
      text = `${all.length} running: ${order.map((r) => `${prefix(r.device)}${r.c.meta.id} ${r.awaiting !== undefined ? pausedText(r.awaiting) : `${(counted(r, now) / 1000).toFixed(0)} s`}`).join(', ')}`;
    }
    // One terminal line: a wrapped line could not be redrawn in place.
    const width = Math.max(20, (this.out.columns ?? 120) - 1);
    if (text.length > width) text = `${text.slice(0, width - 3)}...`;
    if (this.drawn && text === this.shown) return;
    this.out.write(`\r\x1b[2K${text}`);
    this.drawn = true;
    this.shown = text;
  }
}

/** Time toward the case's bound: the pauses left out, as PausableTimeout leaves them out. */
function counted(r: Running, now: number): number {
  return now - r.started - r.pausedMs - (r.pausedAt !== undefined ? now - r.pausedAt : 0);
}

function pausedText(awaiting: string): string {
  return `paused: awaiting operator — ${awaiting.replace(/\s+/g, ' ').trim()}`;
}

function key(caseId: string, device: string | undefined): string {
  return device === undefined ? caseId : `${device}\u0000${caseId}`;
}

function prefix(device: string | undefined): string {
  return device === undefined ? '' : `[${device}] `;
}
