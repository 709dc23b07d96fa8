/**
 * The device host (`geisa-adm device host`) through the harness's client and the simulator
 * adapter: devices provisioned and started in one process still speak on their own sockets,
 * stop as a power cut, and a wrong word, an unknown device or a dead host comes back as a
 * clear error rather than a hang.
 */
import { createSocket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCoap, OPTION, optionValues } from '../harness/coap/message.js';
import { DeviceHost, DeviceHostError } from '../fixtures/simulator/device-host.js';
import { SimulatorAdapter } from '../fixtures/simulator/simulator-adapter.js';
import { defaultSimulatorProfile } from '../harness/profile/load.js';
import { FAST_PARAMS, PROMPT_MS } from './support/device-bench.js';
import { type ScriptedPeer, isBootstrapRequest, openBootstrapServer } from './support/scripted-peers.js';

const BOUND_MS = 30_000;

let dir: string;
let bs: ScriptedPeer;
let host: DeviceHost;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'geisa-device-host-'));
  bs = await openBootstrapServer(FAST_PARAMS);
  host = new DeviceHost();
  host.acquire();
});
afterEach(async () => {
  host.release();
  await bs.close();
  await rm(dir, { recursive: true, force: true });
});

const runWords = (state: string) => ['--state', state, '--ack-timeout-ms', '100', '--max-retransmit', '2', '--max-latency-ms', '50'];

describe('the device host', () => {
  test('two devices in one host each send their own Bootstrap-Request from their own port; a stopped one falls silent', async () => {
    // A silent Bootstrap-Server that keeps every datagram, retransmissions included (a CoAP
    // endpoint would fold those away): unanswered, a device sends its Bootstrap-Request again
    // 100-150 ms and 300-450 ms after the first (ACK timeout 100 ms, factor 1.5, 2 retransmissions).
    const silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    const seen: { from: string; ep: string | undefined; mid: number; monoNs: bigint }[] = [];
    const arrived = new EventEmitter();
    silent.on('message', (buf, rinfo) => {
      const msg = decodeCoap(buf);
      const ep = optionValues(msg, OPTION.URI_QUERY)
        .map((v) => v.toString())
        .find((q) => q.startsWith('ep='))
        ?.slice(3);
      seen.push({ from: `${rinfo.address}:${rinfo.port}`, ep, mid: msg.mid, monoNs: process.hrtime.bigint() });
      arrived.emit('datagram');
    });
    const until = (cond: () => boolean) =>
      new Promise<boolean>((resolve) => {
        const check = () => {
          if (!cond()) return;
          clearTimeout(timer);
          arrived.off('datagram', check);
          resolve(true);
        };
        const timer = setTimeout(() => (arrived.off('datagram', check), resolve(false)), PROMPT_MS);
        arrived.on('datagram', check);
        check();
      });
    const uri = `coap://127.0.0.1:${silent.address().port}`;
    try {
      const lines: string[] = [];
      const bound: string[] = [];
      for (const name of ['a', 'b']) {
        const state = join(dir, `${name}.json`);
        host.onOutput(name, (o) => lines.push('line' in o ? `${name}: ${o.line}` : `${name} ended: ${o.ended}`));
        const provisioned = await host.call({ op: 'provision', device: name, args: ['--state', state, '--bs-uri', uri, '--endpoint', `urn:dev:ops:host-${name}`], env: {} }, BOUND_MS);
        expect(provisioned).toBe(`provisioned ${state}: Bootstrap-Server ${uri}, endpoint urn:dev:ops:host-${name}`);
        bound.push(await host.call({ op: 'run', device: name, args: runWords(state) }, BOUND_MS));
      }
      expect(bound[0]).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(bound[1]).not.toBe(bound[0]);
      const of = (ep: string) => seen.filter((d) => d.ep === ep);
      expect(await until(() => of('urn:dev:ops:host-a').length >= 1 && of('urn:dev:ops:host-b').length >= 1)).toBe(true);
      expect(of('urn:dev:ops:host-a')[0]!.from).toBe(bound[0]);
      expect(of('urn:dev:ops:host-b')[0]!.from).toBe(bound[1]);
      expect(lines.some((l) => l.startsWith('a: [device +') && l.includes('Bootstrap-Request CON POST /bs?ep=urn:dev:ops:host-a'))).toBe(true);

      expect(await host.call({ op: 'stop', device: 'a' }, BOUND_MS)).toBe('stopped');
      const stoppedNs = process.hrtime.bigint();
      expect(await host.call({ op: 'stop', device: 'a' }, BOUND_MS)).toBe('not running');
      // b, started after a, sends both retransmissions (same Message ID); a's, had it kept running, were due before b's second.
      expect(await until(() => of('urn:dev:ops:host-b').filter((d) => d.mid === of('urn:dev:ops:host-b')[0]!.mid).length >= 3)).toBe(true);
      expect(of('urn:dev:ops:host-a').filter((d) => d.monoNs > stoppedNs)).toEqual([]);
      await host.call({ op: 'stop', device: 'b' }, BOUND_MS);
    } finally {
      silent.close();
    }
  }, 60_000);

  test('a wrong word is refused as a usage error naming the flag; an unknown device cannot change address', async () => {
    const err = await host.call({ op: 'run', device: 'x', args: ['--state', join(dir, 'x.json'), '--ack-timout-ms', '5'] }, BOUND_MS).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeviceHostError);
    expect((err as DeviceHostError).usage).toBe(true);
    expect((err as Error).message).toBe('unknown flag --ack-timout-ms');
    await expect(host.call({ op: 'changeAddress', device: 'nobody' }, BOUND_MS)).rejects.toThrow('device nobody is not running: its address cannot change');
    // A state file that is not there is the device's own failure, said in one line.
    await expect(host.call({ op: 'run', device: 'y', args: runWords(join(dir, 'missing.json')) }, BOUND_MS)).rejects.toThrow(/missing\.json/);
  }, 60_000);

  test('the simulator adapter notes the command words, the device log and the power cut, and names no key', async () => {
    const profile = defaultSimulatorProfile();
    const adapter = new SimulatorAdapter(profile, {}, host);
    const notes: string[] = [];
    const hooks = { note: (_s: 'adapter' | 'operator', text: string) => notes.push(text), pauseTimeout: () => undefined, resumeTimeout: () => undefined };
    const params = { bsUri: bs.uri, bsHost: '127.0.0.1', bsPort: Number(bs.uri.split(':').at(-1)), endpoint: 'urn:dev:ops:host-adapter', stateDir: dir };
    const key = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    // A PSK given for a coap:// account is not used by the device, but must still not show.
    await adapter.run('provision', params, { pskIdentity: 'id-1', pskKey: key }, hooks);
    await adapter.run('start', params, {}, hooks);
    expect(await bs.next(isBootstrapRequest, PROMPT_MS)).toBeDefined();
    await adapter.run('stop', params, {}, hooks);
    await adapter.dispose();
    expect(notes[0]).toMatch(/^\[provision\] \$ geisa-adm device provision --state \S+device-state\.json --bs-uri coap:\/\/127\.0\.0\.1:\d+ --endpoint urn:dev:ops:host-adapter /);
    expect(notes).toContain(`[provision] provisioned ${dir}/device-state.json: Bootstrap-Server ${bs.uri}, endpoint urn:dev:ops:host-adapter, Bootstrap-Pack-Request first`);
    expect(notes.some((n) => /^\[start\] READY 127\.0\.0\.1:\d+$/.test(n))).toBe(true);
    expect(notes.some((n) => n.startsWith('[start] [device +') && n.includes('Bootstrap-Request CON POST /bs'))).toBe(true);
    expect(notes).toContain('[stop] power cut: the device stops without a De-register');
    expect(notes.join('\n')).not.toContain(key.toString('hex'));
  }, 60_000);

  test('a host that dies fails the request in flight with its reason, and the next request starts a new host', async () => {
    const state = join(dir, 'z.json');
    await host.call({ op: 'provision', device: 'z', args: ['--state', state, '--bs-uri', bs.uri, '--endpoint', 'urn:dev:ops:host-z'], env: {} }, BOUND_MS);
    const pid = host.pid();
    expect(pid).toBeGreaterThan(0);
    const inFlight = host.call({ op: 'run', device: 'z', args: runWords(state) }, BOUND_MS).catch((e: unknown) => e);
    process.kill(pid!, 'SIGKILL');
    const err = await inFlight;
    // Either the run was answered before the kill landed, or it failed naming the signal.
    if (err instanceof Error) expect(err.message).toMatch(/^the device host was killed by SIGKILL/);
    expect(await host.call({ op: 'stop', device: 'z' }, BOUND_MS)).toBe('not running');
    expect(host.pid()).not.toBe(pid);
  }, 60_000);
});
