/**
 * `geisa-adm run` with cases in parallel and against several devices, through the built
 * CLI against the reference device (rebuild dist/ first):
 *  - the same cases with --jobs 1 and with the default jobs give the same verdicts, and
 *    the parallel run really overlapped cases;
 *  - two exec profiles (the reference device, and the same device with a seeded defect)
 *    plus one that never starts, in one run: a report folder each, a matrix whose every
 *    cell is the verdict of that device's results.json, the hung device holding up no
 *    other, and the exit code the worst of the devices'.
 *
 * The serial/parallel pair runs a subset by default (the timing-judged cases a parallel
 * run could disturb and a DTLS handshake of each kind; with GEISA_TEST_TIER=all, a few
 * plain ones too: about a minute serial on 2 cores); GEISA_RUN_JOBS_FULL=1 compares the
 * whole default suite (several minutes serial).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Results } from '../harness/reports/results.js';
import type { InteropMatrix } from '../harness/reports/interop-matrix.js';
import { parseEventLog } from '../harness/reports/event-log.js';
import { PROFILE_DEFAULTS } from '../harness/profile/schema.js';
import { cli, scratchFolders, CLI, cliEnv as env } from './support/cli-child.js';

const scratch = scratchFolders();

const readResults = (dir: string): Results => JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Results;

/** The fast tier's subset: timing-judged cases a parallel run could disturb, a DTLS handshake of each kind. */
const QUICK_SUBSET = ['TC-BS-01', 'TC-BS-03', 'TC-REG-02', 'TC-COAP-02', 'TC-SEC-01', 'TC-SEC-04'];
/** With the slow tier (`npm run test:all`, CI), a few more of each kind. */
const SUBSET = process.env.GEISA_TEST_TIER === 'all' ? [...QUICK_SUBSET, 'TC-BS-14', 'TC-REG-13', 'TC-RETRY-01', 'TC-COAP-04', 'TC-COAP-05', 'TC-SEC-10'] : QUICK_SUBSET;
const FULL = process.env.GEISA_RUN_JOBS_FULL === '1';

describe('cases in parallel on the bundled device', () => {
  test(`--jobs 1 and the default jobs (${PROFILE_DEFAULTS.simulatorParallel}) give the same verdicts${FULL ? ' (whole default suite)' : ' (subset)'}`, async () => {
    const dir = scratch('geisa-jobs-');
    const selection = FULL ? [] : ['--cases', SUBSET.join(',')];
    // One after the other: the serial run must not share the machine with the parallel one.
    const serial = await cli(['run', ...selection, '--jobs', '1', '--out', join(dir, 'serial')], FULL ? 900_000 : 300_000);
    const parallel = await cli(['run', ...selection, '--out', join(dir, 'parallel')], FULL ? 600_000 : 200_000);
    expect(serial.stderr).toBe('');
    expect(parallel.stderr).toBe('');
    const a = readResults(join(dir, 'serial'));
    const b = readResults(join(dir, 'parallel'));
    const verdicts = (r: Results) => r.cases.map((c) => `${c.id} ${c.verdict}${c.advisory !== null ? ' +advisory' : ''}`);
    const why = (r: Results) => r.cases.filter((c) => c.verdict !== 'pass' || c.advisory !== null).map((c) => `${c.id}: ${c.verdict}: ${c.reason} ${c.advisory ?? ''}`);
    // Both in selection order; on a mismatch the reasons say what happened.
    expect({ verdicts: verdicts(b), notPassing: why(b) }).toEqual({ verdicts: verdicts(a), notPassing: why(a).length ? expect.any(Array) : [] });
    // Reports keep selection order (the catalog's), whatever order the subset is named in.
    expect(b.cases.map((c) => c.id)).toEqual(a.cases.map((c) => c.id));
    if (!FULL) expect(a.cases.map((c) => c.id).sort()).toEqual([...SUBSET].sort());
    expect(parallel.status).toBe(serial.status);
    // Each run names its port block (harness/runner/port-block.ts), sized for its jobs.
    const block = /^the fake servers listened on UDP ports (\d+)-(\d+) of 127\.0\.0\.1: /;
    const blockSize = (notes: { text: string }[]) => notes.filter((n) => block.test(n.text)).map((n) => Number(block.exec(n.text)![2]) - Number(block.exec(n.text)![1]) + 1);
    expect(blockSize(a.run.notes)).toEqual([32]);
    expect(blockSize(b.run.notes)).toEqual([16 * PROFILE_DEFAULTS.simulatorParallel]);
    expect(a.run.notes.filter((n) => !block.test(n.text))).toEqual([]);
    expect(b.run.notes.filter((n) => !block.test(n.text)).map((n) => n.text)).toEqual([`cases ran up to ${PROFILE_DEFAULTS.simulatorParallel} at once, each with its own fake servers (on their own ports) and its own device instance`]);

    // The parallel run overlapped cases (a case started while another was still running);
    // the serial one never did.
    const overlaps = (file: string) => {
      let running = 0;
      let most = 0;
      for (const e of parseEventLog(readFileSync(file, 'utf8'))) {
        if (e.type === 'case-start') most = Math.max(most, ++running);
        if (e.type === 'verdict') running -= 1;
      }
      return most;
    };
    expect(overlaps(join(dir, 'serial', 'events.jsonl'))).toBe(1);
    expect(overlaps(join(dir, 'parallel', 'events.jsonl'))).toBeGreaterThan(1);
    // Wall-clock figures for the record, not asserted: the machine is shared.
    const wall = (r: Results) => ((Date.parse(r.run.endedAt!) - Date.parse(r.run.startedAt!)) / 1000).toFixed(1);
    const reruns = b.cases.filter((c) => c.notes.some((n) => n.text.startsWith('run again alone:'))).map((c) => c.id);
    process.stdout.write(`serial ${wall(a)} s, parallel ${wall(b)} s for ${a.cases.length} cases${reruns.length ? `; run again alone after a harness stall: ${reruns.join(', ')}` : ''}\n`);
  }, 1_000_000);
});

test('SIGINT during a parallel run stops every case in flight and its device, and still writes the report', async () => {
  const dir = scratch('geisa-jobs-int-');
  const out = join(dir, 'out');
  // Both wait long (15 s of watching for a new Register; two retry sequences).
  const child = spawn(process.execPath, [CLI, 'run', '--cases', 'TC-REG-12,TC-RETRY-03', '--out', out], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  const log = join(out, 'events.jsonl');
  // Both cases started and each has heard its device.
  const bothTalking = () => {
    if (!existsSync(log)) return false;
    const text = readFileSync(log, 'utf8');
    return ['TC-REG-12', 'TC-RETRY-03'].every((id) => text.includes(`"type":"datagram","caseId":"${id}"`));
  };
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline && !bothTalking()) await new Promise((r) => setTimeout(r, 50));
  expect(bothTalking()).toBe(true);
  child.kill('SIGINT');
  expect(await exited).toBe(3);
  expect(stderr).toContain('SIGINT: stopping the running cases, stopping the devices');
  const results = readResults(out);
  expect(results.run.interrupted).toBe(true);
  expect(results.cases.map((c) => `${c.id} ${c.verdict} ${c.finished}`)).toEqual(['TC-REG-12 error false', 'TC-RETRY-03 error false']);
  // No device process of this run survives.
  const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout;
  expect(ps.split('\n').filter((l) => l.includes(dir))).toEqual([]);
}, 150_000);

describe('several devices in one run', () => {
  /** The reference device behind exec actions, as a vendor's simulator would be driven. */
  const execProfile = (endpoint: string, runFlags: string, extra = '') => `schema: geisa-adm-profile/1
dut:
  name: "reference device ${endpoint}"
  endpoint: "${endpoint}"
adapter:
  kind: exec
  parallel: 3
  actions:
    provision:
      exec: "node '${CLI}' device provision --state {stateDir}/state.json --bs-uri {bsUri} --endpoint {endpoint}"
    start:
      exec: "exec node '${CLI}' device run --state {stateDir}/state.json --ack-timeout-ms 1000 ${runFlags}"
      background: true
      readyLine: "^READY "
${extra}ixit:
  coap: { ackTimeoutS: 1, ackRandomFactor: 1.5, maxRetransmit: 4, nstart: 1 }
  startupBoundS: 10
  lifetimeS: 10
`;

  test('two devices and a hung one: a folder each, a matrix agreeing with every results.json, exit code the worst', async () => {
    const dir = scratch('geisa-multi-');
    const good = join(dir, 'reference.yaml');
    const defective = join(dir, 'wrong-version.yaml');
    const hung = join(dir, 'hung.yaml');
    writeFileSync(good, execProfile('urn:dev:ops:ref-a', ''));
    // Breaks TC-REG-03 (lwm2m= of the Register) and leaves TC-REG-04 and TC-BS-04 alone.
    writeFileSync(defective, execProfile('urn:dev:ops:ref-b', '--defect register-wrong-lwm2m-version'));
    // Starts and never says it is ready: each of its cases waits out the start action's own limit.
    writeFileSync(
      hung,
      `schema: geisa-adm-profile/1\ndut: { endpoint: "urn:dev:ops:hung" }\nadapter:\n  kind: exec\n  parallel: 3\n  actions:\n    provision: { exec: "true" }\n    start: { exec: "exec sleep 600", background: true, readyLine: "^NEVER", timeoutS: 25 }\n`,
    );
    const out = join(dir, 'out');
    const r = await cli(['run', '--dut', good, '--dut', defective, '--dut', hung, '--cases', 'TC-REG-03,TC-REG-04,TC-BS-04', '--out', out], 240_000);

    const matrix = JSON.parse(readFileSync(join(out, 'matrix.json'), 'utf8')) as InteropMatrix;
    expect(matrix.devices.map((d) => d.folder)).toEqual(['reference', 'wrong-version', 'hung']);
    expect(matrix.cases.map((c) => c.id)).toEqual(['TC-BS-04', 'TC-REG-03', 'TC-REG-04']);
    for (const d of matrix.devices) {
      const results = readResults(join(out, d.folder));
      expect(existsSync(join(out, d.folder, 'report.html'))).toBe(true);
      expect(results.run.profileSource).toBe(join(dir, `${d.folder}.yaml`));
      // Every cell is what that device's own results.json says, and links to its section.
      const html = readFileSync(join(out, d.folder, 'report.html'), 'utf8');
      expect(Object.keys(d.cells).sort()).toEqual(results.cases.map((c) => c.id).sort());
      for (const c of results.cases) {
        const cell = d.cells[c.id]!;
        expect({ id: c.id, verdict: cell.verdict, advisory: cell.advisory }).toEqual({ id: c.id, verdict: c.verdict, advisory: c.advisory !== null });
        const [file, fragment] = cell.link.split('#');
        expect(file).toBe(`${d.folder}/report.html`);
        expect(html).toContain(`id="${fragment}"`);
      }
      expect(d.counts).toEqual(results.counts);
      expect(d.exitCode).toBe(results.run.exitCode);
      expect(d.resultsSha256).toMatch(/^[0-9a-f]{64}$/);
    }
    const [a, b, h] = matrix.devices;
    expect(Object.values(a!.cells).map((c) => c.verdict)).toEqual(['pass', 'pass', 'pass']);
    expect(b!.cells['TC-REG-03']!.verdict).toBe('fail');
    expect(b!.cells['TC-REG-04']!.verdict).toBe('pass');
    expect(Object.values(h!.cells).map((c) => c.verdict)).toEqual(['error', 'error', 'error']);
    expect([a!.exitCode, b!.exitCode, h!.exitCode]).toEqual([0, 1, 3]);
    expect(matrix.exitCode).toBe(3);
    expect(r.status).toBe(3);

    // The hung device held up no other: both finished (reports written) before its first case ended.
    const ended = (folder: string) => Date.parse(readResults(join(out, folder)).run.endedAt!);
    const hungFirstVerdict = Math.min(...readResults(join(out, 'hung')).cases.map((c) => Date.parse(c.startedAt) + c.durationMs));
    expect(ended('reference')).toBeLessThan(hungFirstVerdict);
    expect(ended('wrong-version')).toBeLessThan(hungFirstVerdict);

    // The page: one colour-coded, linked cell per device and case, nothing fetched.
    const page = readFileSync(join(out, 'matrix.html'), 'utf8');
    expect(page).toContain(`<td class="cell v-fail" data-device="wrong-version" data-case-id="TC-REG-03" data-verdict="fail"><a href="wrong-version/report.html#case-TC-REG-03">FAIL</a></td>`);
    expect(page).not.toMatch(/<script|src=/i);
    expect(readFileSync(join(out, 'manifest.sha256'), 'utf8')).toMatch(/^[0-9a-f]{64} {2}matrix\.json\n[0-9a-f]{64} {2}matrix\.html\n$/);
    const verify = await cli(['verify', out], 30_000);
    expect(verify.status).toBe(0);
    expect(r.stdout).toContain('interop matrix (3 devices × 3 cases)');
    expect(r.stderr).not.toMatch(/MaxListeners|Warning/);
  }, 300_000);

  test('two profiles that fix the same port, or two that need an operator, are usage errors before anything runs', async () => {
    const dir = scratch('geisa-multi-');
    const fixed = (name: string) => {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(file, `schema: geisa-adm-profile/1\ndut: { endpoint: ${name} }\nadapter:\n  kind: exec\n  actions:\n    start: { exec: "true" }\nharness:\n  bootstrapPort: 5683\n`);
      return file;
    };
    const a = await cli(['run', '--dut', fixed('a'), '--dut', fixed('b'), '--out', join(dir, 'o1')], 60_000);
    expect(a.status).toBe(2);
    expect(a.stderr).toContain('both fix harness port 5683');
    const operated = (name: string) => {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(file, `schema: geisa-adm-profile/1\ndut: { endpoint: ${name} }\nadapter:\n  kind: manual\n  actions:\n    start: { manual: "Power on" }\n`);
      return file;
    };
    const b = await cli(['run', '--dut', operated('m1'), '--dut', operated('m2'), '--out', join(dir, 'o2')], 60_000);
    expect(b.status).toBe(2);
    expect(b.stderr).toContain('one terminal cannot serve two operators');
    expect(existsSync(join(dir, 'o1', 'a'))).toBe(false);
  }, 120_000);

  test('--jobs 0 and a manual profile asking for 2 at once are usage errors naming the flag or the field', async () => {
    const dir = scratch('geisa-jobs-');
    const a = await cli(['run', '--jobs', '0', '--out', join(dir, 'o')], 60_000);
    expect(a.status).toBe(2);
    expect(a.stderr).toContain('--jobs must be a whole number >= 1, got 0');
    const file = join(dir, 'meter.yaml');
    writeFileSync(file, 'schema: geisa-adm-profile/1\ndut: { endpoint: m }\nadapter:\n  kind: manual\n  parallel: 2\n  actions:\n    start: { manual: "Power on" }\n');
    const b = await cli(['run', '--dut', file, '--out', join(dir, 'o')], 60_000);
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/meter\.yaml:5:13: adapter\.parallel must be 1 when adapter\.kind is "manual"/);
    expect(b.stderr).not.toMatch(/\n\s+at /);
  }, 120_000);
});
