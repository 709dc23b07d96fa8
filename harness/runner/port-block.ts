/**
 * The run's server ports, from one contiguous block: every fake server of a run (Bootstrap-
 * Server, LwM2M Server, EST, DNS-SD; every case, every parallel job) listens on a port of
 * the block, so one range decodes the capture and one firewall rule admits the device.
 *
 * The block is reserved at run start by binding every port of it (a placeholder socket
 * each): nothing else on the host takes them while the run lasts, and a port already in use
 * moves the whole block elsewhere. A server gets a port by the placeholder stepping aside
 * just before the server binds it; the placeholder comes back when the server has closed.
 *
 * Two lanes, plaintext below and DTLS above: a port keeps its scheme for the whole run, so
 * a capture reader decodes the lower range as CoAP and the upper as DTLS (then CoAP inside).
 * Ports are reused least recently used first: a device's late retransmission to the last
 * case's server then lands on a closed port rather than on the next case's server.
 */
import dgram from 'node:dgram';

export type PortLane = 'plain' | 'dtls';

export interface PortBlockOptions {
  /** The servers' listen address: the block is reserved where they will bind. */
  address: string;
  /** Ports per lane (the block is twice this). */
  perLane: number;
  /** A fixed first port (a lab's firewall admits one range): taken or refused, never moved. */
  base?: number;
  /** Where to try the block when no base is fixed; default a random base in DEFAULT_RANGE. */
  pickBase?: (attempt: number) => number;
  /** Bases tried before giving up (default 20). */
  attempts?: number;
  /** Ports the block must not contain: those a profile fixes for its servers (they bind them themselves). */
  exclude?: readonly number[];
}

/** Below Linux's ephemeral range (32768-60999), where the OS hands out client ports. */
export const DEFAULT_RANGE = { low: 20000, high: 32000 } as const;

/** Ports per lane for a device running `jobs` cases at once: a case uses up to 4 of a lane (servers, EST, DNS-SD). */
export function portsPerLane(jobs: number): number {
  return Math.max(16, 8 * jobs);
}

export class PortBlockError extends Error {}

/** Hands out ports to the servers of a case; `open(0)` is OS-chosen (the block is full or absent). */
export interface PortSource {
  /** Binds a server on a port of the lane (retrying another if one was taken meanwhile); released when `close` runs. */
  withPort<T extends { close(): Promise<void> }>(lane: PortLane, open: (port: number) => Promise<T>): Promise<T>;
}

interface Slot {
  port: number;
  lane: PortLane;
  placeholder: dgram.Socket | undefined;
  /** Lost to another process between a server's close and the placeholder's return. */
  lost: boolean;
  lastUsed: number;
}

export class PortBlock implements PortSource {
  private readonly slots: Slot[];
  private clock = 0;
  private closed = false;
  /** Bases that were tried and why they were left, for the run's notes. */
  readonly moves: string[];
  /** Set when a lane ran out: further servers of that lane were given OS-chosen ports. */
  overflow = false;

  private constructor(
    readonly address: string,
    readonly first: number,
    readonly perLane: number,
    sockets: dgram.Socket[],
    moves: string[],
  ) {
    this.slots = sockets.map((s, i) => ({ port: first + i, lane: i < perLane ? 'plain' : 'dtls', placeholder: s, lost: false, lastUsed: 0 }));
    this.moves = moves;
  }

  get last(): number {
    return this.first + 2 * this.perLane - 1;
  }

  /** The lane's port range, inclusive. */
  range(lane: PortLane): { low: number; high: number } {
    return lane === 'plain' ? { low: this.first, high: this.first + this.perLane - 1 } : { low: this.first + this.perLane, high: this.last };
  }

  static async reserve(opts: PortBlockOptions): Promise<PortBlock> {
    const size = 2 * opts.perLane;
    if (!Number.isInteger(opts.perLane) || opts.perLane < 1) throw new PortBlockError(`port block: ${opts.perLane} ports per lane is not a positive whole number`);
    if (opts.base !== undefined) {
      if (!Number.isInteger(opts.base) || opts.base < 1 || opts.base + size - 1 > 65535) {
        throw new PortBlockError(`port base ${opts.base}: the block of ${size} ports must lie within 1-65535`);
      }
      const fixed = (opts.exclude ?? []).find((p) => p >= opts.base! && p < opts.base! + size);
      if (fixed !== undefined) throw new PortBlockError(`port base ${opts.base}: the block ${opts.base}-${opts.base + size - 1} contains port ${fixed}, which a profile fixes for a server; choose a base outside it`);
      const got = await bindAll(opts.address, opts.base, size);
      if ('busy' in got) {
        throw new PortBlockError(`port base ${opts.base}: port ${got.busy} of the block ${opts.base}-${opts.base + size - 1} on ${opts.address} is not free (${got.error}); free it or choose another base`);
      }
      return new PortBlock(opts.address, opts.base, opts.perLane, got.sockets, []);
    }
    const pick = opts.pickBase ?? (() => DEFAULT_RANGE.low + Math.floor(Math.random() * (DEFAULT_RANGE.high - DEFAULT_RANGE.low - size)));
    const attempts = opts.attempts ?? 20;
    const moves: string[] = [];
    for (let attempt = 0; attempt < attempts; attempt += 1) {
      const base = pick(attempt);
      if (!Number.isInteger(base) || base < 1 || base + size - 1 > 65535) continue;
      const fixed = (opts.exclude ?? []).find((p) => p >= base && p < base + size);
      if (fixed !== undefined) {
        moves.push(`${base}-${base + size - 1}: port ${fixed} fixed by a profile`);
        continue;
      }
      const got = await bindAll(opts.address, base, size);
      if ('sockets' in got) return new PortBlock(opts.address, base, opts.perLane, got.sockets, moves);
      moves.push(`${base}-${base + size - 1}: port ${got.busy} in use`);
    }
    throw new PortBlockError(`no free block of ${size} UDP ports on ${opts.address} after ${attempts} tries (${moves.slice(-3).join('; ')}); fix one with --port-base`);
  }

  /** A port of the lane for a server about to bind, least recently used first; undefined when the lane is full. */
  async take(lane: PortLane): Promise<number | undefined> {
    const free = this.slots.filter((s) => s.lane === lane && s.placeholder && !s.lost).sort((a, b) => a.lastUsed - b.lastUsed);
    const slot = free[0];
    if (!slot) return undefined;
    const socket = slot.placeholder!;
    slot.placeholder = undefined;
    await closeSocket(socket);
    return slot.port;
  }

  /** The server on `port` has closed: the block holds the port again (or counts it lost if another process took it). */
  async give(port: number): Promise<void> {
    const slot = this.slots.find((s) => s.port === port);
    if (!slot || slot.placeholder || slot.lost) return;
    slot.lastUsed = ++this.clock;
    if (this.closed) return;
    const got = await bindOne(this.address, port);
    if ('socket' in got) slot.placeholder = got.socket;
    else slot.lost = true;
  }

  /** The port could not be bound though the block had freed it: another process took it; never hand it out again. */
  private lose(port: number): void {
    const slot = this.slots.find((s) => s.port === port);
    if (slot) slot.lost = true;
  }

  async withPort<T extends { close(): Promise<void> }>(lane: PortLane, open: (port: number) => Promise<T>): Promise<T> {
    for (;;) {
      const port = await this.take(lane);
      if (port === undefined) {
        this.overflow = true;
        return open(0);
      }
      let server: T;
      try {
        server = await open(port);
      } catch (e) {
        if (!/EADDRINUSE/.test(String((e as Error)?.message))) {
          await this.give(port);
          throw e;
        }
        this.lose(port);
        continue;
      }
      const close = server.close.bind(server);
      let released = false;
      server.close = async () => {
        await close();
        if (released) return;
        released = true;
        await this.give(port);
      };
      return server;
    }
  }

  /** Lets every port go; servers still open keep theirs until they close. */
  async release(): Promise<void> {
    this.closed = true;
    const sockets = this.slots.flatMap((s) => (s.placeholder ? [s.placeholder] : []));
    for (const s of this.slots) s.placeholder = undefined;
    await Promise.all(sockets.map(closeSocket));
  }
}

function bindOne(address: string, port: number): Promise<{ socket: dgram.Socket } | { error: string }> {
  const socket = dgram.createSocket({ type: address.includes(':') ? 'udp6' : 'udp4' });
  return new Promise((resolve) => {
    socket.once('error', (e: NodeJS.ErrnoException) => {
      socket.close();
      resolve({ error: e.code ?? e.message });
    });
    socket.bind(port, address, () => {
      socket.removeAllListeners('error');
      // A placeholder only holds the port: whatever reaches it is dropped, and it never keeps the process alive.
      socket.on('error', () => {});
      socket.on('message', () => {});
      socket.unref();
      resolve({ socket });
    });
  });
}

async function bindAll(address: string, base: number, size: number): Promise<{ sockets: dgram.Socket[] } | { busy: number; error: string }> {
  const sockets: dgram.Socket[] = [];
  for (let port = base; port < base + size; port += 1) {
    const got = await bindOne(address, port);
    if ('error' in got) {
      await Promise.all(sockets.map(closeSocket));
      return { busy: port, error: got.error };
    }
    sockets.push(got.socket);
  }
  return { sockets };
}

function closeSocket(s: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      s.close(() => resolve());
    } catch {
      resolve();
    }
  });
}
