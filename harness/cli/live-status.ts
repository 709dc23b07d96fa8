/**
 * One live line while cases wait: on a terminal it is redrawn in place, naming each case in
 * flight with its elapsed time (against its timeout when only one runs); elsewhere (CI
 * logs) one line per case start and end. Several cases, or several devices, may be in
 * flight at once: every line names its case, and its device when the run has several.
 */
import type { ConformanceCase } from '../runner/case.js';
import type { VerdictEvent } from '../results/events.js';

interface Running {
  c: ConformanceCase;
  device: string | undefined;
  started: number;
}

export class LiveStatus {
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Map<string, Running>();
  private drawn = false;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly paint: (verdict: VerdictEvent['verdict'], s: string) => string,
  ) {}

  private get tty(): boolean {
    return Boolean(this.out.isTTY);
  }

  caseStarted(c: ConformanceCase, device?: string): void {
    this.running.set(key(c.meta.id, device), { c, device, started: performance.now() });
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

  caseEnded(v: VerdictEvent, device?: string): void {
    this.running.delete(key(v.caseId, device));
    const label = this.paint(v.verdict, v.verdict.toUpperCase());
    const line = `${prefix(device)}${v.caseId} ${label}${v.advisory ? ' (advisory)' : ''} ${(v.durationMs / 1000).toFixed(1)} s`;
    if (this.tty) {
      this.out.write(`\r\x1b[2K${line}\n`);
      this.drawn = false;
      if (this.running.size === 0) this.stopTimer();
      else this.draw();
    } else this.out.write(`${line}\n`);
  }

  stop(): void {
    this.stopTimer();
    if (this.tty && this.drawn) this.out.write('\r\x1b[2K');
    this.drawn = false;
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
      const { c, device, started } = all[0]!;
      text = `${prefix(device)}${c.meta.id} ${c.meta.title.slice(0, 60)}  ${((now - started) / 1000).toFixed(1)} s${c.meta.timeoutMs ? ` / ${(c.meta.timeoutMs / 1000).toFixed(0)} s` : ''}`;
    } else {
      text = `${all.length} running: ${all.map(({ c, device, started }) => `${prefix(device)}${c.meta.id} ${((now - started) / 1000).toFixed(0)} s`).join(', ')}`;
    }
    // One terminal line: a wrapped line could not be redrawn in place.
    const width = Math.max(20, (this.out.columns ?? 120) - 1);
    if (text.length > width) text = `${text.slice(0, width - 3)}...`;
    this.out.write(`\r\x1b[2K${text}`);
    this.drawn = true;
  }
}

function key(caseId: string, device: string | undefined): string {
  return device === undefined ? caseId : `${device}\u0000${caseId}`;
}

function prefix(device: string | undefined): string {
  return device === undefined ? '' : `[${device}] `;
}
