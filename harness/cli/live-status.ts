/**
 * One live line while a case waits: its id and elapsed time against its timeout. On a
 * terminal it is redrawn in place; elsewhere (CI logs) one line per case start and end.
 */
import type { ConformanceCase } from '../runner/case.js';
import type { VerdictEvent } from '../results/events.js';

export class LiveStatus {
  private timer: NodeJS.Timeout | undefined;
  private current: { c: ConformanceCase; started: number } | undefined;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly paint: (verdict: VerdictEvent['verdict'], s: string) => string,
  ) {}

  private get tty(): boolean {
    return Boolean(this.out.isTTY);
  }

  caseStarted(c: ConformanceCase): void {
    this.current = { c, started: performance.now() };
    if (!this.tty) {
      this.out.write(`${c.meta.id} ${c.meta.title} ...\n`);
      return;
    }
    clearInterval(this.timer);
    this.draw();
    this.timer = setInterval(() => this.draw(), 250);
    this.timer.unref();
  }

  caseEnded(v: VerdictEvent): void {
    clearInterval(this.timer);
    this.timer = undefined;
    const label = this.paint(v.verdict, v.verdict.toUpperCase());
    const line = `${v.caseId} ${label}${v.advisory ? ' (advisory)' : ''} ${(v.durationMs / 1000).toFixed(1)} s`;
    if (this.tty) this.out.write(`\r\x1b[2K${line}\n`);
    else this.out.write(`${line}\n`);
    this.current = undefined;
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.tty && this.current) this.out.write('\r\x1b[2K');
  }

  private draw(): void {
    if (!this.current) return;
    const { c, started } = this.current;
    const elapsed = (performance.now() - started) / 1000;
    this.out.write(`\r\x1b[2K${c.meta.id} ${c.meta.title.slice(0, 60)}  ${elapsed.toFixed(1)} s${c.meta.timeoutMs ? ` / ${(c.meta.timeoutMs / 1000).toFixed(0)} s` : ''}`);
  }
}
