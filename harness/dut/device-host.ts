/**
 * The harness's end of the device host (`geisa-adm device host`): a child process that runs
 * bundled reference devices (fixtures/device/host-protocol.ts). Started on first use, kept
 * for the next case (takeDeviceHost), and ended once no adapter has used it for a moment:
 * its stdin closes and it stops its devices. A host that dies fails the requests in flight
 * and is started again on next use.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { encodeHostLine, type HostMessage, type HostRequest } from '../../fixtures/device/host-protocol.js';
import { packageRoot } from './package-root.js';

/** How long the host outlives its last user: the next case (or cell) usually comes sooner. */
const IDLE_END_MS = 1000;

export type DeviceOutput = { line: string } | { ended: string };

export class DeviceHostError extends Error {
  constructor(
    message: string,
    readonly usage = false,
  ) {
    super(message);
    this.name = 'DeviceHostError';
  }
}

type Distributive<T> = T extends unknown ? Omit<T, 'id'> : never;
export type HostCall = Distributive<HostRequest>;

interface Pending {
  resolve: (text: string) => void;
  reject: (e: Error) => void;
}

export class DeviceHost {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly outputs = new Map<string, (o: DeviceOutput) => void>();
  private users = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  /** The host's last stderr lines and fatal message, for the error of a request it could not answer. */
  private lastWords: string[] = [];

  /** The host's process id while it runs (tests kill it to see a dead host handled). */
  pid(): number | undefined {
    return this.child?.pid;
  }

  /** Counts a user; the host ends IDLE_END_MS after the last one releases it. */
  acquire(): void {
    this.users++;
    clearTimeout(this.idleTimer);
  }

  release(): void {
    this.users = Math.max(0, this.users - 1);
    if (this.users > 0 || !this.child) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.end(), IDLE_END_MS);
    this.idleTimer.unref();
  }

  /** Where a device's log lines (and its unasked end) go; undefined stops them. */
  onOutput(device: string, sink: ((o: DeviceOutput) => void) | undefined): void {
    if (sink) this.outputs.set(device, sink);
    else this.outputs.delete(device);
  }

  call(request: HostCall, boundMs: number): Promise<string> {
    const child = this.child ?? this.spawn();
    const id = this.nextId++;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new DeviceHostError(`the device host did not answer ${describeCall(request)} within ${boundMs / 1000} s`));
      }, boundMs);
      this.pending.set(id, {
        resolve: (text) => {
          clearTimeout(timer);
          resolve(text);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      child.stdin!.write(encodeHostLine({ ...request, id } as HostRequest));
    });
  }

  private spawn(): ChildProcess {
    const cli = join(packageRoot(), 'dist', 'bin', 'geisa-adm.js');
    const child = spawn(process.execPath, [cli, 'device', 'host'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    this.lastWords = [];
    // The host must not keep this process alive: when it ends, the closed pipe ends the host.
    child.unref();
    for (const s of [child.stdin, child.stdout, child.stderr] as unknown as { unref?: () => void }[]) s.unref?.();
    child.stdin!.on('error', () => undefined);
    createInterface({ input: child.stdout!, crlfDelay: Infinity }).on('line', (line) => this.take(line));
    createInterface({ input: child.stderr!, crlfDelay: Infinity }).on('line', (line) => this.remember(line));
    const gone = (why: string) => {
      if (this.child !== child) return;
      this.child = undefined;
      const detail = this.lastWords.length > 0 ? `: ${this.lastWords.join(' | ')}` : '';
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        p.reject(new DeviceHostError(`the device host ${why}${detail}`));
      }
      for (const sink of this.outputs.values()) sink({ ended: `the device host ${why}${detail}` });
    };
    child.once('error', (e) => gone(`could not run: ${e.message}`));
    child.once('exit', (code, signal) => gone(signal ? `was killed by ${signal}` : `exited with code ${code}`));
    return child;
  }

  private end(): void {
    if (this.users > 0 || !this.child) return;
    this.child.stdin!.end();
  }

  private remember(line: string): void {
    this.lastWords.push(line);
    if (this.lastWords.length > 4) this.lastWords.shift();
  }

  private take(line: string): void {
    let m: HostMessage;
    try {
      m = JSON.parse(line) as HostMessage;
    } catch {
      this.remember(line);
      return;
    }
    if ('id' in m) {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.text);
      else p.reject(new DeviceHostError(m.error, m.usage === true));
    } else if ('fatal' in m) {
      this.remember(m.fatal);
    } else {
      this.outputs.get(m.device)?.('line' in m ? { line: m.line } : { ended: m.ended });
    }
  }
}

function describeCall(c: HostCall): string {
  return `${c.op} of device ${c.device}`;
}

/**
 * Hosts free for the next case. Each adapter takes a host of its own for its device, so
 * devices of cases running at once do not share an event loop (a device busy with a DTLS
 * handshake or a key would otherwise hold up another's retransmission timer); a host is
 * reused by the next case, so Node starts once per lane of a run, not twice per case.
 */
const idleHosts: DeviceHost[] = [];

export function takeDeviceHost(): DeviceHost {
  const host = idleHosts.pop() ?? new DeviceHost();
  host.acquire();
  return host;
}

export function giveBackDeviceHost(host: DeviceHost): void {
  host.release();
  if (!idleHosts.includes(host)) idleHosts.push(host);
}
