/**
 * What a fake server has received, in arrival order, with waiters. Cases consume messages
 * in order ("the next Register"), and a wait always has a bound: on expiry it resolves
 * undefined and the case decides whether silence is a fail or an inconclusive.
 *
 * An inbox keeps at most `limit` items (a device flooding a server must not exhaust the
 * harness's memory): past it, an item still goes to a case already waiting for one like
 * it, but is not kept; `overflow` counts them.
 */

/** Items an inbox keeps by default: far more than any case exchanges with one server. */
export const INBOX_LIMIT = 2000;

interface Waiter<T> {
  match: (item: T) => boolean;
  give: (item: T) => void;
  check: () => void;
}

export class Inbox<T> {
  private readonly items: T[] = [];
  private cursor = 0;
  private readonly waiters = new Set<Waiter<T>>();
  /** Items not kept because the inbox was full. */
  overflow = 0;

  constructor(readonly limit: number = INBOX_LIMIT) {}

  push(item: T): void {
    if (this.items.length >= this.limit) {
      this.overflow += 1;
      // Everything kept counts as seen by now: a waiter given this item must not later be
      // handed an older one.
      for (const w of this.waiters) {
        if (w.match(item)) {
          this.cursor = this.items.length;
          w.give(item);
          return;
        }
      }
      return;
    }
    this.items.push(item);
    for (const w of [...this.waiters]) w.check();
  }

  /** Everything kept so far, consumed or not. */
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
        this.waiters.delete(waiter);
        signal?.removeEventListener('abort', onAbort);
        resolve(v);
      };
      const waiter: Waiter<T> = {
        match,
        give: (item) => finish(item),
        check: () => {
          const v = take();
          if (v !== undefined) finish(v);
        },
      };
      const onAbort = () => finish(undefined);
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      this.waiters.add(waiter);
      signal?.addEventListener('abort', onAbort);
    });
  }
}
