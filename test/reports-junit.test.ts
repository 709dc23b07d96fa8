import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { validateXML } from 'xmllint-wasm';
import type { Area, CaseMeta, DatagramEvent, ResultEvent, Strength } from '../harness/events/events.js';
import { RESULT_SCHEMA_VERSION } from '../harness/events/events.js';
import { foldEvents, INTERRUPTED_REASON, tally } from '../harness/reports/run-record.js';
import { EventLog, EventLogError, parseEventLog, readEventLog } from '../harness/reports/event-log.js';
import { renderJunit, writeJunit, xmlSafe } from '../harness/reports/junit.js';
import { formatCheck, formatDatagram, formatRelativeMs } from '../harness/reports/trace-format.js';
import { T0, coap, dgram as fixtureDgram, meta as fixtureMeta, ns, type CaseSpec } from './support/reports-fixture.js';
import { buildResults } from '../harness/reports/results.js';

const SCHEMA_PATH = path.resolve(process.cwd(), '../shared/schemas/junit.xsd');

function loadSchema(): string {
  if (!existsSync(SCHEMA_PATH)) {
    throw new Error(`JUnit schema not found at ${SCHEMA_PATH}: the repo must be checked out as <dir>/main with <dir>/shared beside it, and jest run from main/`);
  }
  return readFileSync(SCHEMA_PATH, 'utf8');
}

async function validate(xml: string) {
  return validateXML({
    xml: [{ fileName: 'report.xml', contents: xml }],
    schema: [{ fileName: 'junit.xsd', contents: loadSchema() }],
  });
}

// --- a synthetic run -------------------------------------------------------------------

const EVIL = 'a\u0001b ]]> c ]]> <tag> & "q"';

/** A case whose one requirement id is derived from its id, as the assertions below expect. */
function meta(id: string, area: Area, strength: Strength = 'SHALL', ics?: string): CaseMeta {
  return fixtureMeta(id, area, [`GEISA-ADM-${id}`], strength, ics);
}

/** Every datagram of these synthetic runs is a Bootstrap-Server exchange. */
function dgram(caseId: string, atMs: number, direction: 'in' | 'out', decoded: DatagramEvent['decoded']): DatagramEvent {
  return fixtureDgram(caseId, atMs, direction, 'bootstrap-server', decoded);
}

function caseEvents(s: CaseSpec): ResultEvent[] {
  const id = s.meta.id;
  const out: ResultEvent[] = [{ type: 'case-start', caseId: id, meta: s.meta, at: `2025-01-01T00:00:${String(s.startMs / 1000).padStart(2, '0')}Z`, monoNs: ns(s.startMs) }, ...(s.extra?.(id, s.startMs) ?? [])];
  if (s.verdict) {
    out.push({
      type: 'verdict',
      caseId: id,
      verdict: s.verdict,
      reason: s.reason ?? `${s.verdict} because`,
      ...(s.advisory ? { advisory: s.advisory } : {}),
      durationMs: s.durationMs ?? 250,
      monoNs: ns(s.startMs + (s.durationMs ?? 250)),
    });
  }
  return out;
}

const CASES: CaseSpec[] = [
  {
    meta: meta('BS-01', 'bootstrap'),
    startMs: 0,
    verdict: 'pass',
    reason: 'Bootstrap-Request carried ep',
    durationMs: 1234,
    extra: (id, t) => [
      dgram(id, t + 12.345, 'in', coap({ mid: 123, uriPath: '/bs', uriQuery: ['ep=x'] })),
      dgram(id, t + 13, 'out', coap({ type: 'ACK', code: '2.04', codeName: 'Changed', mid: 123 })),
      { type: 'check', caseId: id, requirement: 'GEISA-ADM-BS-01', level: 'SHALL', name: 'ep present', ok: true, expected: 'ep=x', observed: 'ep=x', monoNs: ns(t + 13) },
    ],
  },
  {
    meta: meta('BS-02', 'bootstrap'),
    startMs: 2000,
    verdict: 'fail',
    reason: `Bootstrap-Finish answered wrongly ${EVIL}`,
    extra: (id, t) => [
      dgram(id, t + 5, 'in', coap({ uriPath: '/bs', uriQuery: ['ep=x'], contentFormat: 0, payload: `text ${EVIL}` })),
      { type: 'check', caseId: id, requirement: 'GEISA-ADM-BS-01', level: 'SHALL', name: 'finish code', ok: false, expected: '2.04', observed: `4.00 ${EVIL}`, tolerance: 'none', monoNs: ns(t + 6) },
      { type: 'check', caseId: id, requirement: 'GEISA-ADM-BS-01', level: 'SHALL', name: 'mid echoed', ok: true, expected: '1', observed: '1', monoNs: ns(t + 6) },
      { type: 'note', caseId: id, source: 'device', text: `device log ${EVIL}`, monoNs: ns(t + 7) },
    ],
  },
  { meta: meta('REG-01', 'registration'), startMs: 4000, verdict: 'error', reason: 'adapter reset failed' },
  { meta: meta('REG-02', 'registration'), startMs: 5000, verdict: 'inconclusive', reason: 'device never registered within 30 s' },
  { meta: meta('SEC-01', 'security', 'SHALL', 'ics.dtls-psk'), startMs: 6000, verdict: 'not-applicable', reason: 'ICS says no DTLS' },
  {
    meta: meta('REG-03', 'registration', 'SHOULD'),
    startMs: 7000,
    verdict: 'pass',
    reason: 'registered',
    advisory: 'lifetime not echoed (SHOULD)',
  },
  {
    meta: meta('RET-01', 'retry'),
    startMs: 8000,
    extra: (id, t) => [dgram(id, t + 40, 'in', coap({ uriPath: '/rd', uriQuery: ['ep=x', 'lt=20'] }))],
  },
];

function syntheticEvents(): ResultEvent[] {
  return [
    {
      type: 'run-start',
      schema: RESULT_SCHEMA_VERSION,
      toolVersion: '0.1.0-test',
      gitCommit: 'abc1234',
      startedAt: '2025-01-01T00:00:00Z',
      monoNs: T0.toString(),
      host: 'ci-host',
      profile: { schema: 'geisa-adm-profile/1', dut: { name: 'Reference DUT', endpoint: 'urn:dev:ref-1' } },
      defect: null,
      cases: CASES.map((c) => c.meta.id),
    },
    { type: 'note', caseId: null, source: 'operator', text: 'bench power cycled before run', monoNs: ns(-1) },
    ...CASES.flatMap(caseEvents),
    {
      type: 'run-end',
      interrupted: true,
      at: '2025-01-01T00:00:09Z',
      monoNs: ns(9000),
      counts: { pass: 2, fail: 1, error: 1, inconclusive: 1, 'not-applicable': 1, advisory: 1 },
      exitCode: 130,
    },
  ];
}

// --- helpers reading the rendered XML ----------------------------------------------------
// Regexes are enough here: every text node and attribute is escaped, so "<testcase" and
// "</testsuite>" only ever occur as markup.

function suites(xml: string): { attrs: Record<string, string>; body: string }[] {
  return [...xml.matchAll(/<testsuite\s([^>]*)>([\s\S]*?)<\/testsuite>/g)].map((m) => ({ attrs: attrsOf(m[1]!), body: m[2]! }));
}

function attrsOf(s: string): Record<string, string> {
  return Object.fromEntries([...s.matchAll(/([\w:.-]+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}

function testcase(xml: string, caseId: string): string {
  const m = new RegExp(`<testcase [^>]*name="${caseId} [^"]*"[^>]*?(?:/>|>[\\s\\S]*?</testcase>)`).exec(xml);
  if (!m) throw new Error(`no testcase ${caseId} in report`);
  return m[0];
}

function unescapeXml(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#xA;/g, '\n')
    .replace(/&amp;/g, '&');
}

function systemOut(tc: string): string {
  const m = /<system-out>([\s\S]*?)<\/system-out>/.exec(tc);
  if (!m) throw new Error('testcase has no system-out');
  return unescapeXml(m[1]!);
}

// --- tests -------------------------------------------------------------------------------

describe('foldEvents', () => {
  const run = foldEvents(syntheticEvents());

  test('groups events per case in case-start order, with run notes apart', () => {
    expect(run.cases.map((c) => c.meta.id)).toEqual(CASES.map((c) => c.meta.id));
    const bs02 = run.cases[1]!;
    expect(bs02.datagrams).toHaveLength(1);
    expect(bs02.checks.map((c) => c.ok)).toEqual([false, true]);
    expect(bs02.notes).toHaveLength(1);
    expect(bs02.verdict?.verdict).toBe('fail');
    expect(run.notes.map((n) => n.text)).toEqual(['bench power cycled before run']);
    expect(run.start?.toolVersion).toBe('0.1.0-test');
    expect(run.stray).toEqual([]);
  });

  test('a case without a verdict is kept with verdict null and the run is interrupted', () => {
    const ret = run.cases.find((c) => c.meta.id === 'RET-01')!;
    expect(ret.verdict).toBeNull();
    expect(ret.datagrams).toHaveLength(1);
    expect(run.interrupted).toBe(true);
    const t = tally(run);
    expect(t).toMatchObject({ pass: 2, fail: 1, error: 2, inconclusive: 1, 'not-applicable': 1, advisory: 1, total: 7 });
  });

  test('a run with no run-end is interrupted even when every case finished', () => {
    const events = syntheticEvents().filter((e) => e.type !== 'run-end' && !('caseId' in e && e.caseId === 'RET-01'));
    expect(foldEvents(events).interrupted).toBe(true);
    const ended = [...events, { ...syntheticEvents().at(-1)!, interrupted: false } as ResultEvent];
    expect(foldEvents(ended).interrupted).toBe(false);
  });

  test('events for a case that never started are kept as stray', () => {
    const run2 = foldEvents([{ type: 'check', caseId: 'GHOST', requirement: 'GEISA-ADM-BS-01', level: 'SHALL', name: 'x', ok: true, expected: '', observed: '', monoNs: '1' }]);
    expect(run2.cases).toEqual([]);
    expect(run2.stray).toHaveLength(1);
  });
});

describe('trace formatting', () => {
  test('one line per datagram, time relative to the case start', () => {
    const d = dgram('BS-01', 12.345, 'in', coap({ mid: 123, uriPath: '/bs', uriQuery: ['ep=x'] }));
    expect(formatDatagram(d, ns(0)).trimStart()).toBe('+12.345 ms  in  bootstrap-server 127.0.0.1:40001 <- 127.0.0.1:51234  CON POST mid=123 token=a1b2 /bs?ep=x');
    const r = dgram('BS-01', 13, 'out', coap({ type: 'ACK', code: '2.04', codeName: 'Changed', mid: 123, payload: [{ path: '/1/0/1', value: 20 }], contentFormat: 110 }));
    expect(formatDatagram(r, ns(0)).trimStart()).toBe('+13.000 ms  out bootstrap-server 127.0.0.1:40001 -> 127.0.0.1:51234  ACK 2.04 Changed mid=123 token=a1b2 [senml+json: [{"path":"/1/0/1","value":20}]]');
  });

  test('device-controlled text cannot break the line', () => {
    const d = dgram('X', 1, 'in', coap({ uriPath: '/rd', uriQuery: ['ep=a\nb\u001b[31m'] }));
    const line = formatDatagram(d, ns(0));
    expect(line).not.toMatch(/[\n\u001b]/);
    expect(line).toContain('ep=a\\x0ab\\x1b[31m');
  });

  test('undecodable datagrams and checks', () => {
    const d = dgram('X', 0.0005, 'in', { error: 'truncated header' });
    expect(formatDatagram(d, ns(0))).toContain('+0.000 ms  in  bootstrap-server');
    expect(formatDatagram(d, ns(0))).toContain('coap undecodable (truncated header) 6 B');
    expect(formatRelativeMs('2000000', '1000000')).toBe('-1.000 ms');
    expect(formatCheck({ type: 'check', caseId: 'X', requirement: 'LWM2M-CORE-REG-01', level: 'MUST', name: 'lt', ok: false, expected: '20', observed: '30', tolerance: '±1', monoNs: '0' })).toBe(
      'FAIL  [LWM2M-CORE-REG-01 MUST] lt: expected 20; observed 30; tolerance ±1',
    );
    // A missed SHOULD row is an advisory, an open row inconclusive: neither reads FAIL.
    expect(formatCheck({ name: 'half-life', ok: false, expected: 'a', observed: 'b', requirement: 'GEISA-ADM-REG-04', level: 'SHOULD' })).toMatch(/^miss  \[GEISA-ADM-REG-04 SHOULD\]/);
    expect(formatCheck({ name: 'ep', ok: false, expected: 'a', observed: 'b', requirement: 'GEISA-ADM-BS-04', level: 'OPEN' })).toMatch(/^open  /);
  });
});

describe('JUnit report', () => {
  const run = foldEvents(syntheticEvents());
  const xml = renderJunit(buildResults(run));

  test('is valid against the Jenkins xUnit schema', async () => {
    const result = await validate(xml);
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
  });

  test('the validator rejects what the schema forbids, so the validity test can fail', async () => {
    const withProps = xml.replace(/(<testcase [^>]*>)/, '$1<properties><property name="a" value="b"/></properties>');
    expect(withProps).not.toBe(xml);
    const r1 = await validate(withProps);
    expect(r1.valid).toBe(false);
    expect(r1.errors.map((e) => e.message).join('\n')).toMatch(/properties/);

    const withRootSkipped = xml.replace('<testsuites ', '<testsuites skipped="1" ');
    const r2 = await validate(withRootSkipped);
    expect(r2.valid).toBe(false);
    expect(r2.errors.map((e) => e.message).join('\n')).toMatch(/skipped/);
  });

  test('no skipped attribute on <testsuites>, while testsuites keep theirs', () => {
    const root = /<testsuites\b[^>]*>/.exec(xml)![0];
    expect(root).not.toMatch(/skipped=/);
    expect(root).toMatch(/tests="7"/);
    expect(suites(xml).every((s) => 'skipped' in s.attrs)).toBe(true);
  });

  test('one testsuite per area with counts matching its testcases', () => {
    const got = suites(xml).map((s) => ({
      name: s.attrs['name'],
      tests: s.attrs['tests'],
      failures: s.attrs['failures'],
      errors: s.attrs['errors'],
      skipped: s.attrs['skipped'],
      // Counted from the elements as well, so the attributes cannot drift from the content.
      counted: {
        tests: (s.body.match(/<testcase /g) ?? []).length,
        failures: (s.body.match(/<failure[ >/]/g) ?? []).length,
        errors: (s.body.match(/<error[ >/]/g) ?? []).length,
        skipped: (s.body.match(/<skipped[ >/]/g) ?? []).length,
      },
    }));
    expect(got).toEqual([
      { name: 'bootstrap', tests: '2', failures: '1', errors: '0', skipped: '0', counted: { tests: 2, failures: 1, errors: 0, skipped: 0 } },
      { name: 'registration', tests: '3', failures: '0', errors: '1', skipped: '1', counted: { tests: 3, failures: 0, errors: 1, skipped: 1 } },
      { name: 'security', tests: '1', failures: '0', errors: '0', skipped: '1', counted: { tests: 1, failures: 0, errors: 0, skipped: 1 } },
      { name: 'retry', tests: '1', failures: '0', errors: '1', skipped: '0', counted: { tests: 1, failures: 0, errors: 1, skipped: 0 } },
    ]);
  });

  test('run metadata as testsuite properties', () => {
    const props = Object.fromEntries([...suites(xml)[0]!.body.matchAll(/<property name="([^"]*)" value="([^"]*)"\/>/g)].map((m) => [m[1], m[2]]));
    expect(props).toMatchObject({
      'tool.version': '0.1.0-test',
      'git.commit': 'abc1234',
      defect: 'none',
      'dut.name': 'Reference DUT',
      'dut.endpoint': 'urn:dev:ref-1',
      'run.startedAt': '2025-01-01T00:00:00Z',
      'results.schema': String(RESULT_SCHEMA_VERSION),
      'run.interrupted': 'true',
    });
  });

  test('testcase name, classname and time from the verdict', () => {
    const tc = testcase(xml, 'BS-01');
    const a = attrsOf(/<testcase ([^>]*)>/.exec(tc)![1]!);
    expect(a).toMatchObject({ name: 'BS-01 title of BS-01', classname: 'geisa-adm.bootstrap', time: '1.234' });
    expect(tc).not.toMatch(/<(failure|error|skipped)/);
  });

  test('verdict mapping: fail, error, not-applicable, inconclusive', () => {
    const fail = testcase(xml, 'BS-02');
    const failure = /<failure message="([^"]*)">([\s\S]*?)<\/failure>/.exec(fail)!;
    expect(unescapeXml(failure[1]!)).toBe('Bootstrap-Finish answered wrongly a\\x01b ]]> c ]]> <tag> & "q"');
    // Only the failed check is in the failure body; the passed one is in system-out.
    expect(unescapeXml(failure[2]!)).toContain('FAIL  [GEISA-ADM-BS-01 SHALL] finish code: expected 2.04; observed 4.00');
    expect(unescapeXml(failure[2]!)).not.toContain('mid echoed');
    expect(systemOut(fail)).toContain('ok    [GEISA-ADM-BS-01 SHALL] mid echoed: expected 1; observed 1');

    expect(testcase(xml, 'REG-01')).toMatch(/<error message="adapter reset failed">/);
    expect(testcase(xml, 'SEC-01')).toMatch(/<skipped message="ICS says no DTLS"\/>/);
    expect(testcase(xml, 'REG-02')).toMatch(/<skipped message="INCONCLUSIVE: device never registered within 30 s"\/>/);
  });

  test('pass with advisory: a pass whose system-out starts with ADVISORY', () => {
    const tc = testcase(xml, 'REG-03');
    expect(tc).not.toMatch(/<(failure|error|skipped)/);
    expect(systemOut(tc).startsWith('ADVISORY: lifetime not echoed (SHOULD)\n')).toBe(true);
    expect(systemOut(testcase(xml, 'BS-01')).startsWith('ADVISORY')).toBe(false);
  });

  test('a case to look into carries requirements, strength, ICS, verdict, reason, checks and the decoded trace', () => {
    const out = systemOut(testcase(xml, 'BS-02'));
    expect(out).toContain('GEISA-ADM-BS-02 (GEISA adm/bootstrap.rst): quote for GEISA-ADM-BS-02');
    expect(out).toContain('Strength: SHALL');
    expect(out).toContain('ICS: (mandatory feature)');
    expect(out).toContain('Verdict: fail');
    expect(out).toContain('Reason: Bootstrap-Finish answered wrongly');
    expect(out).toContain('FAIL  [GEISA-ADM-BS-01 SHALL] finish code: expected 2.04');
    const traced = dgram('BS-02', 2005, 'in', coap({ uriPath: '/bs', uriQuery: ['ep=x'], contentFormat: 0, payload: `text ${EVIL}` }));
    expect(out).toContain(formatDatagram(traced, ns(2000)));
    expect(systemOut(testcase(xml, 'SEC-01'))).toContain('ICS: ics.dtls-psk');
    // Error, inconclusive, not applicable and a pass with an advisory keep the full record too.
    for (const id of ['REG-01', 'REG-02', 'SEC-01', 'REG-03', 'RET-01']) expect(systemOut(testcase(xml, id))).toContain('\nTrace:\n');
  });

  test('a clean pass gets one line pointing at results.json, without its trace', () => {
    const out = systemOut(testcase(xml, 'BS-01'));
    expect(out).toBe('pass: Bootstrap-Request carried ep (1 check(s), 2 datagram(s); rows GEISA-ADM-BS-01). ' + 'Requirements, checks and decoded trace: results.json beside this file, case BS-01.');
  });

  test('an interrupted case is an error saying so, timed until its last event', () => {
    const tc = testcase(xml, 'RET-01');
    expect(tc).toContain(`<error message="${INTERRUPTED_REASON}">`);
    // Last sign of life is run-end at 9000 ms, the case started at 8000 ms.
    expect(attrsOf(/<testcase ([^>]*)>/.exec(tc)![1]!)['time']).toBe('1.000');
    expect(systemOut(tc)).toContain('/rd?ep=x&lt=20');
  });

  test('device-chosen control characters and "]]>" leave the XML valid and readable', async () => {
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
    // "]]>" is only illegal in character data, which is where a payload lands.
    for (const m of xml.matchAll(/<system-out>([\s\S]*?)<\/system-out>/g)) expect(m[1]).not.toContain(']]>');
    expect(xml).toContain('c ]]&gt; &lt;tag&gt;');
    const out = systemOut(testcase(xml, 'BS-02'));
    // In the trace the control character is shown escaped, not lost.
    expect(out).toContain('[text/plain: "text a\\u0001b ]]> c ]]> <tag> & \\"q\\""]');
    expect(out).toContain('device: device log a\\x01b ]]> c ]]>');

    // Same content with CDATA-hostile text in every field that reaches XML.
    const evilRun = foldEvents(
      syntheticEvents().map((e) => (e.type === 'case-start' ? { ...e, meta: { ...e.meta, title: `t ${EVIL}\ud800`, ics: EVIL } } : e.type === 'verdict' ? { ...e, reason: EVIL, ...(e.advisory ? { advisory: EVIL } : {}) } : e)),
    );
    const evilXml = renderJunit(buildResults(evilRun));
    const result = await validate(evilXml);
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
  });

  test('xmlSafe removes exactly the characters XML 1.0 forbids', () => {
    expect(xmlSafe('a\u0000b\u0001c\u001fd\ufffee\uffff')).toBe('abcde');
    expect(xmlSafe('lone \ud800 and \udc00 surrogates')).toBe('lone  and  surrogates');
    expect(xmlSafe('tab\tnl\ncr\r pair \u{1F600} del\u007f')).toBe('tab\tnl\ncr\r pair \u{1F600} del\u007f');
  });

  test('renders a valid document for a run that stopped before any case', async () => {
    const only = foldEvents(syntheticEvents().slice(0, 2));
    const x = renderJunit(buildResults(only));
    expect((await validate(x)).valid).toBe(true);
    expect(x).toContain('<property name="run.interrupted" value="true"/>');
    expect(x).toContain('bench power cycled before run');
  });

  test('a passing run stays small whatever its traces hold; a failing case keeps its trace', async () => {
    // 51 cases as in a real-device run, each with a long exchange (block-wise reads, retries).
    const datagrams = 300;
    const long = (id: string, t: number, failing: boolean): ResultEvent[] => [
      ...Array.from({ length: datagrams }, (_, i) => dgram(id, t + i, i % 2 ? 'out' : 'in', coap({ mid: i, uriPath: '/rd', uriQuery: ['ep=x'], contentFormat: 42, payload: 'ab'.repeat(200) }))),
      { type: 'check', caseId: id, requirement: `GEISA-ADM-${id}`, level: 'SHALL', name: 'registered', ok: !failing, expected: '2.01', observed: failing ? '4.00' : '2.01', monoNs: ns(t + datagrams) },
    ];
    const specs = (failing: string | null): CaseSpec[] =>
      Array.from({ length: 51 }, (_, i) => {
        const id = `REG-${String(i + 1).padStart(2, '0')}`;
        const fails = id === failing;
        return { meta: meta(id, 'registration'), startMs: i * 1000, verdict: fails ? 'fail' : 'pass', reason: fails ? 'rejected' : 'registered', extra: (cid, t) => long(cid, t, fails) };
      });
    const render = (failing: string | null) => {
      const cases = specs(failing);
      const [start] = syntheticEvents();
      return renderJunit(buildResults(foldEvents([{ ...(start as Extract<ResultEvent, { type: 'run-start' }>), cases: cases.map((c) => c.meta.id) }, ...cases.flatMap(caseEvents)])));
    };

    const passing = render(null);
    expect(Buffer.byteLength(passing)).toBeLessThan(500_000);
    expect(passing).not.toContain('/rd?ep=x');
    expect(systemOut(testcase(passing, 'REG-07'))).toContain(`${datagrams} datagram(s)`);

    const oneFails = render('REG-07');
    expect((await validate(oneFails)).valid).toBe(true);
    const failed = systemOut(testcase(oneFails, 'REG-07'));
    expect(failed.split('\n').filter((l) => l.includes('/rd?ep=x'))).toHaveLength(datagrams);
    expect(systemOut(testcase(oneFails, 'REG-08'))).not.toContain('/rd?ep=x');
  });

  test('writeJunit replaces the file atomically and leaves no temp file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'junit-'));
    try {
      const file = path.join(dir, 'junit.xml');
      writeFileSync(file, 'old');
      writeJunit(buildResults(run), file);
      expect(readFileSync(file, 'utf8')).toBe(xml);
      expect(readdirSync(dir)).toEqual(['junit.xml']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('event log', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'eventlog-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('round-trips every event, one JSON line each, appended as they happen', () => {
    const events = syntheticEvents();
    const log = new EventLog(path.join(dir, 'out'));
    log.append(events[0]!);
    // On disk before the next event is even produced.
    expect(readEventLog(log.file)).toEqual([events[0]]);
    events.slice(1).forEach(log.append);
    const text = readFileSync(log.file, 'utf8');
    expect(text.split('\n')).toHaveLength(events.length + 1);
    expect(readEventLog(log.file)).toEqual(events);
    expect(foldEvents(readEventLog(log.file)).cases).toHaveLength(CASES.length);
  });

  test('a new log starts empty', () => {
    const a = new EventLog(dir);
    a.append(syntheticEvents()[0]!);
    const b = new EventLog(dir);
    expect(readEventLog(b.file)).toEqual([]);
  });

  test('a malformed line is reported by its number', () => {
    const events = syntheticEvents()
      .slice(0, 3)
      .map((e) => JSON.stringify(e));
    const file = path.join(dir, 'events.jsonl');
    writeFileSync(file, [events[0], events[1], '{"type":"note",', events[2], ''].join('\n'));
    expect(() => readEventLog(file)).toThrow(EventLogError);
    expect(() => readEventLog(file)).toThrow(`${file} line 3: not valid JSON`);
    try {
      readEventLog(file);
    } catch (e) {
      expect((e as EventLogError).line).toBe(3);
    }
  });

  test('lines that are JSON but not events are rejected too', () => {
    expect(() => parseEventLog('[1,2]\n')).toThrow('events.jsonl line 1: expected a JSON object');
    expect(() => parseEventLog('{"type":"run-start"}\n{"type":"bogus"}\n')).toThrow('events.jsonl line 2: unknown event type "bogus"');
  });

  test('a torn last line fails unless tolerated', () => {
    const good = JSON.stringify(syntheticEvents()[0]);
    const text = `${good}\n{"type":"no`;
    expect(() => parseEventLog(text)).toThrow('line 2');
    expect(parseEventLog(text, 'x', { tolerateTruncatedTail: true })).toHaveLength(1);
  });
});
