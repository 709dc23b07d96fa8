#!/usr/bin/env node
/**
 * `npm run bench`: measures the harness itself and prints four figures (plus start-up):
 *   1. fake-server turn-around against a bare dgram echo,
 *   2. the wire recorder's timestamp error on loopback,
 *   3. N simulated devices bootstrapping and registering against one harness process,
 *      and DTLS PSK handshakes against the harness's DTLS server,
 *   4. suite wall time against the protocol waits of the cases it ran.
 * Writes bench/results/<date>-<host>.json (the machine described). Exit 1 if any session,
 * handshake or datagram was lost. Figures, not verdicts: nothing here asserts a time.
 * Runs from dist/ (the reference device and the CLI it measures run from there too).
 */
import { execFileSync, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { LoadFigure } from './load-harness.js';
import type { LoadRequest } from './ipc.js';
import { measureRecorderError } from './recorder-error.js';
import { measureStartup } from './startup.js';
import { measureSuiteRatio } from './suite-ratio.js';
import { measureTurnaround } from './turnaround.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'dist', 'bin', 'geisa-adm.js');

const USAGE = `usage: npm run bench -- [--quick] [--out DIR] [--devices 100,1000] [--window 100] [--dtls N] [--suite-cases IDS] [--no-suite]
  --quick        a few seconds: 20 devices, 20 DTLS handshakes, 250 rounds, the suite figure on TC-BS-14
  --out DIR      where the results JSON goes (default bench/results)
  --devices      simulated device counts, comma-separated (default 100,1000)
  --window       devices in flight at once (default 100)
  --dtls N       DTLS PSK clients (default: the largest device count)
  --suite-cases  cases for the suite figure, as for geisa-adm run --cases (default: the default run)
  --no-suite     leave the suite figure out`;

function fail(msg: string): never {
  process.stderr.write(`bench: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

function options() {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        out: { type: 'string' },
        devices: { type: 'string' },
        window: { type: 'string' },
        dtls: { type: 'string' },
        'suite-cases': { type: 'string' },
        'no-suite': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (e) {
    fail((e as Error).message);
  }
  if (parsed.help) {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  }
  const whole = (flag: string, text: string): number => {
    if (!/^\d+$/.test(text.trim()) || Number(text) < 1) fail(`--${flag}: ${JSON.stringify(text)} is not a positive whole number`);
    return Number(text);
  };
  const quick = parsed.quick!;
  const devices = (parsed.devices ?? (quick ? '20' : '100,1000')).split(',').map((s) => whole('devices', s));
  return {
    quick,
    out: resolve(parsed.out ?? join(ROOT, 'bench', 'results')),
    devices,
    window: whole('window', parsed.window ?? (quick ? '10' : '100')),
    dtls: whole('dtls', parsed.dtls ?? String(Math.max(...devices))),
    suiteCases: parsed['no-suite'] ? null : (parsed['suite-cases'] ?? (quick ? 'TC-BS-14' : undefined)),
    // Quick still goes past a case's evidence bound (the first 200 datagrams of a kind), which the bench must not be held to.
    rounds: quick ? 250 : 2000,
    warmup: quick ? 20 : 200,
    stampCount: quick ? 250 : 2000,
    startupRounds: quick ? 3 : 10,
  };
}

async function load(req: LoadRequest): Promise<LoadFigure> {
  const child = fork(fileURLToPath(new URL('./load-harness.js', import.meta.url)), [], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  child.send(req);
  const [reply] = (await Promise.race([
    once(child, 'message'),
    once(child, 'exit').then(([code]) => {
      throw new Error(`the load harness exited (code ${code}) before reporting`);
    }),
  ])) as [{ figure?: LoadFigure; error?: string }];
  await once(child, 'exit');
  if (!reply.figure) throw new Error(`load harness: ${reply.error}`);
  return reply.figure;
}

function machine() {
  const cpus = os.cpus();
  let gitCommit: string | null = null;
  try {
    gitCommit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    // Not a checkout (an installed package): the figures still stand, unattributed.
  }
  return {
    host: os.hostname(),
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    /** 1/5/15-minute load when the bench started: figures from a busy machine say so. */
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
    gitCommit,
  };
}

const say = (s: string) => process.stdout.write(s + '\n');

async function main(): Promise<number> {
  const o = options();
  const started = new Date();
  const m = machine();
  say(`geisa-adm bench${o.quick ? ' (quick)' : ''} on ${m.host}: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, node ${m.node}, load ${m.loadAverage.join(' ')}`);

  say('\n1. fake-server turn-around (µs; client round trip, and in→out at the server from the wire recorder)');
  const t = await measureTurnaround(o.rounds, o.warmup);
  say(`   dgram echo        rtt p50 ${t.rttUs.echo.p50}  p99 ${t.rttUs.echo.p99}    in→out p50 ${t.serverUs.echo.p50}  p99 ${t.serverUs.echo.p99}`);
  say(`   Bootstrap → 2.04  rtt p50 ${t.rttUs.bootstrap.p50}  p99 ${t.rttUs.bootstrap.p99}    in→out p50 ${t.serverUs.bootstrap.p50}  p99 ${t.serverUs.bootstrap.p99}    ×echo p50 ${t.ratio.bootstrap.p50}  p99 ${t.ratio.bootstrap.p99}`);
  say(`   Register  → 2.01  rtt p50 ${t.rttUs.register.p50}  p99 ${t.rttUs.register.p99}    in→out p50 ${t.serverUs.register.p50}  p99 ${t.serverUs.register.p99}    ×echo p50 ${t.ratio.register.p50}  p99 ${t.ratio.register.p99}`);
  say(`   ${t.rounds} rounds, lost ${t.lost}`);

  say("\n2. wire recorder timestamp against the sender's send time (loopback, sender in another process)");
  const r = await measureRecorderError(o.stampCount);
  say(`   error p50 ${r.errorUs.p50} µs  p99 ${r.errorUs.p99} µs  max ${r.errorUs.max} µs  (${r.samples} datagrams, lost ${r.lost})`);

  say(`\n3. simulated devices against one harness process (Bootstrap-Request → Discover/Write/Finish → Register; ${o.window} in flight)`);
  const loads: LoadFigure[] = [];
  for (const n of o.devices) {
    const f = await load({ mode: 'coap', devices: n, window: o.window });
    loads.push(f);
    say(
      `   N=${String(n).padEnd(5)} ${f.perSecond} sessions/s  p99 ${f.latencyMs.p99} ms  RSS ${f.rssPerIdleSessionKiB} KiB per idle session (${f.rssBeforeMiB} → ${f.rssIdleMiB} MiB)  registered at the server ${f.harness.registrations}  retransmissions ${f.retransmissions}  LOST ${f.lost}`,
    );
    for (const why of f.lostReasons) say(`          lost: ${why}`);
  }
  const d = await load({ mode: 'dtls', devices: o.dtls, window: o.window });
  say(
    `   DTLS PSK (AES128-CCM8) ${d.perSecond} handshakes/s  p99 ${d.latencyMs.p99} ms  held at once ${d.harness.sessionsHeld} of ${d.devices} (evicted ${d.harness.sessionsEvicted})  RSS ${d.rssPerIdleSessionKiB} KiB per session  LOST ${d.lost}`,
  );
  for (const why of d.lostReasons) say(`          lost: ${why}`);
  say("   (the runner's own DTLS servers keep at most 64 sessions; here the cap is the client count)");

  let suite = null;
  if (o.suiteCases !== null) {
    say(`\n4. suite wall time / Σ protocol waits (geisa-adm run${o.suiteCases ? ` --cases ${o.suiteCases}` : ''}, bundled reference device)`);
    suite = await measureSuiteRatio(CLI, ROOT, o.suiteCases);
    say(
      `   ${suite.cases} cases (${suite.notApplicable} not applicable), wall ${suite.wallS} s, Σ floors ${suite.sumFloorsS} s, ratio ${suite.ratio ?? '- (no floor)'}; Σ budgets ${suite.sumBudgetsS} s, ratio ${suite.budgetRatio}  [exit ${suite.exitCode}: ${Object.entries(
        suite.verdicts,
      )
        .map(([v, n]) => `${n} ${v}`)
        .join(', ')}]`,
    );
    say(`   ${suite.note}`);
  }

  say(`\nstart-up (median of ${o.startupRounds} runs, ms)`);
  const s = measureStartup(CLI, ROOT, o.startupRounds);
  say(`   node -e 0 ${s.medianMs.bareNode}   geisa-adm --help ${s.medianMs.help}   geisa-adm list ${s.medianMs.list}`);

  const lost = t.lost + r.lost + loads.reduce((n, f) => n + f.lost, 0) + d.lost;
  const result = {
    format: 'geisa-adm-bench',
    version: 1,
    quick: o.quick,
    startedAt: started.toISOString(),
    machine: m,
    turnaround: t,
    recorderError: r,
    load: { window: o.window, coap: loads, dtls: d },
    suite,
    startup: s,
    lost,
  };
  mkdirSync(o.out, { recursive: true });
  const host = m.host.replace(/[^A-Za-z0-9.-]/g, '_');
  const file = join(o.out, `${started.toISOString().slice(0, 10)}-${host}${o.quick ? '-quick' : ''}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  say(`\nlost: ${lost}${lost ? '  ← sessions, handshakes or datagrams that never completed' : ''}\nwritten ${file}`);
  return lost > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench: ${(e as Error)?.message ?? String(e)}\n`);
    process.exit(3);
  },
);
