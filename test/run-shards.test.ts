/**
 * `geisa-adm run --shard k/n` and `geisa-adm merge`:
 *  - the split (unit): every case in exactly one shard, the same split whatever the order
 *    of the list, shard sizes within one of each other; malformed k/n refused;
 *  - through the built CLI against the reference device (rebuild dist/ first): shard 1/2,
 *    shard 2/2 and an unsharded run of the same few fast cases, then merge: the merged
 *    results.json, JUnit and HTML say the same verdicts as the unsharded run, and the
 *    merged manifest verifies;
 *  - merge refuses shards of another tool version, another profile, or overlapping shards,
 *    naming the folder, with exit 2 and no stack trace.
 */
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Results } from '../harness/reports/results.js';
import { parseShard, shardIds } from '../harness/cli/shard.js';
import { UsageError } from '../harness/cli/select.js';
import { cli, scratchFolders } from './support/cli-child.js';

const scratch = scratchFolders();

const readResults = (dir: string): Results => JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Results;
const verdicts = (r: Results) => Object.fromEntries(r.cases.map((c) => [c.id, c.verdict]));

describe('the split', () => {
  const ids = Array.from({ length: 23 }, (_, i) => `TC-X-${String(i).padStart(2, '0')}`);

  test.each([1, 2, 3, 4, 7, 23])('n = %i: every case in exactly one shard, sizes within one, order of the list irrelevant', (n) => {
    const shuffled = [...ids].reverse().sort((a, b) => (a.charCodeAt(5) % 3) - (b.charCodeAt(5) % 3));
    const shards = Array.from({ length: n }, (_, k) => shardIds(ids, { index: k + 1, count: n }));
    const again = Array.from({ length: n }, (_, k) => shardIds(shuffled, { index: k + 1, count: n }));
    const all = shards.flatMap((s) => [...s]);
    expect(all.sort()).toEqual([...ids].sort());
    const sizes = shards.map((s) => s.size);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    expect(again.map((s) => [...s].sort())).toEqual(shards.map((s) => [...s].sort()));
  });

  test.each(['0/2', '3/2', '1/0', 'a/b', '1', '1/2/3', '-1/2', '1.5/2', ''])('--shard %j is a usage error', (spec) => {
    expect(() => parseShard(spec)).toThrow(UsageError);
  });

  test('whitespace around the numbers is accepted', () => {
    expect(parseShard(' 2 / 3 ')).toEqual({ index: 2, count: 3 });
  });
});

describe('through the CLI', () => {
  // Fast, untimed cases of the bundled device: a plain bootstrap, a bootstrap operation, a
  // registration, CoAP message layer, a DTLS handshake.
  const CASES = 'TC-BS-01,TC-BS-04,TC-REG-03,TC-COAP-01,TC-SEC-01';
  let dir: string;
  let whole: Results;
  let merged: Results;

  beforeAll(async () => {
    dir = scratch('geisa-shards-');
    const [a, b, c] = await Promise.all([
      cli(['run', '--cases', CASES, '--shard', '1/2', '--out', join(dir, 's1')], 150_000),
      cli(['run', '--cases', CASES, '--shard', '2/2', '--out', join(dir, 's2')], 150_000),
      cli(['run', '--cases', CASES, '--out', join(dir, 'whole')], 150_000),
    ]);
    for (const r of [a, b, c]) expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    const m = await cli(['merge', join(dir, 's1'), join(dir, 's2'), '--out', join(dir, 'merged')], 30_000);
    expect({ status: m.status, stderr: m.stderr }).toEqual({ status: 0, stderr: '' });
    whole = readResults(join(dir, 'whole'));
    merged = readResults(join(dir, 'merged'));
  }, 200_000);

  test('the two shards are disjoint and together the selection', () => {
    const s1 = readResults(join(dir, 's1')).cases.map((c) => c.id);
    const s2 = readResults(join(dir, 's2')).cases.map((c) => c.id);
    expect(s1.length).toBeGreaterThan(0);
    expect(s2.length).toBeGreaterThan(0);
    expect(s1.filter((id) => s2.includes(id))).toEqual([]);
    expect([...s1, ...s2].sort()).toEqual(CASES.split(',').sort());
  });

  test('merge gives the verdicts, order, counts and requirement statuses of the unsharded run', () => {
    expect(merged.cases.map((c) => c.id)).toEqual(whole.cases.map((c) => c.id));
    expect(verdicts(merged)).toEqual(verdicts(whole));
    expect(merged.counts).toEqual(whole.counts);
    expect(merged.run.selectedCases).toEqual(whole.run.selectedCases);
    expect(merged.run.exitCode).toBe(whole.run.exitCode);
    const status = (r: Results) => Object.fromEntries(r.matrix.rows.map((x) => [x.requirementId, { status: x.status, notRun: [...x.notRunCases].sort() }]));
    expect(status(merged)).toEqual(status(whole));
  });

  test('JUnit and HTML are rendered from the merged results, the manifest verifies, and the unmerged evidence is named', async () => {
    const junit = readFileSync(join(dir, 'merged', 'junit.xml'), 'utf8');
    const html = readFileSync(join(dir, 'merged', 'report.html'), 'utf8');
    for (const c of whole.cases) {
      expect(junit).toContain(c.id);
      expect(html).toContain(`case-${c.id}`);
    }
    const v = await cli(['verify', join(dir, 'merged')], 20_000);
    expect(v.status).toBe(0);
    const note = merged.run.notes[0]!.text;
    expect(note).toMatch(/events\.jsonl.*capture\.pcapng.*not merged/);
    for (const s of ['s1', 's2']) {
      const manifest = readFileSync(join(dir, s, 'manifest.sha256'));
      const sha = (await import('node:crypto')).createHash('sha256').update(manifest).digest('hex');
      expect(note).toContain(`${join(dir, s)} (`);
      expect(note).toContain(sha);
    }
    expect(merged.run.capture).toBeNull();
  });

  /** A copy of shard 2 with its results.json changed (and its manifest dropped: the change is the point). */
  function alteredShard(name: string, change: (r: Results) => void): string {
    const to = join(dir, name);
    cpSync(join(dir, 's2'), to, { recursive: true });
    rmSync(join(to, 'manifest.sha256'));
    const r = readResults(to);
    change(r);
    writeFileSync(join(to, 'results.json'), JSON.stringify(r, null, 2));
    return to;
  }

  test('a shard of another tool version is refused, naming its folder', async () => {
    const other = alteredShard('other-version', (r) => (r.run.toolVersion = '9.9.9'));
    const m = await cli(['merge', join(dir, 's1'), other, '--out', join(dir, 'm-version')], 30_000);
    expect(m.status).toBe(2);
    expect(m.stderr).toContain(other);
    expect(m.stderr).toMatch(/tool version "9\.9\.9"/);
    expect(m.stderr).not.toMatch(/\n\s+at /);
  });

  test('a shard run with another profile is refused, naming its folder; the path the profile was read from does not matter', async () => {
    const other = alteredShard('other-profile', (r) => ((r.run.profile as { dut: { endpoint: string } }).dut.endpoint = 'urn:dev:ops:someone-else'));
    const m = await cli(['merge', join(dir, 's1'), other, '--out', join(dir, 'm-profile')], 30_000);
    expect(m.status).toBe(2);
    expect(m.stderr).toContain(other);
    expect(m.stderr).toMatch(/profile \(fingerprint/);
    const moved = alteredShard('moved-profile', (r) => ((r.run.profile as { source: string }).source = '/elsewhere/on/another/runner.yaml'));
    const ok = await cli(['merge', join(dir, 's1'), moved, '--out', join(dir, 'm-moved')], 30_000);
    expect({ status: ok.status, stderr: ok.stderr }).toEqual({ status: 0, stderr: '' });
  });

  test('a case in two shards is refused, naming both folders', async () => {
    const copy = join(dir, 's1-again');
    cpSync(join(dir, 's1'), copy, { recursive: true });
    const m = await cli(['merge', join(dir, 's1'), join(dir, 's2'), copy, '--out', join(dir, 'm-overlap')], 30_000);
    expect(m.status).toBe(2);
    expect(m.stderr).toMatch(/case TC-[A-Z]+-\d+ is in both /);
    expect(m.stderr).toContain(join(dir, 's1'));
    expect(m.stderr).toContain(copy);
  });

  test('a shard whose results.json was changed after its run is refused', async () => {
    const to = join(dir, 's2-edited');
    cpSync(join(dir, 's2'), to, { recursive: true });
    const r = readResults(to);
    r.cases[0]!.verdict = 'pass';
    r.cases[0]!.reason = 'edited';
    writeFileSync(join(to, 'results.json'), JSON.stringify(r, null, 2));
    const m = await cli(['merge', join(dir, 's1'), to, '--out', join(dir, 'm-edited')], 30_000);
    expect(m.status).toBe(2);
    expect(m.stderr).toContain(`${to}: results.json differs from the shard's manifest.sha256`);
  });

  test('bad --shard, and a shard left empty, are usage errors before anything runs', async () => {
    for (const spec of ['0/2', '3/2', 'x']) {
      const r = await cli(['run', '--cases', CASES, '--shard', spec, '--out', join(dir, 'never')], 20_000);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/--shard/);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    const empty = await cli(['run', '--cases', 'TC-BS-01', '--shard', '2/2', '--out', join(dir, 'never')], 20_000);
    expect(empty.status).toBe(2);
    expect(empty.stderr).toMatch(/--shard 2\/2 holds no case: only 1 case is selected/);
  });
});
