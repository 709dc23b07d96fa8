/**
 * Child process of figure 3: N simulated devices, each its own UDP socket on 127.0.0.1,
 * each doing what a real LwM2M client does on first start and nothing more:
 *   CON POST /bs?ep=...            → 2.04
 *   answer the Bootstrap-Server's Discover (2.05), Write /0/x and /1/y (2.04), Finish (2.04)
 *   CON POST /rd?ep=...&lt=... at the Server URI written into /0/x/0 → 2.01
 * with RFC 7252 retransmission of its own CONs and deduplication of the server's. Not the
 * reference device: that is a whole process per device, and the point here is how many
 * devices one harness process serves. In DTLS mode each device is one harness DtlsClient
 * doing a PSK handshake, then one echoed datagram.
 * After every device has finished it reports and stays idle, sockets open, until killed.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { DtlsClient } from '../harness/dtls/client.js';
import { ACK, CON, OPT, code, codeText, decode, encode, pathOf, strings, tlvResourceString, type LiteMessage } from './lite-coap.js';
import { benchPsk, type DeviceOutcome, type DevicesReport, type DevicesStart } from './ipc.js';

// RFC 7252 §4.8 defaults, as a device out of the box would use them.
const ACK_TIMEOUT_MS = 2000;
const ACK_RANDOM_FACTOR = 1.5;
const MAX_RETRANSMIT = 4;
/** A device that has not registered this long after it started counts as lost. */
const SESSION_DEADLINE_MS = 120_000;

const held: { close(): void }[] = [];

class Device {
  private readonly socket = dgram.createSocket('udp4');
  private mid = Math.floor(Math.random() * 0xffff);
  private readonly replies = new Map<number, Buffer>();
  private pending: { mid: number; token: Buffer; done: (m: LiteMessage) => void; timer?: NodeJS.Timeout } | undefined;
  private serverUri: string | undefined;
  private retransmissions = 0;
  private finished = false;
  private readonly t0 = performance.now();
  private settle!: (o: DeviceOutcome) => void;
  readonly outcome = new Promise<DeviceOutcome>((resolve) => (this.settle = resolve));
  private readonly deadline: NodeJS.Timeout;

  constructor(
    private readonly name: string,
    private readonly bsPort: number,
  ) {
    this.deadline = setTimeout(() => this.end(false, `not registered within ${SESSION_DEADLINE_MS / 1000} s`), SESSION_DEADLINE_MS);
    this.socket.on('message', (b, from) => this.onDatagram(b, from.port));
    this.socket.on('error', (e) => this.end(false, `socket: ${e.message}`));
  }

  async start(): Promise<void> {
    this.socket.bind(0, '127.0.0.1');
    await once(this.socket, 'listening');
    held.push(this.socket);
    const r = await this.request(this.bsPort, '0.02', ['bs'], [`ep=${this.name}`]);
    if (r && r.code !== code(2, 4)) this.end(false, `Bootstrap-Request answered ${codeText(r.code)}`);
  }

  private end(ok: boolean, reason?: string): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.deadline);
    if (this.pending?.timer) clearTimeout(this.pending.timer);
    this.settle({ ok, latencyMs: performance.now() - this.t0, retransmissions: this.retransmissions, ...(reason ? { reason } : {}) });
  }

  /** One CON request with retransmission; undefined (and the device lost) when never answered. */
  private request(port: number, method: string, path: string[], query: string[], payload?: Buffer): Promise<LiteMessage | undefined> {
    const mid = (this.mid = (this.mid + 1) & 0xffff);
    const token = Buffer.from([mid >> 8, mid & 0xff, 0xbe, 0x9c]);
    const options = [...strings(OPT.URI_PATH, path), ...strings(OPT.URI_QUERY, query)];
    if (payload) options.push({ number: OPT.CONTENT_FORMAT, value: Buffer.from([40]) });
    const [cls, detail] = method.split('.').map(Number) as [number, number];
    const bytes = encode({ type: CON, code: code(cls, detail), mid, token, options, payload: payload ?? Buffer.alloc(0) });
    return new Promise((resolve) => {
      let timeout = ACK_TIMEOUT_MS * (1 + (ACK_RANDOM_FACTOR - 1) * Math.random());
      let sent = 0;
      const p: NonNullable<Device['pending']> = {
        mid,
        token,
        done: (m) => {
          clearTimeout(p.timer);
          this.pending = undefined;
          resolve(m);
        },
      };
      const transmit = () => {
        if (this.finished) return resolve(undefined);
        if (sent > MAX_RETRANSMIT) {
          this.end(false, `${method === '0.02' ? 'POST' : method} /${path.join('/')} unanswered after ${sent} transmissions`);
          return resolve(undefined);
        }
        if (sent > 0) this.retransmissions += 1;
        sent += 1;
        this.socket.send(bytes, port, '127.0.0.1');
        p.timer = setTimeout(transmit, timeout);
        timeout *= 2;
      };
      this.pending = p;
      transmit();
    });
  }

  private onDatagram(b: Buffer, fromPort: number): void {
    let m: LiteMessage;
    try {
      m = decode(b);
    } catch (e) {
      return this.end(false, `undecodable datagram from the harness: ${(e as Error).message}`);
    }
    const p = this.pending;
    if (m.type === ACK && p && m.mid === p.mid) {
      if (m.code !== 0) return p.done(m);
      // Empty ACK: the response comes separately; stop retransmitting, keep waiting.
      clearTimeout(p.timer);
      return;
    }
    if (m.type === CON && m.code >= 64 && p && m.token.equals(p.token)) {
      // A separate response.
      this.socket.send(encode({ type: ACK, code: 0, mid: m.mid, token: Buffer.alloc(0), options: [], payload: Buffer.alloc(0) }), fromPort, '127.0.0.1');
      return p.done(m);
    }
    if (m.type === CON && m.code > 0 && m.code < 32) {
      const cached = this.replies.get(m.mid);
      if (cached) return void this.socket.send(cached, fromPort, '127.0.0.1');
      const reply = this.serve(m);
      this.replies.set(m.mid, reply.bytes);
      this.socket.send(reply.bytes, fromPort, '127.0.0.1');
      reply.after?.();
    }
  }

  /** The Bootstrap-Server's operations on this device. */
  private serve(m: LiteMessage): { bytes: Buffer; after?: () => void } {
    const path = pathOf(m);
    const answer = (c: number, payload?: Buffer) => encode({ type: ACK, code: c, mid: m.mid, token: m.token, options: payload ? [{ number: OPT.CONTENT_FORMAT, value: Buffer.from([40]) }] : [], payload: payload ?? Buffer.alloc(0) });
    if (m.code === code(0, 1) && path === '/') return { bytes: answer(code(2, 5), Buffer.from('</>;lwm2m="1.2",</0/0>,</1>,</3/0>')) };
    if (m.code === code(0, 3) && /^\/0\/\d+$/.test(path)) {
      this.serverUri = tlvResourceString(m.payload, 0);
      return { bytes: answer(code(2, 4)) };
    }
    if (m.code === code(0, 3) && /^\/1\/\d+$/.test(path)) return { bytes: answer(code(2, 4)) };
    if (m.code === code(0, 2) && path === '/bs') return { bytes: answer(code(2, 4)), after: () => void this.register() };
    return { bytes: answer(code(4, 4)) };
  }

  private async register(): Promise<void> {
    const uri = /^coap:\/\/127\.0\.0\.1:(\d+)$/.exec(this.serverUri ?? '');
    if (!uri) return this.end(false, `Bootstrap-Finish without a usable Server URI in /0/x/0 (${JSON.stringify(this.serverUri)})`);
    const r = await this.request(Number(uri[1]), '0.02', ['rd'], [`ep=${this.name}`, 'lt=86400', 'lwm2m=1.2', 'b=U'], Buffer.from('</1/1>,</3/0>'));
    if (!r) return;
    if (r.code === code(2, 1) && r.options.some((o) => o.number === OPT.LOCATION_PATH)) this.end(true);
    else this.end(false, `Register answered ${codeText(r.code)}${r.code === code(2, 1) ? ' without a Location-Path' : ''}`);
  }
}

async function dtlsDevice(i: number, port: number, seedHex: string): Promise<DeviceOutcome> {
  const t0 = performance.now();
  try {
    const client = await DtlsClient.connect({ remote: { address: '127.0.0.1', port }, cipherSuites: ['PSK-AES128-CCM8'], psk: benchPsk(seedHex, i), handshakeTimeoutMs: 60_000 });
    held.push({ close: () => void client.close() });
    const echoed = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 30_000);
      client.once('message', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    client.send(Buffer.from(`ping ${i}`));
    if (!(await echoed)) return { ok: false, latencyMs: performance.now() - t0, reason: 'established, but the echo never came back', retransmissions: 0 };
    return { ok: true, latencyMs: performance.now() - t0, retransmissions: 0 };
  } catch (e) {
    return { ok: false, latencyMs: performance.now() - t0, reason: (e as Error).message, retransmissions: 0 };
  }
}

process.once('message', async (s: DevicesStart) => {
  const outcomes: DeviceOutcome[] = new Array(s.devices);
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < s.devices) {
      const i = next++;
      if (s.mode === 'dtls') outcomes[i] = await dtlsDevice(i, s.port, s.pskSeedHex!);
      else {
        const d = new Device(`urn:dev:ops:bench-${i}`, s.port);
        await d.start();
        outcomes[i] = await d.outcome;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(s.window, s.devices) }, worker));
  const report: DevicesReport = { outcomes, elapsedMs: performance.now() - t0 };
  process.send!(report);
  // Idle from here on, every socket (and DTLS session) held, until the harness has measured.
  process.once('message', () => {
    for (const h of held) h.close();
    process.exit(0);
  });
});
