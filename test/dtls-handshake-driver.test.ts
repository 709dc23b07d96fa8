/**
 * The handshake driver shared by DtlsServer and DtlsClient (harness/dtls/handshake-driver.ts):
 * the RFC 6347 §4.2.4 schedule (initial timer, doubling, 60 s cap), unref'd timers, nothing
 * sent once stopped. The driver's own logic runs on injected timers (every timer it arms is
 * seen, and fired by hand); the schedule is then checked end to end through OpenSSL with a
 * small initial timer, on real UDP sockets on 127.0.0.1.
 */
import dgram from 'node:dgram';
import { HandshakeDriver, RETRANSMIT_CAP_MS, nextRetransmitUs, retransmitTimerUs, type RetransmitEngine, type TimerHandle, type Timers } from '../harness/dtls/handshake-driver.js';
import { DtlsClient, DtlsServer, type DtlsClientOptions, type DtlsRecordEvent } from '../harness/dtls/index.js';
import type { TimeoutResult } from '../harness/dtls/native.js';

// ---- the schedule ----

test('the first timer is the initial one, then each doubles, up to 60 s', () => {
  const seen: number[] = [];
  let us = 0;
  for (let i = 0; i < 10; i++) {
    us = nextRetransmitUs(us);
    seen.push(us / 1000);
  }
  expect(seen).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000, 60000]);
  expect(nextRetransmitUs(0, 250)).toBe(250_000);
  expect(nextRetransmitUs(40_000_000)).toBe(RETRANSMIT_CAP_MS * 1000);
});

test('an initial timer outside 1 ms..60 s is refused with its value named', () => {
  expect(() => retransmitTimerUs(0)).toThrow(/retransmitInitialMs must be between 1 and 60000 ms \(got 0\)/);
  expect(() => retransmitTimerUs(61_000)).toThrow(/got 61000/);
  expect(() => retransmitTimerUs(Number.NaN)).toThrow(/got NaN/);
  expect(retransmitTimerUs(20)(0)).toBe(20_000);
});

// ---- the driver on injected timers ----

interface FakeTimer extends TimerHandle {
  fn: () => void;
  ms: number;
  unrefed: boolean;
  cleared: boolean;
}

function fakeTimers(): Timers & { armed: FakeTimer[] } {
  const armed: FakeTimer[] = [];
  return {
    armed,
    set(fn, ms) {
      const t: FakeTimer = {
        fn,
        ms,
        unrefed: false,
        cleared: false,
        unref() {
          t.unrefed = true;
          return t;
        },
      };
      armed.push(t);
      return t;
    },
    clear(h) {
      (h as FakeTimer).cleared = true;
    },
  };
}

/** An engine that says when its timer is due and what each timeout resends. */
function scriptedEngine(timeouts: number[], results: TimeoutResult[]): RetransmitEngine & { handled: number } {
  const e = {
    handled: 0,
    timeoutMs: () => timeouts.shift() ?? -1,
    handleTimeout: () => {
      e.handled += 1;
      return results.shift() ?? { out: [], failed: false };
    },
  };
  return e;
}

function hooks() {
  const h = { sent: [] as Buffer[][], gaveUp: [] as string[], deadlines: [] as number[] };
  return {
    h,
    hooks: {
      transmit: (out: Buffer[]) => h.sent.push(out),
      gaveUp: (e: string) => h.gaveUp.push(e),
      deadline: (ms: number) => h.deadlines.push(ms),
    },
  };
}

const flight = (n: number) => [Buffer.from(`flight ${n}`)];

test('arms at the moment the engine names, resends what it returns, re-arms; every timer unrefd', () => {
  const timers = fakeTimers();
  const engine = scriptedEngine(
    [1000, 2000, -1],
    [
      { out: flight(1), failed: false },
      { out: flight(2), failed: false },
    ],
  );
  const { h, hooks: k } = hooks();
  const d = new HandshakeDriver(engine, k, timers);
  d.start(30_000);
  d.rearm();
  expect(timers.armed.map((t) => t.ms)).toEqual([30_000, 1000]);
  timers.armed[1]!.fn();
  expect(h.sent).toEqual([flight(1)]);
  expect(timers.armed[2]!.ms).toBe(2000);
  timers.armed[2]!.fn();
  expect(h.sent).toEqual([flight(1), flight(2)]);
  // The engine says no timer runs (-1): none armed.
  expect(timers.armed).toHaveLength(3);
  expect(timers.armed.every((t) => t.unrefed)).toBe(true);
  expect(h.gaveUp).toEqual([]);
});

test('a re-arm replaces the pending retransmission timer rather than adding one', () => {
  const timers = fakeTimers();
  const d = new HandshakeDriver(scriptedEngine([1000, 400], []), hooks().hooks, timers);
  d.rearm();
  d.rearm();
  expect(timers.armed.map((t) => [t.ms, t.cleared])).toEqual([
    [1000, true],
    [400, false],
  ]);
});

test('the engine giving up is reported with its reason, after its last flight went out', () => {
  const timers = fakeTimers();
  const engine = scriptedEngine([1000], [{ out: flight(9), failed: true, error: 'peer stopped answering' }]);
  const { h, hooks: k } = hooks();
  const d = new HandshakeDriver(engine, k, timers);
  d.rearm();
  timers.armed[0]!.fn();
  expect(h.sent).toEqual([flight(9)]);
  expect(h.gaveUp).toEqual(['peer stopped answering']);
  expect(timers.armed).toHaveLength(1);
});

test('the deadline fires once with its length', () => {
  const timers = fakeTimers();
  const { h, hooks: k } = hooks();
  const d = new HandshakeDriver(scriptedEngine([], []), k, timers);
  d.start(5000);
  d.start(5000);
  expect(timers.armed).toHaveLength(1);
  timers.armed[0]!.fn();
  expect(h.deadlines).toEqual([5000]);
});

test('once stopped nothing is sent and no hook runs, even from a timer already queued', () => {
  const timers = fakeTimers();
  const engine = scriptedEngine([1000, 1000], [{ out: flight(1), failed: false }]);
  const { h, hooks: k } = hooks();
  const d = new HandshakeDriver(engine, k, timers);
  d.start(5000);
  d.rearm();
  d.stop();
  expect(timers.armed.every((t) => t.cleared)).toBe(true);
  // A timer callback that was already on the event loop when stop() ran:
  for (const t of timers.armed) t.fn();
  d.rearm();
  d.start(5000);
  expect(engine.handled).toBe(0);
  expect(h).toEqual({ sent: [], gaveUp: [], deadlines: [] });
  expect(timers.armed).toHaveLength(2);
  expect(d.active).toBe(false);
});

// ---- the schedule through OpenSSL, on real sockets ----

const IDENTITY = 'driver-test';
const KEY = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const open: { close(): unknown }[] = [];

afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function udp(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  open.push({ close: () => new Promise<void>((r) => s.close(() => r())) });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}

/** Resolves with the first `n` items `collect` pushes; rejects after `ms`. */
function firstN<T>(n: number, ms: number, collect: (push: (v: T) => void) => void): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const got: T[] = [];
    const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${n} within ${ms} ms`)), ms);
    collect((v) => {
      if (got.length >= n) return;
      got.push(v);
      if (got.length === n) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

/** A PSK handshake to 127.0.0.1:port that the test ends; abort() resolves with connect()'s outcome. */
function handshakeAttempt(port: number, over: Partial<DtlsClientOptions>): { abort(): Promise<DtlsClient | Error> } {
  const ac = new AbortController();
  const connecting = DtlsClient.connect({
    remote: { address: '127.0.0.1', port },
    cipherSuites: ['PSK-AES128-CCM8'],
    psk: { identity: IDENTITY, key: KEY },
    handshakeTimeoutMs: 10_000,
    signal: ac.signal,
    ...over,
  }).catch((e: Error) => e);
  return {
    abort: () => {
      ac.abort();
      return connecting;
    },
  };
}

const gapsMs = (ns: bigint[]) => ns.slice(1).map((t, i) => Number(t - ns[i]!) / 1e6);

/**
 * OpenSSL never fires before the interval it was given (the addon rounds up), so each gap
 * is at least the schedule's; the upper bound only rules out a different schedule (1 s).
 */
function expectSchedule(gaps: number[], initialMs: number): void {
  gaps.forEach((g, i) => {
    const want = initialMs * 2 ** i;
    expect(g).toBeGreaterThanOrEqual(want - 1);
    expect(g).toBeLessThan(want + 600);
  });
}

test('the client resends its ClientHello after the initial timer, then doubling', async () => {
  const silent = await udp();
  let push: ((v: bigint) => void) | undefined;
  const five = firstN<bigint>(5, 10_000, (p) => (push = p));
  const attempt = handshakeAttempt(silent.address().port, {
    retransmitInitialMs: 20,
    onRecord: (r: DtlsRecordEvent) => {
      if (r.direction === 'out') push?.(r.monoNs);
    },
  });
  const times = await five;
  expect(await attempt.abort()).toBeInstanceOf(Error);
  expectSchedule(gapsMs(times), 20);
}, 15_000);

test('the server resends its flight after the initial timer, then doubling, while the client is silent', async () => {
  const server = await DtlsServer.listen({
    address: '127.0.0.1',
    cipherSuites: ['PSK-AES128-CCM8'],
    pskLookup: (id) => (id === IDENTITY ? KEY : null),
    retransmitInitialMs: 20,
  });
  open.push(server);
  // A relay that lets the client's datagrams through and drops every answer after the
  // HelloVerifyRequest: the server's ServerHello flight goes unanswered.
  const relay = await udp();
  let client: dgram.RemoteInfo | undefined;
  let answers = 0;
  relay.on('message', (bytes, from) => {
    if (from.port === server.local.port) {
      answers += 1;
      if (answers === 1 && client) relay.send(bytes, client.port, client.address);
      return;
    }
    client = from;
    relay.send(bytes, server.local.port, '127.0.0.1');
  });
  const serverHellos = firstN<bigint>(5, 10_000, (push) =>
    server.on('record', (r) => {
      // Flight 4 opens with the ServerHello: handshake record, epoch 0, msg_type 2.
      if (r.direction === 'out' && r.bytes[0] === 22 && r.bytes.readUInt16BE(3) === 0 && r.bytes[13] === 2) push(r.monoNs);
    }),
  );
  // The client keeps quiet meanwhile: its own resend would make the server answer early.
  const attempt = handshakeAttempt(relay.address().port, { retransmitInitialMs: 60_000 });
  const times = await serverHellos;
  expect(await attempt.abort()).toBeInstanceOf(Error);
  expectSchedule(gapsMs(times), 20);
}, 15_000);
