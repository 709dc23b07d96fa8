/**
 * One real run (the built CLI against the reference device, a seeded defect so that the
 * verdicts differ) and every report it leaves: results.json, JUnit (valid against the
 * shared schema), report.html (as Chromium renders it), report.pdf, the console summary,
 * the event log and the manifest — all with the same cases and the same verdicts.
 * `geisa-adm report` renders the same files again from results.json alone; an interrupted
 * run is marked interrupted in every rendering.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { validateXML } from 'xmllint-wasm';
import { parseEventLog } from '../harness/reports/event-log.js';
import { readResults, type Results } from '../harness/reports/results.js';
import { hasTool, testIf } from './support/tools.js';
import { caseRowsOf, dumpDom, expectPdfListsCases, pdfText } from './support/reports-browser.js';
import { CLI, cliEnv, cliSync } from './support/cli-child.js';

const haveChromium = hasTool('chromium');
const havePdftotext = hasTool('pdftotext');

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => cliSync(args, { env, timeoutMs: 180_000 });

/** [case id, verdict] as JUnit says it: failure → fail, error → error, skipped → inconclusive or not-applicable. */
function junitVerdicts(xml: string): [string, string][] {
  return [...xml.matchAll(/<testcase [^>]*name="([^" ]+) [^"]*"[^>]*?(?:\/>|>([\s\S]*?)<\/testcase>)/g)].map((m) => {
    const body = m[2] ?? '';
    if (/<failure[ >/]/.test(body)) return [m[1]!, 'fail'];
    if (/<error[ >/]/.test(body)) return [m[1]!, 'error'];
    const skipped = /<skipped(?: message="([^"]*)")?/.exec(body);
    if (skipped) return [m[1]!, (skipped[1] ?? '').startsWith('INCONCLUSIVE:') ? 'inconclusive' : 'not-applicable'];
    return [m[1]!, 'pass'];
  });
}

async function validJunit(xml: string): Promise<void> {
  const schema = readFileSync(resolve('../shared/schemas/junit.xsd'), 'utf8');
  const r = await validateXML({ xml: [{ fileName: 'junit.xml', contents: xml }], schema: [schema] });
  expect(r.errors).toEqual([]);
}

function manifestFiles(dir: string): string[] {
  return readFileSync(join(dir, 'manifest.sha256'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.slice(66));
}

const pairs = (r: Results) => r.cases.map((c) => [c.id, c.verdict]);

describe('every report of one run agrees', () => {
  let dir: string;
  let out: string;
  let run: ReturnType<typeof cli>;
  let results: Results;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'geisa-consistency-'));
    out = join(dir, 'out');
    // The defect makes TC-BS-01 fail while TC-REG-01 still runs: more than one verdict to agree on.
    run = cli(['run', '--cases', 'TC-BS-01,TC-REG-01', '--defect', 'bootstrap-request-non-confirmable', '--out', out, ...(haveChromium ? ['--pdf'] : [])]);
    results = readResults(join(out, 'results.json'));
  }, 240_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('results.json holds the cases run, with more than one verdict, and the device identity', () => {
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(results.cases.map((c) => c.id)).toEqual(['TC-BS-01', 'TC-REG-01']);
    expect(results.cases[0]!.verdict).toBe('fail');
    expect(new Set(results.cases.map((c) => c.verdict)).size).toBeGreaterThan(1);
    expect(results.run.interrupted).toBe(false);
    expect(results.run.defect).toBe('bootstrap-request-non-confirmable');
    expect(results.cases.every((c) => c.trace.length > 0)).toBe(true);
    // Read from /3/0 by the fake LwM2M Server once the device registered.
    expect(results.run.dut.identity).toMatchObject({ readBy: 'TC-BS-01', path: '/3/0', manufacturer: 'GEISA reference', model: 'geisa-ref-device' });
    expect(results.run.dut.identity!.serial).toMatch(/^GRD-/);
  });

  test('the event log has the same verdicts', () => {
    const events = parseEventLog(readFileSync(join(out, 'events.jsonl'), 'utf8'));
    // Cases run in parallel: the log has their verdicts in the order they ended, one each.
    const verdicts = events.flatMap((e) => (e.type === 'verdict' ? [[e.caseId, e.verdict]] : []));
    const byCase = (p: (string | undefined)[][]) => [...p].sort((a, b) => String(a[0]).localeCompare(String(b[0])));
    expect(byCase(verdicts)).toEqual(byCase(pairs(results)));
  });

  test('JUnit is valid against the shared schema and has the same cases and verdicts', async () => {
    const xml = readFileSync(join(out, 'junit.xml'), 'utf8');
    await validJunit(xml);
    expect(junitVerdicts(xml)).toEqual(pairs(results));
  });

  test('report.html has the same cases and verdicts, in the file and as Chromium renders it', () => {
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(caseRowsOf(html)).toEqual(pairs(results));
    if (haveChromium) expect(caseRowsOf(dumpDom(join(out, 'report.html')))).toEqual(pairs(results));
  }, 120_000);

  test('the console summary lists each case with its verdict', () => {
    for (const c of results.cases) expect(run.stdout).toMatch(new RegExp(`^${c.id}\\s+${c.verdict}\\b`, 'm'));
  });

  test('the manifest lists every report file and verify passes', () => {
    const listed = manifestFiles(out);
    for (const f of ['events.jsonl', 'results.json', 'junit.xml', 'report.html']) expect(listed).toContain(f);
    if (haveChromium) expect(listed).toContain('report.pdf');
    const v = cli(['verify', out]);
    expect(v.stdout).toContain(`all ${listed.length} report files match the manifest`);
    expect(v.status).toBe(0);
  });

  testIf(haveChromium && havePdftotext, haveChromium ? 'no pdftotext (Debian poppler-utils)' : 'no chromium (Debian chromium)')('run --pdf wrote report.pdf with every case id and verdict', () => {
    expectPdfListsCases(pdfText(join(out, 'report.pdf')), results);
  });

  test('geisa-adm report renders JUnit and HTML again from results.json, byte for byte', () => {
    const again = join(dir, 'again');
    const r = cli(['report', join(out, 'results.json'), '--out', again, '--junit', '--html']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(join(again, 'junit.xml'), 'utf8')).toBe(readFileSync(join(out, 'junit.xml'), 'utf8'));
    expect(readFileSync(join(again, 'report.html'), 'utf8')).toBe(readFileSync(join(out, 'report.html'), 'utf8'));
    for (const c of results.cases) expect(r.stdout).toMatch(new RegExp(`^${c.id}\\s+${c.verdict}\\b`, 'm'));
  });

  test('geisa-adm report warns when results.json no longer matches the manifest', () => {
    const copy = join(dir, 'tampered');
    spawnSync('cp', ['-r', out, copy]);
    const file = join(copy, 'results.json');
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    doc.cases[0].verdict = 'pass';
    writeFileSync(file, JSON.stringify(doc));
    const r = cli(['report', file, '--html']);
    expect(r.stderr).toContain('results.json differs from the run');
  });

  test('--pdf without Chromium is a clear error, not a stack trace, for report and for run', () => {
    const missing = { GEISA_CHROMIUM: join(dir, 'no-such-chromium') };
    const r = cli(['report', join(out, 'results.json'), '--pdf', '--out', join(dir, 'nopdf')], missing);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--pdf needs Chromium');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(dir, 'nopdf', 'report.pdf'))).toBe(false);
    const run2 = cli(['run', '--cases', 'TC-BS-01', '--pdf', '--out', join(dir, 'norun')], missing);
    expect(run2.status).toBe(2);
    expect(run2.stderr).toContain('--pdf needs Chromium');
    // Refused before any case ran.
    expect(existsSync(join(dir, 'norun', 'events.jsonl'))).toBe(false);
  });

  test('a file that is not results.json is a usage error naming it', () => {
    const r = cli(['report', join(out, 'junit.xml')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('junit.xml is not JSON');
  });
});

test('an interrupted run: the cases that finished are reported, and every rendering says interrupted', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'geisa-interrupt-'));
  const out = join(dir, 'out');
  try {
    // One case at a time: TC-BS-01 finishes; TC-REG-02 waits half a lifetime for an Update, time enough to interrupt it.
    const child = spawn(process.execPath, [CLI, 'run', '--jobs', '1', '--cases', 'TC-BS-01,TC-REG-02', '--out', out], { env: cliEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const log = join(out, 'events.jsonl');
    const registeredInRegCase = () => {
      if (!existsSync(log)) return false;
      const text = readFileSync(log, 'utf8');
      const at = text.indexOf('"case-start","caseId":"TC-REG-02"');
      return at >= 0 && text.indexOf('"/rd"', at) >= 0;
    };
    const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline && !registeredInRegCase()) await new Promise((r) => setTimeout(r, 50));
    expect(registeredInRegCase()).toBe(true);
    child.kill('SIGINT');
    expect(await exited).toBe(3);

    const results = readResults(join(out, 'results.json'));
    expect(results.run.interrupted).toBe(true);
    expect(results.cases.find((c) => c.id === 'TC-BS-01')!.finished).toBe(true);
    expect(results.cases.find((c) => c.id === 'TC-REG-02')).toMatchObject({ verdict: 'error', finished: false });
    const xml = readFileSync(join(out, 'junit.xml'), 'utf8');
    await validJunit(xml);
    expect(xml).toContain('<property name="run.interrupted" value="true"/>');
    expect(junitVerdicts(xml)).toEqual(pairs(results));
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('id="interrupted"');
    expect(caseRowsOf(html)).toEqual(pairs(results));
    expect(stdout).toContain('RUN INTERRUPTED');
    expect(manifestFiles(out)).toEqual(expect.arrayContaining(['events.jsonl', 'results.json', 'junit.xml', 'report.html']));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 150_000);
