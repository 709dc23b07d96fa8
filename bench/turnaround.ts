/**
 * Figure 1: turn-around of the fake servers. A plain UDP client sends a Bootstrap-Request
 * to the BootstrapServer and a Register to the Lwm2mServer, opened as the harness opens
 * them for a case (wire recorder attached), one request at a time; a bare node:dgram
 * echo is measured in the same process, interleaved round by round, so both see the same
 * machine. Two views: the client's round trip, and the server's own in→out time from the
 * wire recorder's timestamps (the socket callback of the request to the send of the reply).
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { BootstrapServer } from '../harness/servers/bootstrap-server.js';
import { Lwm2mServer } from '../harness/servers/lwm2m-server.js';
import { WireRecorder } from '../harness/recorder/wire-recorder.js';
import { EVERY_DATAGRAM } from './recorder-error.js';
import { RFC7252_DEFAULTS } from '../harness/coap/params.js';
import { CON, OPT, code, codeText, decode, encode, strings } from './lite-coap.js';
import { round, summary } from './stats.js';

export interface TurnaroundFigure {
  rounds: number;
  lost: number;
  /** Client round trip, microseconds. */
  rttUs: { echo: Stat; bootstrap: Stat; register: Stat };
  /** Server in→out from the wire recorder (echo: from its own socket callback to its send), microseconds. */
  serverUs: { echo: Stat; bootstrap: Stat; register: Stat };
  /** Harness round trip / echo round trip. */
  ratio: { bootstrap: { p50: number; p99: number }; register: { p50: number; p99: number } };
}

type Stat = ReturnType<typeof summary>;

const REPLY_WAIT_MS = 2000;

export async function measureTurnaround(rounds: number, warmup: number): Promise<TurnaroundFigure> {
  // The recorder's own timestamps, by direction and MID: the ACK carries the request's MID.
  const inAt = new Map<number, bigint>();
  const serverNs: Record<'bootstrap' | 'register', number[]> = { bootstrap: [], register: [] };
  let measuring = false;
  let current: 'bootstrap' | 'register' = 'bootstrap';
  const recorder = new WireRecorder((e) => {
    const mid = (e.decoded as { mid?: number }).mid;
    if (mid === undefined) return;
    if (e.direction === 'in') inAt.set(mid, BigInt(e.monoNs));
    else {
      const t0 = inAt.get(mid);
      if (t0 !== undefined && measuring) serverNs[current].push(Number(BigInt(e.monoNs) - t0));
      inAt.delete(mid);
    }
  }, EVERY_DATAGRAM);
  recorder.startCase('bench-turnaround');
  const common = { listenAddress: '127.0.0.1', advertiseHost: '127.0.0.1', port: 0, params: RFC7252_DEFAULTS, tap: recorder.tap };
  const bs = await BootstrapServer.open(common);
  const dm = await Lwm2mServer.open(common);

  const echoNs: number[] = [];
  const echo = dgram.createSocket('udp4');
  echo.on('message', (msg, rinfo) => {
    const t0 = process.hrtime.bigint();
    const t1 = process.hrtime.bigint();
    echo.send(msg, rinfo.port, rinfo.address);
    if (measuring) echoNs.push(Number(t1 - t0));
  });
  echo.bind(0, '127.0.0.1');
  await once(echo, 'listening');

  const client = dgram.createSocket('udp4');
  client.bind(0, '127.0.0.1');
  await once(client, 'listening');
  let waiting: ((at: bigint, bytes: Buffer) => void) | undefined;
  client.on('message', (bytes) => {
    const at = process.hrtime.bigint();
    const w = waiting;
    waiting = undefined;
    w?.(at, bytes);
  });

  let mid = Math.floor(Math.random() * 0xffff);
  const token = Buffer.alloc(4);
  const bootstrapRequest = (m: number) => encode({ type: CON, code: code(0, 2), mid: m, token, options: [...strings(OPT.URI_PATH, ['bs']), ...strings(OPT.URI_QUERY, ['ep=bench-turnaround'])], payload: Buffer.alloc(0) });
  const register = (m: number) =>
    encode({
      type: CON,
      code: code(0, 2),
      mid: m,
      token,
      options: [...strings(OPT.URI_PATH, ['rd']), ...strings(OPT.URI_QUERY, ['ep=bench-turnaround', 'lt=86400', 'lwm2m=1.2', 'b=U']), { number: OPT.CONTENT_FORMAT, value: Buffer.from([40]) }],
      payload: Buffer.from('</1/1>,</3/0>'),
    });

  let lost = 0;
  const rtt: Record<'echo' | 'bootstrap' | 'register', number[]> = { echo: [], bootstrap: [], register: [] };
  const exchange = (bytes: Buffer, port: number): Promise<{ ns: number; reply: Buffer } | undefined> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        waiting = undefined;
        resolve(undefined);
      }, REPLY_WAIT_MS);
      const t0 = process.hrtime.bigint();
      waiting = (at, reply) => {
        clearTimeout(timer);
        resolve({ ns: Number(at - t0), reply });
      };
      client.send(bytes, port, '127.0.0.1');
    });

  const expectCode = async (what: 'bootstrap' | 'register', bytes: Buffer, port: number, want: number) => {
    current = what;
    const r = await exchange(bytes, port);
    if (!r) return void (lost += 1);
    const reply = decode(r.reply);
    if (reply.code !== want) throw new Error(`${what}: the harness answered ${codeText(reply.code)}, expected ${codeText(want)}`);
    if (measuring) rtt[what].push(r.ns);
  };

  try {
    for (let i = 0; i < warmup + rounds; i++) {
      measuring = i >= warmup;
      // The echo carries a Bootstrap-Request's bytes: same size, nothing decoded.
      const e = await exchange(bootstrapRequest(0), echo.address().port);
      if (!e) lost += 1;
      else if (measuring) rtt.echo.push(e.ns);
      mid = (mid + 1) & 0xffff;
      await expectCode('bootstrap', bootstrapRequest(mid), bs.port, code(2, 4));
      mid = (mid + 1) & 0xffff;
      await expectCode('register', register(mid), dm.endpoint.local.port, code(2, 1));
    }
  } finally {
    client.close();
    echo.close();
    await bs.close();
    await dm.close();
  }
  const us = (xs: number[]) => summary(xs.map((x) => x / 1000));
  const rttUs = { echo: us(rtt.echo), bootstrap: us(rtt.bootstrap), register: us(rtt.register) };
  return {
    rounds,
    lost,
    rttUs,
    serverUs: { echo: us(echoNs), bootstrap: us(serverNs.bootstrap), register: us(serverNs.register) },
    ratio: {
      bootstrap: { p50: round(rttUs.bootstrap.p50 / rttUs.echo.p50), p99: round(rttUs.bootstrap.p99 / rttUs.echo.p99) },
      register: { p50: round(rttUs.register.p50 / rttUs.echo.p50), p99: round(rttUs.register.p99 / rttUs.echo.p99) },
    },
  };
}
