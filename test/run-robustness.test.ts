/**
 * A run survives what a careless user or a full disk does to it (issue 13, findings 2, 3
 * and 7): an unusable --out is a usage error before anything starts; a write that fails
 * mid-run ends the run like an interrupt; the counts of run-end and results.json agree;
 * `run` then `verify` passes time after time.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DutAdapter } from '../harness/dut/adapter.js';
import { defaultSimulatorProfile } from '../harness/profile/load.js';
import { defineCase, type CaseDefinition } from '../harness/runner/case.js';
import type { CaseContext } from '../harness/runner/context.js';
import { runSuite } from '../harness/runner/runner.js';
import type { ResultEvent } from '../harness/events/events.js';
import { foldEvents, tally } from '../harness/reports/run-record.js';
import { writeManifest } from '../harness/reports/manifest.js';
import { writeCapture } from '../harness/recorder/pcapng.js';
import { DtlsKeyLog } from '../harness/recorder/keylog.js';
import { CoapTimeoutError } from '../harness/coap/endpoint.js';
import type { CoapMessage } from '../harness/coap/message.js';
import { usingTool } from '../suites/steps.js';
import { RUN_VERIFY_OK, runThenVerify } from './support/run-verify.js';
import { CLI, cliEnv as env, cliSync, scratchFolders } from './support/cli-child.js';
import { testIf } from './support/tools.js';

const scratch = scratchFolders();
const cli = (args: string[]) => cliSync(args, { timeoutMs: 60_000 });

describe('--out is checked before the run starts', () => {
  // Each would otherwise hang (Node's recursive mkdir loops under /proc) or fail with a bare
  // errno that never says which option is wrong.
  const unusable: [string, () => string][] = [
    ['a folder under /proc (not creatable)', () => '/proc/geisa-nope/out'],
    [
      'an existing file',
      () => {
        const f = join(scratch('geisa-out-'), 'a-file');
        writeFileSync(f, 'x');
        return f;
      },
    ],
    [
      'a folder under a file',
      () => {
        const f = join(scratch('geisa-out-'), 'a-file');
        writeFileSync(f, 'x');
        return join(f, 'out');
      },
    ],
    [
      'a folder the harness may not create (read-only parent)',
      () => {
        if (process.getuid?.() === 0) return '/sys/geisa-nope'; // root ignores mode bits; sysfs refuses mkdir
        const d = scratch('geisa-out-ro-');
        spawnSync('chmod', ['0555', d]);
        return join(d, 'out');
      },
    ],
  ];
  test.each(unusable)(
    '%s: exit 2 naming --out, no stack trace, within seconds',
    (_what, path) => {
      const out = path();
      const started = Date.now();
      const r = cli(['run', '--cases', 'TC-BS-01', '--out', out]);
      expect(r.error).toBeUndefined(); // not killed by the timeout
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`--out ${out}`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).not.toContain('TC-BS-01');
    },
    60_000,
  );
});

/** The device host a harness process started (`geisa-adm device host`, its child), if any. */
function deviceHostOf(harnessPid: number): number | undefined {
  const ps = spawnSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' }).stdout;
  for (const line of ps.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    if (m && Number(m[2]) === harnessPid && m[3]!.includes(' device host')) return Number(m[1]);
  }
  return undefined;
}

/** The host stops its devices (each within 2 s at worst) once its stdin closes: a bound, not a guess at how long it takes. */
const HOST_END_MS = 5_000;

async function goneWithin(pid: number, boundMs: number): Promise<boolean> {
  const until = Date.now() + boundMs;
  for (;;) {
    // A zombie has ended; a container's init may be slow to reap it.
    const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
    if (stat === '' || /^\d+ \(.*\) Z /.test(stat)) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a write that fails mid-run ends the run like an interrupt', () => {
  testIf(existsSync('/dev/full'), 'no /dev/full on this machine')(
    'events.jsonl hits ENOSPC (/dev/full) during a PSK case: the case stops, the device is stopped, no key file is left, the other reports written, exit 3 naming the file',
    async () => {
      const dir = scratch('geisa-enospc-');
      const tmp = join(dir, 'tmp');
      mkdirSync(tmp);
      const out = join(dir, 'out');
      const log = join(out, 'events.jsonl');
      // TC-REG-10 (PSK) waits for the device within its lifetime once registered: the device
      // runs (its key provisioned through a file in TMPDIR) while the disk "fills".
      const child = spawn(process.execPath, [CLI, 'run', '--cases', 'TC-REG-10', '--out', out], { env: { ...env, TMPDIR: tmp }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
      const deadline = Date.now() + 40_000;
      while (Date.now() < deadline && !(existsSync(log) && readFileSync(log, 'utf8').includes('"/rd'))) await new Promise((r) => setTimeout(r, 50));
      const registered = readFileSync(log, 'utf8');
      expect(registered).toContain('"/rd');
      expect(registered).not.toContain('"type":"verdict"');
      // The PSK reached the device through a 0600 file that lived only as long as provisioning.
      expect(readdirSync(tmp).filter((n) => n.startsWith('geisa-secrets-'))).toEqual([]);
      const host = deviceHostOf(child.pid!);
      expect(host).toBeDefined();
      // From here on every append to the event log fails with ENOSPC, as on a full disk.
      renameSync(log, join(dir, 'events-before.jsonl'));
      symlinkSync('/dev/full', log);

      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const code = await exited;
      clearTimeout(timer);
      expect({ code, stderr }).toEqual({ code: 3, stderr: expect.stringMatching(/could not write .*events\.jsonl.*ENOSPC/) });
      expect(stderr).not.toMatch(/\n\s+at /);
      // The reports that could be written were, from the events in memory.
      const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
      const c = results.cases.find((x: { id: string }) => x.id === 'TC-REG-10');
      expect(c.verdict).toBe('error');
      expect(c.reason).toMatch(/interrupted/);
      expect(JSON.stringify(results)).toMatch(/events\.jsonl.*ENOSPC/);
      expect(existsSync(join(out, 'junit.xml'))).toBe(true);
      // The broken event log is not vouched for by the manifest; the rest verifies.
      const manifest = readFileSync(join(out, 'manifest.sha256'), 'utf8');
      expect(manifest).not.toContain('events.jsonl');
      expect(manifest).toContain('results.json');
      rmSync(log);
      expect(cli(['verify', out]).status).toBe(0);
      // The device is gone (its host ends when the harness does) and no key file is left.
      expect(await goneWithin(host!, HOST_END_MS)).toBe(true);
      expect(readdirSync(tmp).filter((n) => n.startsWith('geisa-secrets-'))).toEqual([]);
      expect(stdout).toContain('TC-REG-10');
    },
    90_000,
  );

  test('a forced quit (SIGINT twice) still stops the device and leaves no key file', async () => {
    const dir = scratch('geisa-forcequit-');
    const tmp = join(dir, 'tmp');
    mkdirSync(tmp);
    const out = join(dir, 'out');
    const log = join(out, 'events.jsonl');
    const child = spawn(process.execPath, [CLI, 'run', '--cases', 'TC-REG-10', '--out', out], { env: { ...env, TMPDIR: tmp }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    const deadline = Date.now() + 40_000;
    while (Date.now() < deadline && !(existsSync(log) && readFileSync(log, 'utf8').includes('"/rd'))) await new Promise((r) => setTimeout(r, 50));
    expect(readdirSync(tmp).filter((n) => n.startsWith('geisa-secrets-'))).toEqual([]);
    const host = deviceHostOf(child.pid!);
    expect(host).toBeDefined();
    child.kill('SIGINT');
    // Two signals sent at once may arrive as one: the second goes once the first is taken.
    const seen = Date.now() + 10_000;
    while (Date.now() < seen && !stderr.includes('SIGINT: stopping')) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    expect(await exited).toBe(3);
    clearTimeout(timer);
    expect(await goneWithin(host!, HOST_END_MS)).toBe(true);
    expect(readdirSync(tmp).filter((n) => n.startsWith('geisa-secrets-'))).toEqual([]);
  }, 90_000);

  test('a report writer whose rename fails leaves no temp file behind (capture, key log, manifest)', () => {
    const dir = scratch('geisa-tmpfiles-');
    // A non-empty directory where the file should go: the temp file is written, the rename fails.
    for (const name of ['capture.pcapng', 'SECRETS-dtls-keylog.txt', 'manifest.sha256']) {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'occupied'), '');
    }
    writeFileSync(join(dir, 'events.jsonl'), '{}\n');
    expect(() => writeCapture([], join(dir, 'capture.pcapng'))).toThrow();
    expect(() => new DtlsKeyLog().write(dir)).toThrow();
    expect(() => writeManifest(dir, [join(dir, 'events.jsonl')])).toThrow();
    expect(readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([]);
  });
});

describe('counts and reasons', () => {
  const row = 'GEISA-ADM-BS-01';
  const meta = (id: string): CaseDefinition => ({ id, title: 'synthetic', area: 'bootstrap', requirements: [{ id: row, section: 'test', quote: 'test' }], budget: () => 20_000, floor: () => 0, tags: [] });
  const inert: DutAdapter = { kind: 'exec', supports: () => true, run: async () => {}, dispose: async () => {} };

  test('after an interrupt the run-end counts are those of results.json: the unfinished case is an error in both', async () => {
    const events: ResultEvent[] = [];
    const abort = new AbortController();
    const cases = [
      defineCase(meta('TC-TEST-01'), async (t: CaseContext) => t.pass('done')),
      defineCase(meta('TC-TEST-02'), async (t: CaseContext) => {
        abort.abort(); // SIGTERM while this case runs
        await new Promise((r) => t.signal.addEventListener('abort', r));
      }),
      defineCase(meta('TC-TEST-03'), async (t: CaseContext) => t.pass('never runs')),
    ];
    const summary = await runSuite({ cases, profile: defaultSimulatorProfile(), defect: null, createAdapter: () => inert, emit: (e) => events.push(e), signal: abort.signal, strict: false });
    expect(summary.interrupted).toBe(true);
    const end = events.find((e) => e.type === 'run-end');
    if (end?.type !== 'run-end') throw new Error('no run-end');
    const t = tally(foldEvents(events));
    const { total, ...reported } = t;
    expect(total).toBe(2);
    expect(end.counts).toEqual(reported);
    expect(end.counts.error).toBe(1);
    expect(end.counts.pass).toBe(1);
  });

  test('a tool request the device never acknowledged reads as one sentence', async () => {
    const request = { type: 'CON', code: '0.02', mid: 4711, token: Buffer.alloc(0), options: [], payload: Buffer.alloc(0) } as unknown as CoapMessage;
    let reason = '';
    const t = {
      inconclusive: (r: string) => {
        reason = r;
        throw new Error('stop');
      },
    } as unknown as CaseContext;
    await expect(
      usingTool(t, { feature: 'the Bootstrap-Request trigger', judgedBy: 'TC-BS-15' }, async () => {
        throw new CoapTimeoutError(request, 3, 10_500);
      }),
    ).rejects.toThrow('stop');
    expect(reason).toBe('the Bootstrap-Request trigger was not acknowledged (no response to CON mid=4711 after 3 transmission(s) and 10500 ms), so this case could not reach what it judges; TC-BS-15 judges the Bootstrap-Request trigger');
    expect(reason).not.toMatch(/did not answer no response/);
  });
});

// The point is the manifest's stability from one run to the next, not the case: two rounds
// here; run-robustness.slow.test.ts repeats it 20 times.
test('run then verify passes 6 times in a row (3 at a time)', async () => {
  const lines = await runThenVerify(scratch('geisa-run-verify-'), 6);
  expect(lines.filter((l) => !RUN_VERIFY_OK.test(l))).toEqual([]);
}, 150_000);
