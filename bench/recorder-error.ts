/**
 * Figure 2: how far the wire recorder's timestamp of an incoming datagram is from the
 * moment its sender sent it, on loopback. The sender is another process (as a device is):
 * it reads the monotonic clock (CLOCK_MONOTONIC, shared by every process on the machine),
 * writes it into the datagram and sends. The harness side is a BootstrapServer with the
 * recorder attached, as a case opens it; the error is the recorder's monoNs minus the
 * stamp. One datagram at a time (the sender waits for the 4.04 each one gets).
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { BootstrapServer } from '../harness/servers/bootstrap-server.js';
import { WireRecorder, type EvidenceLimits } from '../harness/recorder/wire-recorder.js';
import { RFC7252_DEFAULTS } from '../harness/coap/params.js';
import { STAMP_MAGIC } from './ipc.js';
import { summary } from './stats.js';

export interface RecorderErrorFigure {
  samples: number;
  lost: number;
  /** recorder monoNs − sender's stamp, microseconds. */
  errorUs: ReturnType<typeof summary>;
}

/**
 * The bench times every datagram, so nothing is left out: a case's evidence bound keeps only
 * the first 200 of a kind (and the tail at case end), which would read as datagrams lost.
 */
export const EVERY_DATAGRAM: EvidenceLimits = { head: Infinity, tail: 0, malformedHead: Infinity, malformedTail: 0, headBytes: Infinity, tailBytes: 0 };

export async function measureRecorderError(count: number): Promise<RecorderErrorFigure> {
  const errorsNs: number[] = [];
  const recorder = new WireRecorder((e) => {
    if (e.direction !== 'in') return;
    const bytes = Buffer.from(e.bytes, 'hex');
    const at = bytes.indexOf(STAMP_MAGIC);
    if (at < 0) return;
    const stamp = bytes.readBigUInt64BE(at + STAMP_MAGIC.length);
    errorsNs.push(Number(BigInt(e.monoNs) - stamp));
  }, EVERY_DATAGRAM);
  recorder.startCase('bench-recorder-error');
  const bs = await BootstrapServer.open({ listenAddress: '127.0.0.1', advertiseHost: '127.0.0.1', port: 0, params: RFC7252_DEFAULTS, tap: recorder.tap });
  const child = fork(fileURLToPath(new URL('./stamp-sender.js', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    child.send({ port: bs.port, count });
    const [reply] = (await Promise.race([
      once(child, 'message'),
      once(child, 'exit').then(() => {
        throw new Error('the stamp sender exited before reporting');
      }),
    ])) as [{ sent: number; unanswered: number }];
    return { samples: errorsNs.length, lost: reply.sent - errorsNs.length, errorUs: summary(errorsNs.map((n) => n / 1000)) };
  } finally {
    child.kill();
    await bs.close();
  }
}
