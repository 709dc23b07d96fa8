/**
 * The bench (bench/, `npm run bench`): its load generator speaks CoAP the harness
 * understands, the product never imports it, and a quick run yields the four figures with
 * nothing lost. Figures only: no assertion on how fast anything was.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { decodeCoap, encodeCoap, OPTION } from '../harness/coap/message.js';
import { CF, encodeContent, parsePath } from '../harness/lwm2m/index.js';
import { CON, OPT, code, decode, encode, pathOf, strings, tlvResourceString } from '../bench/lite-coap.js';

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

describe('bench', () => {
  test("the load generator's CoAP reads and writes what the harness's codec does", () => {
    const query = ['ep=urn:dev:ops:bench-1', 'lt=86400', 'lwm2m=1.2', 'b=U', 'x'.repeat(300)];
    const mine = encode({ type: CON, code: code(0, 2), mid: 0xbeef, token: Buffer.from('0102', 'hex'), options: [...strings(OPT.URI_QUERY, query), ...strings(OPT.URI_PATH, ['rd'])], payload: Buffer.from('</1/1>') });
    const theirs = decodeCoap(mine);
    expect(theirs).toMatchObject({ type: 'CON', code: '0.02', mid: 0xbeef, payload: Buffer.from('</1/1>') });
    expect(theirs.options.filter((o) => o.number === OPTION.URI_QUERY).map((o) => o.value.toString())).toEqual(query);

    const back = decode(encodeCoap({ ...theirs, options: [...theirs.options, { number: OPTION.CONTENT_FORMAT, value: Buffer.from([40]) }] }));
    expect(back).toMatchObject({ type: CON, code: code(0, 2), mid: 0xbeef });
    expect(pathOf(back)).toBe('/rd');
    expect(back.options.filter((o) => o.number === OPT.URI_QUERY).map((o) => o.value.toString())).toEqual(query);
  });

  test('the load generator reads the Server URI out of the TLV the harness writes', () => {
    const uri = 'coap://127.0.0.1:40123';
    const tlv = encodeContent(
      CF.TLV,
      [
        { path: parsePath('/0/1/0'), value: uri },
        { path: parsePath('/0/1/1'), value: false },
        { path: parsePath('/0/1/5'), value: Buffer.alloc(300, 7) },
        { path: parsePath('/0/1/10'), value: 1 },
      ],
      parsePath('/0/1'),
    );
    expect(tlvResourceString(tlv, 0)).toBe(uri);
    expect(tlvResourceString(tlv, 2)).toBeUndefined();
  });

  test('nothing in the product imports bench/', () => {
    const offenders = ['bin', 'harness', 'suites', 'fixtures']
      .flatMap((d) => tsFiles(resolve(d)))
      .filter((f) => /from\s+['"][^'"]*\/bench\/|import\(\s*['"][^'"]*\/bench\//.test(readFileSync(f, 'utf8')))
      .map((f) => relative(process.cwd(), f));
    expect(offenders).toEqual([]);
  });

  test('a quick run prints the four figures, writes them with the machine described, and loses nothing', () => {
    const out = mkdtempSync(join(tmpdir(), 'geisa-bench-'));
    try {
      const r = spawnSync(process.execPath, [resolve('dist/bench/run.js'), '--quick', '--out', out], { encoding: 'utf8', timeout: 170_000 });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      for (const heading of ['1. fake-server turn-around', '2. wire recorder timestamp', '3. simulated devices', '4. suite wall time', 'start-up']) expect(r.stdout).toContain(heading);
      expect(r.stdout).toMatch(/\nlost: 0\n/);

      const files = readdirSync(out);
      expect(files).toHaveLength(1);
      expect(files[0]).toMatch(/^\d{4}-\d{2}-\d{2}-.+-quick\.json$/);
      const j = JSON.parse(readFileSync(join(out, files[0]!), 'utf8'));
      expect(j.machine).toMatchObject({ cpus: expect.any(Number), cpuModel: expect.any(String), memoryGiB: expect.any(Number), node: process.version });

      // 1: both servers answered every round, and the ratio to the echo is a number.
      expect(j.turnaround.lost).toBe(0);
      for (const k of ['bootstrap', 'register']) {
        expect(j.turnaround.rttUs[k].n).toBe(j.turnaround.rounds);
        expect(j.turnaround.ratio[k].p50).toBeGreaterThan(0);
        expect(j.turnaround.serverUs[k].n).toBe(j.turnaround.rounds);
      }
      // 2: every stamped datagram was recorded.
      expect(j.recorderError.lost).toBe(0);
      expect(j.recorderError.samples).toBe(250);
      expect(Number.isFinite(j.recorderError.errorUs.p99)).toBe(true);
      // 3: every device bootstrapped and registered, as the devices and as the server saw it.
      const [coap] = j.load.coap;
      expect(coap).toMatchObject({ devices: 20, completed: 20, lost: 0, harness: { registrations: 20, bootstrapSessionsFailed: 0 } });
      expect(coap.perSecond).toBeGreaterThan(0);
      expect(Number.isFinite(coap.rssPerIdleSessionKiB)).toBe(true);
      expect(j.load.dtls).toMatchObject({ devices: 20, completed: 20, lost: 0, harness: { sessionsHeld: 20, sessionsEvicted: 0, handshakeFailures: 0 } });
      // 4: the run passed its one case (it waits out the 3 s Initial Registration Delay it writes): one case alone takes at least its floor, and less than its budget.
      expect(j.suite).toMatchObject({ selection: 'TC-BS-14', cases: 1, exitCode: 0, verdicts: { pass: 1 }, basis: 'floors', sumFloorsS: 3 });
      expect(j.suite.ratio).toBeGreaterThanOrEqual(1);
      expect(j.suite.budgetRatio).toBeGreaterThan(0);
      expect(j.suite.budgetRatio).toBeLessThan(j.suite.ratio);
      expect(j.startup.medianMs.help).toBeGreaterThan(0);
      expect(j.lost).toBe(0);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 180_000);
});
