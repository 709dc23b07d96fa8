/** A case timeout that stops running while an operator performs a manual action. */
export class PausableTimeout {
  private remainingMs: number;
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private fire!: () => void;
  readonly expired: Promise<void>;

  constructor(totalMs: number) {
    this.remainingMs = totalMs;
    this.expired = new Promise((resolve) => {
      this.fire = resolve;
    });
    this.resume();
  }

  pause(): void {
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.remainingMs -= performance.now() - this.startedAt;
  }

  resume(): void {
    if (this.timer) return;
    this.startedAt = performance.now();
    this.timer = setTimeout(() => this.fire(), Math.max(0, this.remainingMs));
  }

  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
