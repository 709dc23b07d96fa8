/**
 * Sprays the fake servers of a running case with what generators.ts makes: malformed CoAP
 * at every port, DTLS garbage and ClientHellos from ever new source ports at the coaps://
 * ones. Fire and forget at a steady rate; nothing waits for an answer, and every answer is
 * just counted.
 */
import dgram from 'node:dgram';
import { type Rng, type Shaped, dtlsGarbage, malformedCoap } from './generators.js';

export interface Target {
  name: string;
  address: string;
  port: number;
  scheme: 'coap' | 'coaps';
}

/** Sockets open at once; the oldest is closed for a new one every ROTATE_EVERY datagrams. */
const POOL = 16;
const ROTATE_EVERY = 8;
const TICK_MS = 10;

export class Attacker {
  readonly sent = new Map<string, number>();
  answers = 0;
  socketErrors = 0;
  private readonly targets: Target[] = [];
  private readonly sockets: dgram.Socket[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sinceRotate = 0;

  constructor(
    private readonly rng: Rng,
    /** Datagrams per second, all targets together. */
    private readonly rate: number,
  ) {}

  aim(t: Target): void {
    this.targets.push(t);
  }

  get total(): number {
    let n = 0;
    for (const v of this.sent.values()) n += v;
    return n;
  }

  start(): void {
    const perTick = Math.max(1, Math.round((this.rate * TICK_MS) / 1000));
    this.timer = setInterval(() => {
      for (let i = 0; i < perTick && this.targets.length > 0; i++) this.fire();
    }, TICK_MS);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    for (const s of this.sockets.splice(0)) s.close();
    this.targets.length = 0;
  }

  private fire(): void {
    const target = this.rng.pick(this.targets);
    const d: Shaped = target.scheme === 'coaps' && this.rng.int(4) !== 0 ? dtlsGarbage(this.rng) : malformedCoap(this.rng);
    this.sent.set(d.shape, (this.sent.get(d.shape) ?? 0) + 1);
    // A server bound to every address is reached on loopback; the pool is IPv4.
    const address = target.address === '0.0.0.0' || target.address === '::' ? '127.0.0.1' : target.address;
    if (address.includes(':')) return;
    this.socket().send(d.bytes, target.port, address, (err) => {
      if (err) this.socketErrors += 1;
    });
  }

  /** A pool socket, replaced by one on a new port now and then (a ClientHello flood comes from ever new ports). */
  private socket(): dgram.Socket {
    this.sinceRotate += 1;
    if (this.sockets.length < POOL || this.sinceRotate >= ROTATE_EVERY) {
      this.sinceRotate = 0;
      if (this.sockets.length >= POOL) this.sockets.shift()!.close();
      const s = dgram.createSocket('udp4');
      s.on('message', () => (this.answers += 1));
      s.on('error', () => (this.socketErrors += 1));
      this.sockets.push(s);
      return s;
    }
    return this.rng.pick(this.sockets);
  }
}
