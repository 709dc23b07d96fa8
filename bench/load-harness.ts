/**
 * Child process of figure 3: one harness process, measured on its own (its RSS is the
 * figure's). CoAP mode: one BootstrapServer and one Lwm2mServer opened as the runner opens
 * them for a case (wire recorder attached, so the evidence a run keeps is counted), the
 * Bootstrap-Server running the usual session (harness/servers/bootstrap-plan.ts) for every
 * Bootstrap-Request. DTLS mode: one harness DtlsServer with PSK, echoing each datagram.
 * The devices are another process (load-devices.ts). Run with --expose-gc: RSS is read
 * after a full collection, before the devices start and once they are all idle.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { BootstrapServer, type DeviceRequest } from '../harness/servers/bootstrap-server.js';
import { Lwm2mServer } from '../harness/servers/lwm2m-server.js';
import { provisionServerAccount } from '../harness/servers/bootstrap-plan.js';
import { MANDATORY_PSK_SUITE } from '../harness/servers/security.js';
import { DtlsServer } from '../harness/dtls/server.js';
import { WireRecorder } from '../harness/recorder/wire-recorder.js';
import { RFC7252_DEFAULTS } from '../harness/coap/params.js';
import { benchPsk, type DevicesReport, type DevicesStart, type LoadRequest } from './ipc.js';
import { round, summary } from './stats.js';

export interface LoadFigure {
  mode: 'coap' | 'dtls';
  devices: number;
  window: number;
  completed: number;
  lost: number;
  /** Why devices were lost (first few), as the devices saw it. */
  lostReasons: string[];
  /** Completed sessions (or handshakes) per second over the whole run. */
  perSecond: number;
  latencyMs: ReturnType<typeof summary>;
  retransmissions: number;
  /** What the harness itself saw. */
  harness: { registrations?: number; bootstrapSessionsFailed?: number; sessionsHeld?: number; sessionsEvicted?: number; handshakeFailures?: number };
  rssBeforeMiB: number;
  rssIdleMiB: number;
  rssPerIdleSessionKiB: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

function settledRss(): number {
  gc?.();
  gc?.();
  return process.memoryUsage.rss();
}

async function runDevices(start: DevicesStart, whileIdle: () => Promise<unknown> | unknown): Promise<{ report: DevicesReport; idle: unknown }> {
  const child = fork(fileURLToPath(new URL('./load-devices.js', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    child.send(start);
    const [report] = (await Promise.race([
      once(child, 'message'),
      once(child, 'exit').then(([code]) => {
        throw new Error(`the device simulator exited (code ${code}) before reporting`);
      }),
    ])) as [DevicesReport];
    // The devices are idle now, every socket still open: measure before letting them go.
    const idle = await whileIdle();
    return { report, idle };
  } finally {
    if (child.connected) child.send('stop');
    const exited = once(child, 'exit');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

function figureFrom(req: LoadRequest, report: DevicesReport, rssBefore: number, rssIdle: number, harness: LoadFigure['harness']): LoadFigure {
  const ok = report.outcomes.filter((o) => o.ok);
  const lost = report.outcomes.filter((o) => !o.ok);
  return {
    mode: req.mode,
    devices: req.devices,
    window: req.window,
    completed: ok.length,
    lost: req.devices - ok.length,
    lostReasons: [...new Set(lost.map((o) => o.reason ?? 'unknown'))].slice(0, 5),
    perSecond: round(ok.length / (report.elapsedMs / 1000)),
    latencyMs: summary(ok.map((o) => o.latencyMs)),
    retransmissions: report.outcomes.reduce((n, o) => n + o.retransmissions, 0),
    harness,
    rssBeforeMiB: round(rssBefore / 2 ** 20),
    rssIdleMiB: round(rssIdle / 2 ** 20),
    rssPerIdleSessionKiB: round((rssIdle - rssBefore) / 1024 / Math.max(1, ok.length)),
  };
}

async function coapLoad(req: LoadRequest): Promise<LoadFigure> {
  const recorder = new WireRecorder();
  recorder.startCase('bench-load');
  const common = { listenAddress: '127.0.0.1', advertiseHost: '127.0.0.1', port: 0, params: RFC7252_DEFAULTS, tap: recorder.tap };
  const bs = await BootstrapServer.open(common);
  const dm = await Lwm2mServer.open(common);
  let failed = 0;
  let serving = true;
  const sessions: Promise<void>[] = [];
  const serve = async (r: DeviceRequest) => {
    try {
      const plan = await provisionServerAccount(bs, r.remote, { serverUri: dm.uri, ssid: 1, lifetimeS: 86400 });
      if (plan.failedStep) failed += 1;
    } catch {
      // A bootstrap session the device never finished (it timed out): the device reports it lost.
      failed += 1;
    }
  };
  const loop = (async () => {
    while (serving) {
      const r = await bs.bootstrapRequests.next(() => true, 200);
      if (r) sessions.push(serve(r));
    }
  })();
  const rssBefore = settledRss();
  try {
    const { report, idle } = await runDevices({ mode: 'coap', port: bs.port, devices: req.devices, window: req.window }, () => settledRss());
    serving = false;
    await loop;
    await Promise.all(sessions);
    const registrations = new Set(dm.messages.all.filter((m) => m.kind === 'register' && m.answeredWith === '2.01').map((m) => m.query.get('ep')?.[0])).size;
    return figureFrom(req, report, rssBefore, idle as number, { registrations, bootstrapSessionsFailed: failed });
  } finally {
    serving = false;
    await bs.close();
    await dm.close();
  }
}

async function dtlsLoad(req: LoadRequest): Promise<LoadFigure> {
  const seed = randomBytes(16).toString('hex');
  const keys = new Map<string, Buffer>();
  for (let i = 0; i < req.devices; i++) {
    const p = benchPsk(seed, i);
    keys.set(p.identity, p.key);
  }
  // The runner's servers keep 64 sessions (least recently active evicted): here the cap is
  // raised to the device count, to see how many one process can hold.
  const server = await DtlsServer.listen({ address: '127.0.0.1', cipherSuites: [MANDATORY_PSK_SUITE], pskLookup: (id) => keys.get(id) ?? null, maxSessions: req.devices });
  let evicted = 0;
  let handshakeFailures = 0;
  server.on('session-closed', (e) => e.reason === 'evicted' && (evicted += 1));
  server.on('handshake-failed', () => (handshakeFailures += 1));
  server.on('message', (m) => server.send(m.bytes, m.remote));
  server.on('error', () => {});
  const rssBefore = settledRss();
  try {
    const { report, idle } = await runDevices({ mode: 'dtls', port: server.local.port, devices: req.devices, window: req.window, pskSeedHex: seed }, () => ({
      rss: settledRss(),
      held: server.peers().filter((p) => p.state === 'established').length,
    }));
    const { rss, held } = idle as { rss: number; held: number };
    return figureFrom(req, report, rssBefore, rss, { sessionsHeld: held, sessionsEvicted: evicted, handshakeFailures });
  } finally {
    await server.close();
  }
}

process.once('message', async (req: LoadRequest) => {
  try {
    const figure = req.mode === 'dtls' ? await dtlsLoad(req) : await coapLoad(req);
    process.send!({ figure }, () => process.exit(0));
  } catch (e) {
    process.send!({ error: (e as Error).message }, () => process.exit(1));
  }
});
