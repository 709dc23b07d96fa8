/**
 * `npm run fuzz -- --seconds N [--seed S] [--rate R]`: runs cases of the suite one after
 * the other for N seconds while a seeded attacker sprays every port of the running case
 * (attacker.ts), against the reference device or a device whose payloads are all broken
 * (fuzzing-device.ts). It reports crashes, unhandled rejections, cases without a verdict,
 * harness errors and RSS growth, and exits 1 if any of them happened or RSS grew by more
 * than 50 MB; 2 on a bad flag. A tool of ours for hardening the harness, not a test.
 */
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultSimulatorProfile } from '../harness/profile/load.js';
import { createSimulatorAdapter } from '../fixtures/simulator/simulator-adapter.js';
import type { DutAdapter } from '../harness/dut/adapter.js';
import { runCase } from '../harness/runner/run-case.js';
import { caseBudgetMs } from '../harness/runner/budget.js';
import type { ResultEvent, VerdictEvent } from '../harness/events/events.js';
import { ALL_CASES } from '../suites/index.js';
import { Rng } from './generators.js';
import { Attacker, type Target } from './attacker.js';
import { FuzzingDevice } from './fuzzing-device.js';

const RSS_GROWTH_LIMIT_MB = 50;
const MB = 1024 * 1024;

interface Scenario {
  caseId: string;
  device: 'reference' | 'fuzzing';
  what: string;
}

const SCENARIOS: Scenario[] = [
  { caseId: 'TC-BS-01', device: 'reference', what: 'reference device, CoAP ports under attack' },
  { caseId: 'TC-BS-01', device: 'fuzzing', what: 'malformed TLV/SenML/link-format in valid responses, ports under attack' },
  { caseId: 'TC-SEC-01', device: 'reference', what: 'reference device over DTLS-PSK, coaps:// ports under attack' },
  { caseId: 'TC-REG-01', device: 'reference', what: 'reference device registering, CoAP ports under attack' },
];

export interface FuzzArgs {
  seconds: number;
  seed: number;
  /** Datagrams per second sent at the case's ports. */
  rate: number;
}

class UsageError extends Error {}

export function parseArgs(argv: string[]): FuzzArgs {
  const args: FuzzArgs = { seconds: 10, seed: randomInt(2 ** 31), rate: 2000 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const name = flag.replace(/^--/, '').split('=')[0]!;
    if (!['seconds', 'seed', 'rate'].includes(name) || !flag.startsWith('--')) throw new UsageError(`unknown argument '${flag}' (flags: --seconds N, --seed S, --rate R)`);
    const raw = flag.includes('=') ? flag.slice(flag.indexOf('=') + 1) : argv[++i];
    const value = Number(raw);
    if (raw === undefined || !/^\d+(\.\d+)?$/.test(raw) || !Number.isFinite(value) || (name !== 'seed' && value <= 0)) {
      throw new UsageError(`--${name} takes a ${name === 'seed' ? 'non-negative integer' : 'positive number'}, not '${raw ?? ''}'`);
    }
    if (name === 'seed' && !Number.isInteger(value)) throw new UsageError(`--seed takes an integer, not '${raw}'`);
    args[name as keyof FuzzArgs] = value;
  }
  return args;
}

interface CaseLine {
  n: number;
  scenario: Scenario;
  verdict: VerdictEvent | undefined;
  problem?: string;
  seconds: number;
  sent: number;
  answers: number;
  keptDatagrams: number;
  keptBytes: number;
  elisionNotes: number;
}

const rssMb = () => process.memoryUsage().rss / MB;
const gc = (globalThis as { gc?: () => void }).gc;

export async function fuzz(args: FuzzArgs, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const write = (s: string) => out.write(s + '\n');
  write(`fuzz: seed ${args.seed} (replay: npm run fuzz -- --seconds ${args.seconds} --seed ${args.seed}), ${args.rate} datagrams/s at every port of the running case, ${args.seconds} s`);
  const rng = new Rng(args.seed);
  const crashes: string[] = [];
  const rejections: string[] = [];
  const onCrash = (e: unknown) => crashes.push(String((e as Error)?.stack ?? e));
  const onRejection = (e: unknown) => rejections.push(String((e as Error)?.stack ?? e));
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onRejection);
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const profile = defaultSimulatorProfile();
  const workDir = mkdtempSync(join(tmpdir(), 'geisa-fuzz-'));
  const startRss = rssMb();
  let peakRss = startRss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMb())), 100);
  let warmRss: number | undefined;
  const lines: CaseLine[] = [];
  const sentByShape = new Map<string, number>();
  const payloadShapes = new Map<string, number>();
  const deadline = Date.now() + args.seconds * 1000;

  try {
    for (let n = 1; Date.now() < deadline && !abort.signal.aborted; n++) {
      const scenario = SCENARIOS[(n - 1) % SCENARIOS.length]!;
      const c = ALL_CASES.find((x) => x.meta.id === scenario.caseId)!;
      const attacker = new Attacker(rng, args.rate);
      let dm: Target | undefined;
      const fuzzing = scenario.device === 'fuzzing' ? new FuzzingDevice(rng, () => dm) : undefined;
      const createAdapter = (): DutAdapter => fuzzing ?? createSimulatorAdapter(profile);
      let keptDatagrams = 0;
      let keptBytes = 0;
      let elisionNotes = 0;
      const emit = (e: ResultEvent) => {
        if (e.type === 'datagram') {
          keptDatagrams += 1;
          keptBytes += JSON.stringify(e).length;
        } else if (e.type === 'note' && e.text.startsWith('wire recorder:')) elisionNotes += 1;
      };
      const started = Date.now();
      attacker.start();
      // The harness's own bound on a case is its budget; past it and a margin, it never ended.
      const bound = caseBudgetMs(c.budget, profile.ixit) + 30_000;
      let watchdog: NodeJS.Timeout | undefined;
      let verdict: VerdictEvent | undefined;
      let problem: string | undefined;
      try {
        verdict = await Promise.race([
          runCase(c, {
            profile,
            createAdapter,
            emit,
            signal: abort.signal,
            workDir,
            onServerOpen: (s) => {
              attacker.aim(s);
              if (s.name === 'lwm2m-server') dm = s;
            },
          }),
          new Promise<undefined>((resolve) => (watchdog = setTimeout(() => resolve(undefined), bound))),
        ]);
        if (!verdict) problem = `no verdict within ${bound / 1000} s (its budget and 30 s)`;
      } catch (e) {
        problem = abort.signal.aborted ? 'interrupted' : `ended without a verdict: ${(e as Error)?.message ?? String(e)}`;
      } finally {
        clearTimeout(watchdog);
        attacker.stop();
      }
      for (const [k, v] of attacker.sent) sentByShape.set(k, (sentByShape.get(k) ?? 0) + v);
      for (const [k, v] of fuzzing?.payloads ?? []) payloadShapes.set(k, (payloadShapes.get(k) ?? 0) + v);
      const line: CaseLine = { n, scenario, verdict, seconds: (Date.now() - started) / 1000, sent: attacker.total, answers: attacker.answers, keptDatagrams, keptBytes, elisionNotes };
      if (problem) line.problem = problem;
      lines.push(line);
      write(describeLine(line));
      gc?.();
      // Warm-up is one case of each scenario (modules, JIT, OpenSSL's first DTLS sessions);
      // growth is counted from there, or from the first case in a shorter run.
      if (n === 1 || n === SCENARIOS.length) warmRss = rssMb();
      write(`  after case ${n}: RSS ${rssMb().toFixed(0)} MB, heap ${(process.memoryUsage().heapUsed / MB).toFixed(0)} MB`);
      if (problem && !verdict) break;
    }
  } finally {
    clearInterval(sampler);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    rmSync(workDir, { recursive: true, force: true });
  }
  // Let late socket callbacks of the last case run, so a crash there is still counted.
  await new Promise((r) => setTimeout(r, 200));
  gc?.();
  const endRss = rssMb();
  process.off('uncaughtException', onCrash);
  process.off('unhandledRejection', onRejection);

  write(
    'sent, by shape: ' +
      [...sentByShape]
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v}`)
        .join('; '),
  );
  if (payloadShapes.size) write('malformed payloads served: ' + [...payloadShapes].map(([k, v]) => `${k} ${v}`).join('; '));
  const growth = endRss - (warmRss ?? startRss);
  const warmedBy = lines.length >= SCENARIOS.length ? `one case of each of the ${SCENARIOS.length} scenarios` : 'the first case';
  write(
    `RSS: ${startRss.toFixed(0)} MB at start, ${(warmRss ?? startRss).toFixed(0)} MB after ${warmedBy} (warm-up), peak ${peakRss.toFixed(0)} MB, ` +
      `${endRss.toFixed(0)} MB at the end${gc ? ' (after gc)' : ''}: growth ${growth.toFixed(1)} MB (limit ${RSS_GROWTH_LIMIT_MB} MB)`,
  );
  const errors = lines.filter((l) => l.verdict?.verdict === 'error');
  const noVerdict = lines.filter((l) => !l.verdict && l.problem !== 'interrupted');
  const failures: string[] = [];
  if (crashes.length) failures.push(`${crashes.length} uncaught exception(s) (the CLI would have died): ${crashes[0]!.split('\n')[0]}`);
  if (rejections.length) failures.push(`${rejections.length} unhandled rejection(s): ${rejections[0]!.split('\n')[0]}`);
  if (noVerdict.length) failures.push(`${noVerdict.length} case(s) without a verdict: ${noVerdict[0]!.problem}`);
  if (errors.length) failures.push(`${errors.length} case(s) ended in error: ${errors[0]!.verdict!.reason}`);
  if (growth > RSS_GROWTH_LIMIT_MB) failures.push(`RSS grew by ${growth.toFixed(1)} MB, over ${RSS_GROWTH_LIMIT_MB} MB`);
  if (lines.length === 0) failures.push('no case ran');
  write(`cases: ${lines.length}, datagrams sent: ${lines.reduce((a, l) => a + l.sent, 0)}, crashes: ${crashes.length}, unhandled rejections: ${rejections.length}, without verdict: ${noVerdict.length}, in error: ${errors.length}`);
  write(failures.length ? `fuzz: FAILED\n  ${failures.join('\n  ')}` : 'fuzz: OK (the harness stayed alive and every case ended with a verdict)');
  return failures.length ? 1 : 0;
}

function describeLine(l: CaseLine): string {
  const v = l.verdict ? `${l.verdict.verdict}` : `NO VERDICT (${l.problem})`;
  const reason = l.verdict ? `: ${l.verdict.reason.length > 160 ? l.verdict.reason.slice(0, 157) + '...' : l.verdict.reason}` : '';
  return (
    `case ${l.n} ${l.scenario.caseId} (${l.scenario.what}): ${v} in ${l.seconds.toFixed(1)} s; ${l.sent} datagrams sent, ${l.answers} answered; ` +
    `evidence kept: ${l.keptDatagrams} datagrams (${(l.keptBytes / 1024).toFixed(0)} KB), ${l.elisionNotes} elision note(s)${reason}`
  );
}

// Run as a program (not when a test imports it).
if (process.argv[1] && /fuzz[\\/]main\.(js|ts)$/.test(process.argv[1])) {
  let args: FuzzArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`fuzz: ${(e as Error).message}\n`);
    process.exit(2);
  }
  process.exit(await fuzz(args));
}
