import type { CaseMeta, ResultEvent, Strength, Verdict } from '../harness/events/events.js';
import { foldEvents } from '../harness/reports/run-record.js';
import { colorWanted, renderSummary } from '../harness/reports/console-summary.js';
import { buildResults } from '../harness/reports/results.js';

// Any SGR escape sequence chalk could emit.
const ANSI = /\u001b\[[0-9;]*m/;
const stripAnsi = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');

const LONG_REASON = 'the device sent Register with lifetime 30 s while the Bootstrap-Server wrote 20 s; '.repeat(4);

function meta(id: string, strength: Strength = 'SHALL'): CaseMeta {
  return { id, title: id, area: 'registration', requirements: [], strength, timeoutMs: 1000, tags: [] };
}

interface Spec {
  id: string;
  verdict?: Verdict;
  reason?: string;
  advisory?: string;
  durationMs?: number;
  strength?: Strength;
}

const SPECS: Spec[] = [
  { id: 'BS-01', verdict: 'pass', reason: 'ok', durationMs: 1500 },
  { id: 'BS-02', verdict: 'fail', reason: LONG_REASON, durationMs: 42 },
  { id: 'REG-01', verdict: 'error', reason: 'adapter exec failed' },
  { id: 'REG-02', verdict: 'inconclusive', reason: 'no register seen' },
  { id: 'SEC-01', verdict: 'not-applicable', reason: 'ICS: no DTLS' },
  { id: 'REG-03', verdict: 'pass', reason: 'registered', advisory: 'lifetime not echoed', strength: 'SHOULD' },
  { id: 'RET-01' },
];

function events(): ResultEvent[] {
  const out: ResultEvent[] = [];
  SPECS.forEach((s, i) => {
    const start = BigInt(i) * 10_000_000_000n;
    out.push({ type: 'case-start', caseId: s.id, meta: meta(s.id, s.strength), at: '2025-01-01T00:00:00Z', monoNs: start.toString() });
    if (s.verdict) {
      out.push({
        type: 'verdict',
        caseId: s.id,
        verdict: s.verdict,
        reason: s.reason ?? '',
        ...(s.advisory ? { advisory: s.advisory } : {}),
        durationMs: s.durationMs ?? 300,
        monoNs: (start + 300_000_000n).toString(),
      });
    }
  });
  return out;
}

const run = foldEvents(events());
const paths = { 'event log': '/tmp/out/events.jsonl', junit: '/tmp/out/junit.xml' };

function rowOf(text: string, id: string): string {
  const row = text.split('\n').find((l) => l.startsWith(id + ' '));
  if (!row) throw new Error(`no row for ${id}`);
  return row;
}

describe('console summary', () => {
  const plain = renderSummary(buildResults(run), { color: false, reportPaths: paths });
  const colored = renderSummary(buildResults(run), { color: true, reportPaths: paths });

  test('without colour there are no escape sequences', () => {
    expect(plain).not.toMatch(ANSI);
    expect(plain).not.toContain('\u001b');
  });

  test('with colour each verdict gets its colour, and the text is otherwise the same', () => {
    expect(colored).toMatch(ANSI);
    expect(stripAnsi(colored)).toBe(plain);
    // chalk level 1 codes: green 32, red 31, magenta 35, yellow 33, gray 90.
    expect(rowOf(colored, 'BS-01')).toContain('\u001b[32mpass');
    expect(rowOf(colored, 'BS-02')).toContain('\u001b[31mfail');
    expect(rowOf(colored, 'REG-01')).toContain('\u001b[35merror');
    expect(rowOf(colored, 'REG-02')).toContain('\u001b[33minconclusive');
    expect(rowOf(colored, 'SEC-01')).toContain('\u001b[90mnot-applicable');
    expect(rowOf(colored, 'REG-03')).toContain('\u001b[32mpass\u001b[39m\u001b[33m +advisory');
  });

  test('one row per case with verdict, strength, duration and reason', () => {
    const lines = plain.split('\n');
    expect(lines[0]).toMatch(/^CASE\s+VERDICT\s+STRENGTH\s+TIME\s+REASON$/);
    expect(rowOf(plain, 'BS-01')).toMatch(/^BS-01\s+pass\s+SHALL\s+1\.5 s\s+ok$/);
    expect(rowOf(plain, 'BS-02')).toMatch(/^BS-02\s+fail\s+SHALL\s+42 ms\s+the device sent Register/);
    expect(rowOf(plain, 'SEC-01')).toMatch(/^SEC-01\s+not-applicable\s+SHALL\s+300 ms\s+ICS: no DTLS$/);
  });

  test('advisory is marked and shown in place of the reason', () => {
    expect(rowOf(plain, 'REG-03')).toMatch(/^REG-03\s+pass \+advisory\s+SHOULD\s+300 ms\s+ADVISORY: lifetime not echoed$/);
  });

  test('an unfinished case is an error saying the run was interrupted', () => {
    expect(rowOf(plain, 'RET-01')).toMatch(/^RET-01\s+error\s+SHALL\s+\S+ ms\s+case did not finish: run interrupted$/);
  });

  test('long reasons are cut to fit 120 columns, and every column lines up', () => {
    for (const line of plain.split('\n')) expect(line.length).toBeLessThanOrEqual(120);
    const cut = rowOf(plain, 'BS-02');
    expect(cut.length).toBe(120);
    expect(cut.endsWith('…')).toBe(true);
    const reasonCol = plain.split('\n')[0]!.indexOf('REASON');
    expect(rowOf(plain, 'BS-01').indexOf('ok')).toBe(reasonCol);
    expect(rowOf(plain, 'REG-03').indexOf('ADVISORY')).toBe(reasonCol);
  });

  test('totals, interruption and report paths follow the table', () => {
    expect(plain).toContain('7 cases: 2 pass, 1 fail, 2 error, 1 inconclusive, 1 not-applicable; 1 with advisory  RUN INTERRUPTED');
    expect(plain).toMatch(/\nevent log: \/tmp\/out\/events\.jsonl\njunit:     \/tmp\/out\/junit\.xml\n$/);
  });

  test('device-controlled text cannot inject terminal escapes', () => {
    const evil = foldEvents([
      { type: 'case-start', caseId: 'X-1', meta: meta('X-1'), at: '', monoNs: '0' },
      { type: 'verdict', caseId: 'X-1', verdict: 'fail', reason: 'saw \u001b[2J\u001b[31mfake\nline', durationMs: 1, monoNs: '1' },
    ]);
    const out = renderSummary(buildResults(evil), { color: false });
    expect(out).not.toContain('\u001b');
    expect(rowOf(out, 'X-1')).toContain('saw \\x1b[2J\\x1b[31mfake\\x0aline');
  });
});

describe('colorWanted', () => {
  const tty = { isTTY: true } as NodeJS.WriteStream;
  const pipe = { isTTY: false } as unknown as NodeJS.WriteStream;

  test('colour on a terminal without NO_COLOR', () => {
    expect(colorWanted(tty, {})).toBe(true);
  });

  test('NO_COLOR turns colour off whatever its value, even empty', () => {
    expect(colorWanted(tty, { NO_COLOR: '1' })).toBe(false);
    expect(colorWanted(tty, { NO_COLOR: '' })).toBe(false);
  });

  test('no colour when the stream is not a terminal', () => {
    expect(colorWanted(pipe, {})).toBe(false);
    expect(colorWanted({} as NodeJS.WriteStream, {})).toBe(false);
  });

  test('wired together: NO_COLOR gives an escape-free summary', () => {
    const out = renderSummary(buildResults(run), { color: colorWanted(tty, { NO_COLOR: 'x' }) });
    expect(out).not.toMatch(ANSI);
    expect(renderSummary(buildResults(run), { color: colorWanted(tty, {}) })).toMatch(ANSI);
  });
});
