/**
 * The handshake's clock, shared by the DTLS server (one per peer) and the client: the
 * flight retransmission timer (RFC 6347 §4.2.4) and the overall handshake deadline.
 *
 * OpenSSL keeps the flights and decides what to resend; it asks `retransmitTimerUs` for
 * each interval (the addon installs it with DTLS_set_timer_cb), so the schedule is written
 * once, here. JS only arms a timer for the moment OpenSSL names and calls handleTimeout()
 * then. Both timers are unref'd: a handshake in progress never holds the process open.
 * Once stopped (established, failed or closed) the driver sends nothing more, whatever
 * timer was already queued.
 */
import type dgram from 'node:dgram';
import type { TimeoutResult } from './native.js';
import type { Address } from './types.js';

/** RFC 6347 §4.2.4.1: 1 s initial timer, doubled on each retransmission, at most 60 s. */
export const RETRANSMIT_INITIAL_MS = 1000;
export const RETRANSMIT_CAP_MS = 60_000;

/**
 * The next retransmission interval in microseconds (OpenSSL's unit): the initial one when
 * a flight first goes out (`previousUs` 0), then double the last, capped at 60 s.
 */
export function nextRetransmitUs(previousUs: number, initialMs = RETRANSMIT_INITIAL_MS): number {
  const capUs = RETRANSMIT_CAP_MS * 1000;
  if (previousUs <= 0) return Math.min(Math.max(1, Math.round(initialMs)) * 1000, capUs);
  return Math.min(previousUs * 2, capUs);
}

/** The callback the addon hands OpenSSL's DTLS timer; `initialMs` lets a test run the schedule fast. */
export function retransmitTimerUs(initialMs = RETRANSMIT_INITIAL_MS): (previousUs: number) => number {
  if (!Number.isFinite(initialMs) || initialMs < 1 || initialMs > RETRANSMIT_CAP_MS) {
    throw new Error(`retransmitInitialMs must be between 1 and ${RETRANSMIT_CAP_MS} ms (got ${initialMs})`);
  }
  return (previousUs) => nextRetransmitUs(previousUs, initialMs);
}

/** The two calls of a native session the driver makes. */
export interface RetransmitEngine {
  /** Milliseconds until handleTimeout() is due, or -1 when no flight awaits an answer. */
  timeoutMs(): number;
  handleTimeout(): TimeoutResult;
}

export interface TimerHandle {
  unref(): unknown;
}

/** setTimeout/clearTimeout, injectable so a test can see every timer the driver arms. */
export interface Timers {
  set(fn: () => void, ms: number): TimerHandle;
  clear(h: TimerHandle): void;
}

const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface HandshakeDriverHooks {
  /** A flight OpenSSL resent. */
  transmit(datagrams: Buffer[]): void;
  /** OpenSSL's retry limit ran out: `error` is its reason. */
  gaveUp(error: string): void;
  /** The handshake deadline passed. */
  deadline(ms: number): void;
}

export class HandshakeDriver {
  private retransmitTimer: TimerHandle | undefined;
  private deadlineTimer: TimerHandle | undefined;
  private stopped = false;

  constructor(
    private readonly engine: RetransmitEngine,
    private readonly hooks: HandshakeDriverHooks,
    private readonly timers: Timers = realTimers,
  ) {}

  get active(): boolean {
    return !this.stopped;
  }

  /** Starts the handshake deadline; the first flight's timer is armed by rearm(). */
  start(deadlineMs: number): void {
    if (this.stopped || this.deadlineTimer) return;
    this.deadlineTimer = this.timers.set(() => {
      this.deadlineTimer = undefined;
      if (!this.stopped) this.hooks.deadline(deadlineMs);
    }, deadlineMs);
    this.deadlineTimer.unref();
  }

  /** After every call into the engine while handshaking: follows the timer OpenSSL now runs. */
  rearm(): void {
    this.clearRetransmit();
    if (this.stopped) return;
    const ms = this.engine.timeoutMs();
    if (ms < 0) return;
    this.retransmitTimer = this.timers.set(() => this.onRetransmitTimer(), Math.max(1, ms));
    this.retransmitTimer.unref();
  }

  /** The handshake is over (established, failed, abandoned): no timer fires, nothing is sent. */
  stop(): void {
    this.stopped = true;
    this.clearRetransmit();
    if (this.deadlineTimer) this.timers.clear(this.deadlineTimer);
    this.deadlineTimer = undefined;
  }

  private onRetransmitTimer(): void {
    this.retransmitTimer = undefined;
    if (this.stopped) return;
    const r = this.engine.handleTimeout();
    // The engine may have been closed under us by a hook of an earlier call.
    if (this.stopped) return;
    if (r.out.length > 0) this.hooks.transmit(r.out);
    if (r.failed) this.hooks.gaveUp(r.error ?? 'handshake timed out');
    else this.rearm();
  }

  private clearRetransmit(): void {
    if (this.retransmitTimer) this.timers.clear(this.retransmitTimer);
    this.retransmitTimer = undefined;
  }
}

/**
 * One datagram out. `to` undefined: the socket is connected. A socket already closed (a
 * close_notify racing close()) reports through onError instead of throwing: a late send is
 * a lost datagram, not a crash.
 */
export function sendDatagram(socket: dgram.Socket, bytes: Buffer, to: Address | undefined, onError: (e: Error) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (err: Error | null) => {
      if (err) onError(err);
      resolve();
    };
    try {
      if (to) socket.send(bytes, to.port, to.address, done);
      else socket.send(bytes, done);
    } catch (err) {
      done(err as Error);
    }
  });
}
