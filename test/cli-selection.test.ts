/**
 * CI use of the command line: case selection with exclusions, slow cases left out unless
 * asked for, and the expected-failures file (parsing, exit code, console and JUnit).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineCase, type ConformanceCase } from '../harness/runner/case.js';
import { parsePatterns, selectCases, selectRun, UsageError } from '../harness/cli/select.js';
import { parseExpectedFailures } from '../harness/cli/expected-failures.js';
import { renderSummary } from '../harness/reports/console-summary.js';
import { foldEvents } from '../harness/reports/run-record.js';
import type { CaseMeta, ResultEvent } from '../harness/events/events.js';
import { ALL_CASES } from '../suites/index.js';
import { buildResults } from '../harness/reports/results.js';
import { cliSync as cli } from './support/cli-child.js';

function fake(id: string, tags: string[]): ConformanceCase {
  return defineCase({ id, title: id, area: 'bootstrap', requirements: [{ id: 'GEISA-ADM-BS-01', section: 's', quote: 'q' }], budget: () => 1000, floor: () => 0, tags }, async () => {});
}

const SUITE = [fake('TC-BS-01', ['bootstrap']), fake('TC-BS-02', ['bootstrap', 'dtls']), fake('TC-BS-13', ['bootstrap', 'timing', 'slow']), fake('TC-SEC-01', ['dtls']), fake('TC-SEC-02', ['dtls', 'timing'])];
const ids = (cs: readonly ConformanceCase[]) => cs.map((c) => c.meta.id);

describe('case selection', () => {
  test('patterns split on commas; ! marks an exclusion', () => {
    expect(parsePatterns('TC-*, !TC-SEC-*,TC-BS-01')).toEqual({ include: ['TC-*', 'TC-BS-01'], exclude: ['TC-SEC-*'] });
    expect(() => parsePatterns('!')).toThrow(UsageError);
  });

  test('--cases with an exclusion, and with exclusions only', () => {
    expect(ids(selectCases(SUITE, 'TC-*,!TC-SEC-*'))).toEqual(['TC-BS-01', 'TC-BS-02', 'TC-BS-13']);
    expect(ids(selectCases(SUITE, '!TC-BS-*'))).toEqual(['TC-SEC-01', 'TC-SEC-02']);
    expect(ids(selectCases(SUITE, 'tc-bs-0?'))).toEqual(['TC-BS-01', 'TC-BS-02']);
  });

  test('--tags: every listed tag, none of the !tags', () => {
    expect(ids(selectCases(SUITE, undefined, 'dtls,!timing'))).toEqual(['TC-BS-02', 'TC-SEC-01']);
    expect(ids(selectCases(SUITE, 'TC-SEC-*', ['!timing']))).toEqual(['TC-SEC-01']);
  });

  test('a pattern or tag that matches nothing, or a selection left empty, is a usage error naming what exists', () => {
    expect(() => selectCases(SUITE, 'TC-NOPE-*')).toThrow(/--cases 'TC-NOPE-\*' matches nothing; known: TC-BS-01/);
    expect(() => selectCases(SUITE, 'TC-*,!TC-TYPO-*')).toThrow(/'TC-TYPO-\*' matches nothing/);
    expect(() => selectCases(SUITE, undefined, '!timng')).toThrow(/not a tag of any case; known tags: bootstrap, dtls, slow, timing/);
    expect(() => selectCases(SUITE, 'TC-SEC-02', '!timing')).toThrow(/matches no selected case/);
    expect(() => selectCases(SUITE, 'TC-*,!TC-*')).toThrow(/leaves nothing selected/);
  });

  test('slow cases: left out by default and reported, run with --slow, with --tags slow, or when named by exact id', () => {
    const byDefault = selectRun(SUITE, {});
    expect(ids(byDefault.cases)).toEqual(['TC-BS-01', 'TC-BS-02', 'TC-SEC-01', 'TC-SEC-02']);
    expect(ids(byDefault.slowNotRun)).toEqual(['TC-BS-13']);
    expect(ids(selectRun(SUITE, { cases: 'TC-BS-*' }).slowNotRun)).toEqual(['TC-BS-13']);
    expect(ids(selectRun(SUITE, { slow: true }).cases)).toContain('TC-BS-13');
    expect(ids(selectRun(SUITE, { tags: 'slow' }).cases)).toEqual(['TC-BS-13']);
    expect(ids(selectRun(SUITE, { tags: ['timing', 'slow'] }).cases)).toEqual(['TC-BS-13']);
    expect(ids(selectRun(SUITE, { cases: 'tc-bs-13,TC-SEC-01' }).cases)).toEqual(['TC-BS-13', 'TC-SEC-01']);
    expect(selectRun(SUITE, { cases: 'TC-BS-13' }).slowNotRun).toEqual([]);
    expect(() => selectRun(SUITE, { cases: 'TC-BS-1?' })).toThrow(/every selected case is slow \(TC-BS-13\): add --slow/);
  });

  test('the console summary lists the slow cases a run left out', () => {
    const events: ResultEvent[] = [
      { type: 'run-start', schema: 1, toolVersion: 't', gitCommit: null, startedAt: '2026-01-01T00:00:00Z', monoNs: '1', host: 'h', profile: {}, defect: null, cases: [], slowNotRun: ['TC-BS-13'] },
      { type: 'run-end', interrupted: false, at: '2026-01-01T00:00:01Z', monoNs: '2', counts: { pass: 0, fail: 0, error: 0, inconclusive: 0, 'not-applicable': 0, advisory: 0 }, exitCode: 0 },
    ];
    expect(renderSummary(buildResults(foldEvents(events)), { color: false })).toContain('slow, not run: TC-BS-13: use --slow');
  });
});

describe('expected-failures file', () => {
  const known = ['TC-BS-01', 'TC-REG-02'];

  test('one case id and a reason per line; blank lines and # comments are skipped', () => {
    const m = parseExpectedFailures('# known issues\n\nTC-REG-02   no Update in firmware 1.4 (JIRA-7)\n  TC-BS-01\tNON request  \n', 'xf.txt', known);
    expect([...m]).toEqual([
      ['TC-REG-02', 'no Update in firmware 1.4 (JIRA-7)'],
      ['TC-BS-01', 'NON request'],
    ]);
  });

  test('a malformed line, a missing reason, an unknown id and a duplicate are errors naming file:line', () => {
    expect(() => parseExpectedFailures('# x\nREG-02 nope\n', 'xf.txt', known)).toThrow(/^xf\.txt:2: expected 'TC-AREA-NN {2}reason', got 'REG-02 nope'$/);
    expect(() => parseExpectedFailures('TC-BS-01\n', 'xf.txt', known)).toThrow(/^xf\.txt:1: 'TC-BS-01' has no reason/);
    expect(() => parseExpectedFailures('\nTC-BS-99 typo\n', 'xf.txt', known)).toThrow(/^xf\.txt:2: no case 'TC-BS-99' in the suite$/);
    expect(() => parseExpectedFailures('TC-BS-01 a\nTC-BS-01 b\n', 'xf.txt', known)).toThrow(/^xf\.txt:2: 'TC-BS-01' is already listed at line 1$/);
  });
});

describe('geisa-adm list and run for CI', () => {
  test('list filters with exclusions and shows id, strength, ICS key, requirement ids and tags; --json keeps working', () => {
    const r = cli(['list', '--cases', 'TC-*,!TC-SEC-*', '--tags', '!dtls']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^CASE\s+STRENGTH\s+ICS\s+REQUIREMENTS\s+TAGS/);
    expect(r.stdout).toMatch(/TC-BS-01\s+SHALL\s+bootstrap\.client-initiated\s+GEISA-ADM-BS-01,\S+\s+bootstrap/);
    expect(r.stdout).not.toContain('TC-SEC-');
    expect(r.stdout).not.toMatch(/\bdtls\b/);
    const json = cli(['list', '--json', '--cases', 'TC-BS-01']);
    expect(json.status).toBe(0);
    expect(JSON.parse(json.stdout).map((c: CaseMeta) => c.id)).toEqual(['TC-BS-01']);
    const slow = ALL_CASES.filter((c) => c.meta.tags.includes('slow')).map((c) => c.meta.id);
    const all = cli(['list']).stdout;
    for (const id of slow) expect(all).toContain(id);
    expect(cli(['list', '--cases', 'TC-NOPE-*']).status).toBe(2);
  });

  test('run --expected-failures: a bad file is exit 2 naming file:line, before anything runs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'geisa-xf-'));
    writeFileSync(join(dir, 'xf.txt'), '# ok\nTC-BS-01 fine\nnot a line\n');
    const r = cli(['run', '--expected-failures', join(dir, 'xf.txt'), '--out', join(dir, 'out')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${join(dir, 'xf.txt')}:3: expected 'TC-AREA-NN  reason'`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test('run --expected-failures: a listed failure exits 0 and is reported as expected; a listed pass is stale, exit 1 with --strict', () => {
    const dir = mkdtempSync(join(tmpdir(), 'geisa-xf-'));
    const xf = join(dir, 'xf.txt');
    writeFileSync(xf, 'TC-BS-01  NON Bootstrap-Request, fixed in 1.5\n');
    const known = cli(['run', '--cases', 'TC-BS-01', '--defect', 'bootstrap-request-non-confirmable', '--expected-failures', xf, '--out', join(dir, 'known')]);
    expect(known.stdout).toMatch(/TC-BS-01\s+fail\s+SHALL\s+\S+ m?s\s+expected failure: NON Bootstrap-Request, fixed in 1\.5/);
    expect(known.stdout).toContain('expected failure (listed, not failing the run): TC-BS-01');
    expect(known.status).toBe(0);
    const junit = readFileSync(join(dir, 'known', 'junit.xml'), 'utf8');
    expect(junit).toContain('<property name="expected-failure.TC-BS-01" value="NON Bootstrap-Request, fixed in 1.5"/>');
    expect(junit).toMatch(/<failure message="Bootstrap-Request/);

    const fixed = cli(['run', '--cases', 'TC-BS-01', '--expected-failures', xf, '--strict', '--out', join(dir, 'fixed')]);
    expect(fixed.stdout).toContain('stale expected failure (listed but passes now; exit 1 with --strict): TC-BS-01');
    expect(fixed.status).toBe(1);
    expect(readFileSync(join(dir, 'fixed', 'junit.xml'), 'utf8')).toContain('name="stale-expected-failure.TC-BS-01"');
  }, 120_000);

  test('--help documents the exclusion syntax, --slow and --expected-failures', () => {
    const r = cli(['run', '--help']);
    const help = r.stdout.replace(/\s+/g, ' ');
    expect(help).toContain("!GLOB excludes (e.g. 'TC-*,!TC-SEC-*')");
    expect(help).toContain('!TAG excludes');
    expect(help).toContain('--slow');
    expect(help).toContain('--expected-failures');
  });
});
