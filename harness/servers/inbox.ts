/**
 * What a fake server has received, in arrival order, with waiters. Cases consume messages
 * in order ("the next Register"), and a wait always has a bound: on expiry it resolves
 * undefined and the case decides whether silence is a fail or an inconclusive.
 */
export class Inbox<T> {
  private readonly items: T[] = [];
  private cursor = 0;
  private readonly waiters = new Set<() => void>();

  push(item: T): void {
    this.items.push(item);
    for (const w of [...this.waiters]) w();
  }

  /** Everything received so far, consumed or not. */
  get all(): readonly T[] {
    return this.items;
  }

  /** Skips everything received so far: later waits see only newer items. */
  drain(): void {
    this.cursor = this.items.length;
  }

  /** The next unconsumed item matching `match`, waiting up to timeoutMs; undefined on timeout. */
  next(match: (item: T) => boolean, timeoutMs: number, signal?: AbortSignal): Promise<T | undefined> {
    const take = (): T | undefined => {
      for (let i = this.cursor; i < this.items.length; i++) {
        const item = this.items[i]!;
        if (match(item)) {
          this.cursor = i + 1;
          return item;
        }
      }
      return undefined;
    };
    const found = take();
    if (found !== undefined || timeoutMs <= 0) return Promise.resolve(found);
    return new Promise((resolve) => {
      const finish = (v: T | undefined) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        signal?.removeEventListener('abort', onAbort);
        resolve(v);
      };
      const check = () => {
        const v = take();
        if (v !== undefined) finish(v);
      };
      const onAbort = () => finish(undefined);
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      this.waiters.add(check);
      signal?.addEventListener('abort', onAbort);
    });
  }
}
