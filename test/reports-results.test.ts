/**
 * results.json: built from the result events, valid against its JSON Schema, carrying the
 * run metadata, the device identity, every case with its trace, and a compliance matrix in
 * which a catalog requirement no case judged is ABSENT. And the HTML rendered from it:
 * self-contained, every device-provided string escaped, ABSENT never shown as passing.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Ajv from 'ajv';
import { foldEvents } from '../harness/reports/run-record.js';
import { buildResults, readResults, renderResultsJson, ResultsError, RESULTS_FORMAT, RESULTS_SCHEMA_VERSION, validateResults, writeResults } from '../harness/reports/results.js';
import { RESULTS_SCHEMA } from '../harness/reports/results-schema.js';
import { builtInCatalog, catalogOf } from '../harness/reports/catalog.js';
import { renderHtml, writeHtml } from '../harness/reports/html.js';
import { renderJunit } from '../harness/reports/junit.js';
import { renderSummary } from '../harness/reports/console-summary.js';
import { CASES, CATALOG_ROWS, EVIL, syntheticEvents } from './support/reports-fixture.js';

const catalog = catalogOf(CATALOG_ROWS, 'test catalog', 'db1ce01');
const gaps = { 'EST-COAPS-01': { reason: 'later-issue', note: 'EST enrollment issue' }, 'LWM2M-CORE-BS-04': { reason: 'later-issue', note: 'Client Hold Off Time' } };
const knownCases = [...CASES.map((c) => c.meta), { id: 'TC-BS-09', requirements: [{ id: 'GEISA-ADM-BS-03' }] }];
const results = buildResults(foldEvents(syntheticEvents()), { catalog, gaps, knownCases });

describe('requirement catalog', () => {
  test('the built-in catalog carries every row with section, text, strength, confidence and the GEISA commit', () => {
    const built = builtInCatalog();
    expect(built.rows.length).toBeGreaterThan(70);
    expect(built.source).toMatch(/^harness\/catalog\/requirements\.ts/);
    expect(built.geisaCommit).toBe('db1ce01');
    expect(built.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(built.rows.find((r) => r.id === 'LWM2M-CORE-BS-09')).toMatchObject({ section: 'B. LwM2M Core — Bootstrap interface (client behaviour)', strength: 'MUST', conf: 'C' });
  });

  test('a catalog of given rows keeps them in order, with section, text, strength and confidence', () => {
    expect(catalog.rows.map((r) => r.id)).toEqual([
      'GEISA-ADM-BS-01',
      'GEISA-ADM-BS-02',
      'GEISA-ADM-BS-03',
      'GEISA-ADM-REG-01',
      'GEISA-ADM-REG-02',
      'GEISA-ADM-REG-04',
      'LWM2M-CORE-BS-01',
      'LWM2M-CORE-BS-04',
      'LWM2M-CORE-RETRY-01',
      'LWM2M-TRANS-DTLS-02',
      'EST-COAPS-01',
    ]);
    expect(catalog.rows[0]).toEqual({ id: 'GEISA-ADM-BS-01', section: 'A. GEISA ADM (device role)', text: 'Support Client-Initiated Bootstrap', strength: 'SHALL', conf: 'C' });
    expect(catalog.rows.find((r) => r.id === 'LWM2M-CORE-BS-01')!.conf).toBe('C*');
    expect(catalog.geisaCommit).toBe('db1ce01');
  });
});

describe('results.json', () => {
  test('is valid against its JSON Schema, and the schema file is the schema the code uses', () => {
    const file = JSON.parse(readFileSync(new URL('../harness/reports/results.schema.json', import.meta.url), 'utf8'));
    expect(file).toEqual(JSON.parse(JSON.stringify(RESULTS_SCHEMA)));
    const validate = new Ajv.default({ allErrors: true, strict: false }).compile(file);
    const doc = JSON.parse(renderResultsJson(results));
    expect(validate.errors ?? []).toEqual([]);
    expect(validate(doc)).toBe(true);
    expect(doc.format).toBe(RESULTS_FORMAT);
    expect(doc.schemaVersion).toBe(RESULTS_SCHEMA_VERSION);
  });

  test('the schema rejects what it must, so the validity test can fail', () => {
    const doc = JSON.parse(renderResultsJson(results));
    const bad1 = structuredClone(doc);
    bad1.cases[0].verdict = 'passed';
    expect(() => validateResults(bad1)).toThrow(/verdict|allowed values/);
    const bad2 = structuredClone(doc);
    delete bad2.run.interrupted;
    expect(() => validateResults(bad2)).toThrow(/interrupted/);
    const bad3 = structuredClone(doc);
    bad3.cases[0].trace[0].bytes = 'zz';
    expect(() => validateResults(bad3)).toThrow(ResultsError);
    expect(() => validateResults({ ...doc, schemaVersion: 99 })).toThrow('results schema version 99; this tool reads version 1');
  });

  test('run metadata: tool, commit, spec versions, times, host, DUT and its /3/0 identity, ICS, IXIT, fingerprinted secrets', () => {
    const run = results.run;
    expect(run).toMatchObject({
      toolVersion: '0.1.0-test',
      gitCommit: 'abc1234',
      specVersions: { lwm2mCore: '1.2.2', lwm2mTransport: '1.2.2', geisaCommit: 'db1ce01' },
      startedAt: '2026-01-01T00:00:00.000Z',
      endedAt: '2026-01-01T00:00:09.000Z',
      host: 'ci-host',
      profileSource: 'acme.yaml',
      ics: { 'dtls.psk': false, 'content-format.senml-cbor': true },
      ixit: { coap: { ackTimeoutS: 2, ackRandomFactor: 1.5 }, lifetimeS: 20 },
      interrupted: true,
    });
    expect(run.dut.identity).toEqual({ readBy: 'TC-BS-01', path: '/3/0', manufacturer: `Acme ${EVIL}`, model: 'X1', serial: 'SN-0001', firmware: '2.3.4' });
    expect(JSON.stringify(run.profile)).toContain('"key":{"length":16,"sha256":"f00dfeed"}');
    expect(run.notes.map((n) => n.text)).toEqual(['bench power cycled']);
  });

  test('per case: id, requirements, strength, verdict, reason, advisory, timings, checks and the timed trace with raw bytes', () => {
    expect(results.cases.map((c) => [c.id, c.verdict])).toEqual([
      ['TC-BS-01', 'pass'],
      ['TC-BS-02', 'fail'],
      ['TC-REG-01', 'error'],
      ['TC-REG-02', 'inconclusive'],
      ['TC-SEC-01', 'not-applicable'],
      ['TC-REG-04', 'pass'],
      ['TC-RETRY-01', 'error'],
    ]);
    const bs01 = results.cases[0]!;
    expect(bs01.requirements.map((r) => r.id)).toEqual(['GEISA-ADM-BS-01', 'LWM2M-CORE-BS-01']);
    expect(bs01).toMatchObject({ strength: 'SHALL', reason: 'bootstrap completed', advisory: null, finished: true, durationMs: 250, startOffsetMs: 0 });
    expect(bs01.trace[0]).toMatchObject({ atMs: 10, direction: 'in', endpoint: 'bootstrap-server', bytes: '4402007ba1b2', summary: 'CON POST mid=10 token=a1b2 /bs?ep=urn:x' });
    expect(bs01.checks[0]).toMatchObject({ name: 'Bootstrap-Request is Confirmable', ok: true, expected: 'CON', observed: 'CON', tolerance: null, atMs: 12 });
    const bs02 = results.cases[1]!;
    expect(bs02.startOffsetMs).toBe(1000);
    expect(bs02.trace.map((d) => d.redacted)).toEqual([0, 1]);
    expect(bs02.checks.find((k) => !k.ok)).toMatchObject({ expected: 'lt=20', observed: `lt=30 ${EVIL}`, tolerance: 'none' });
    expect(results.cases.find((c) => c.id === 'TC-REG-04')!.advisory).toBe('first Update outside 50 % of lifetime');
  });

  test('an interrupted run: the unfinished case is an error that says so, and the counts include it', () => {
    const retry = results.cases.find((c) => c.id === 'TC-RETRY-01')!;
    expect(retry).toMatchObject({ verdict: 'error', finished: false, reason: 'case did not finish: run interrupted' });
    expect(results.counts).toEqual({ pass: 2, fail: 1, error: 2, inconclusive: 1, 'not-applicable': 1, advisory: 1, total: 7 });
    const done = buildResults(foldEvents(syntheticEvents({ interrupted: false })));
    expect(done.run.interrupted).toBe(false);
  });

  test('the compliance matrix has every catalog row; a row no case judged is ABSENT, with the gap reason or the cases not run', () => {
    const rows = new Map(results.matrix.rows.map((r) => [r.requirementId, r]));
    for (const r of catalog.rows) expect(rows.has(r.id)).toBe(true);
    expect(rows.get('GEISA-ADM-BS-01')).toMatchObject({ status: 'pass', cases: [{ id: 'TC-BS-01', verdict: 'pass' }], inCatalog: true });
    expect(rows.get('GEISA-ADM-BS-02')!.status).toBe('fail');
    expect(rows.get('LWM2M-CORE-RETRY-01')!.status).toBe('error');
    expect(rows.get('EST-COAPS-01')).toMatchObject({ status: 'ABSENT', cases: [], gap: { reason: 'later-issue', note: 'EST enrollment issue' } });
    expect(rows.get('GEISA-ADM-BS-03')).toMatchObject({ status: 'ABSENT', notRunCases: ['TC-BS-09'] });
    // A requirement a case cites but the catalog lacks is listed, flagged.
    expect(rows.get('NOT-IN-CATALOG-01')).toMatchObject({ inCatalog: false, status: 'error' });
    expect(rows.has('NOT-A-ROW-01')).toBe(false);
    expect(results.matrix.rows.filter((r) => r.status === 'ABSENT').map((r) => r.requirementId)).toEqual(['GEISA-ADM-BS-03', 'LWM2M-CORE-BS-04', 'EST-COAPS-01']);
  });

  test('a requirement judged by a passing and a failing case takes the worse verdict', () => {
    const events = syntheticEvents().map((e) => (e.type === 'case-start' && e.caseId === 'TC-BS-02' ? { ...e, meta: { ...e.meta, requirements: [...e.meta.requirements, { id: 'GEISA-ADM-BS-01', section: 's', quote: 'q' }] } } : e));
    const r = buildResults(foldEvents(events), { catalog });
    expect(r.matrix.rows.find((x) => x.requirementId === 'GEISA-ADM-BS-01')).toMatchObject({
      status: 'fail',
      cases: [
        { id: 'TC-BS-01', verdict: 'pass' },
        { id: 'TC-BS-02', verdict: 'fail' },
      ],
    });
  });

  test('without the catalog the matrix holds the cited requirements only, and says why', () => {
    const r = buildResults(foldEvents(syntheticEvents()), { catalog: null, catalogPath: '/nowhere/requirements.md' });
    expect(r.matrix.catalog).toMatchObject({ available: false, source: null });
    expect(r.matrix.catalog.note).toContain('/nowhere/requirements.md');
    expect(r.matrix.rows.map((x) => x.requirementId).sort()).toEqual([...new Set(CASES.flatMap((c) => c.meta.requirements.map((q) => q.id)))].sort());
    expect(r.run.specVersions.geisaCommit).toBeNull();
    expect(() => validateResults(JSON.parse(renderResultsJson(r)))).not.toThrow();
  });

  test('written atomically and read back to the same document; an invalid file is named', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'results-'));
    try {
      const file = path.join(dir, 'results.json');
      writeFileSync(file, 'old');
      writeResults(results, file);
      expect(readdirSync(dir)).toEqual(['results.json']);
      expect(readResults(file)).toEqual(JSON.parse(renderResultsJson(results)));
      writeFileSync(file, '{"format":"geisa-adm-results"');
      expect(() => readResults(file)).toThrow(`${file} is not JSON`);
      writeFileSync(file, '{"format":"geisa-adm-results","schemaVersion":1}');
      expect(() => readResults(file)).toThrow(`${file} is not a valid geisa-adm-results document`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('JUnit and the console summary rendered from results.json equal those rendered from the events', () => {
    const run = foldEvents(syntheticEvents());
    const fromFile = validateResults(JSON.parse(renderResultsJson(buildResults(run))));
    expect(renderJunit(fromFile)).toBe(renderJunit(buildResults(run)));
    expect(renderSummary(fromFile, { color: false })).toBe(renderSummary(buildResults(run), { color: false }));
  });

  test('JUnit and console mark an interrupted run and carry the device identity', () => {
    const xml = renderJunit(results);
    expect(xml).toContain('<property name="run.interrupted" value="true"/>');
    expect(xml).toContain('<property name="dut.serial" value="SN-0001"/>');
    expect(xml).toContain('<property name="spec.lwm2m.core" value="1.2.2"/>');
    expect(renderSummary(results, { color: false })).toContain('RUN INTERRUPTED');
  });
});

describe('compliance matrix per row', () => {
  test('a case that failed on one row does not fail the other rows it cites: a row whose own checks held passes there', () => {
    // TC-BS-01 cites GEISA-ADM-BS-01 (its one check, ok) and LWM2M-CORE-BS-01; make it fail on the latter.
    const events = syntheticEvents().map((e) => (e.type === 'verdict' && e.caseId === 'TC-BS-01' ? { ...e, verdict: 'fail' as const, reason: 'NON', requirement: 'LWM2M-CORE-BS-01', level: 'MUST' as const } : e));
    const r = buildResults(foldEvents(events), { catalog });
    const bs01 = r.cases.find((c) => c.id === 'TC-BS-01')!;
    expect(bs01.decidedBy).toEqual({ requirement: 'LWM2M-CORE-BS-01', level: 'MUST' });
    const rows = new Map(r.matrix.rows.map((x) => [x.requirementId, x]));
    expect(rows.get('LWM2M-CORE-BS-01')!.cases).toEqual([{ id: 'TC-BS-01', verdict: 'fail' }]);
    expect(rows.get('GEISA-ADM-BS-01')!.cases).toEqual([{ id: 'TC-BS-01', verdict: 'pass' }]);
  });
});

describe('HTML report', () => {
  const html = renderHtml(results);

  test('is self-contained: no script, no external reference, a policy that forbids fetching', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\b(src|href)="(?!#)/i);
    expect(html).not.toMatch(/@import|url\(/i);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
  });

  test('device-provided text is escaped everywhere: no injected tag, row or attribute', () => {
    // The hostile strings sit in a payload, a query, a check, a note, the reason, the identity and the DUT name.
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('data-case-id="FAKE-01"');
    expect((html.match(/<tr class="case-row"/g) ?? []).length).toBe(results.cases.length);
    expect(html).toContain('&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;');
    // Control characters are shown, not passed through.
    expect(html).not.toMatch(/[\u0001\u001b]/);
    expect(html).toContain('\\x01\\x1b[31m');
  });

  test('summary: tool version, spec versions, DUT identity, ICS, IXIT, counts', () => {
    expect(html).toContain('0.1.0-test');
    expect(html).toContain('OMA LwM2M Core 1.2.2, Transport 1.2.2; GEISA specification commit db1ce01');
    expect(html).toContain('model X1, serial SN-0001, firmware 2.3.4');
    expect(html).toMatch(/<td class="mono">content-format\.senml-cbor<\/td><td>yes<\/td>/);
    expect(html).toMatch(/<td class="mono nw">coap\.ackTimeoutS<\/td><td class="mono">2<\/td>/);
    expect(html).toContain('<span id="count-pass">2</span> pass');
  });

  test('an interrupted run has the banner; a finished one does not', () => {
    expect(html).toContain('class="banner banner-interrupted" id="interrupted"');
    const done = renderHtml(buildResults(foldEvents(syntheticEvents({ interrupted: false })), { catalog }));
    expect(done).not.toContain('id="interrupted"');
  });

  test('the matrix has one row per requirement, ABSENT rows with their reason, never a pass badge', () => {
    const rows = [...html.matchAll(/<tr class="matrix-row" data-requirement="([^"]*)" data-status="([^"]*)">([\s\S]*?)<\/tr>/g)];
    expect(rows.map((m) => [m[1], m[2]])).toEqual(results.matrix.rows.map((r) => [r.requirementId, r.status]));
    const est = rows.find((m) => m[1] === 'EST-COAPS-01')![3]!;
    expect(est).toContain('ABSENT');
    expect(est).not.toContain('v-pass');
    expect(est).toContain('No case yet (later-issue):</strong> EST enrollment issue');
    expect(rows.find((m) => m[1] === 'GEISA-ADM-BS-03')![3]).toContain('Covered by cases not selected for this run:</strong> TC-BS-09');
  });

  test('without the catalog the page says the matrix is partial', () => {
    const r = renderHtml(buildResults(foldEvents(syntheticEvents()), { catalog: null, catalogPath: '/nowhere/requirements.md' }));
    expect(r).toContain('id="catalog-missing"');
    expect(r).toContain('requirement catalog not found at /nowhere/requirements.md');
  });

  test('per case: sequence chart with the three lanes and timed arrows, decoded and raw trace, expected vs observed on a failure', () => {
    const bs01 = /<section class="case" id="case-TC-BS-01"[\s\S]*?<\/section>/.exec(html)![0];
    const svg = /<svg [\s\S]*?<\/svg>/.exec(bs01)![0];
    for (const lane of ['Device (DUT)', 'Bootstrap-Server', 'LwM2M Server']) expect(svg).toContain(`>${lane}</text>`);
    expect((svg.match(/<polygon /g) ?? []).length).toBe(6);
    expect(svg).toContain('>10.000 ms</text>');
    expect(bs01).toContain('CON POST mid=10 token=a1b2 /bs?ep=urn:x');
    expect(bs01).toContain('0000  4402007b a1b2');
    const bs02 = /<section class="case" id="case-TC-BS-02"[\s\S]*?<\/section>/.exec(html)![0];
    const failed = /<h4>Expected vs observed \(failed checks\)<\/h4>\s*<table class="failed-checks">([\s\S]*?)<\/table>/.exec(bs02)![1]!;
    expect(failed).toContain('<td>lt equals /1/x/1</td><td>lt=20</td><td>lt=30 &lt;script&gt;');
    expect(failed).not.toContain('ep present');
    expect(bs02).toContain('#2 +6.000 ms in lwm2m-server 6 B (1 secret value(s) overwritten with zeros)');
    expect(/<section class="case" id="case-TC-BS-01"[\s\S]*?<\/section>/.exec(html)![0]).not.toContain('Expected vs observed');
  });

  test('a case in the expected-failures file is marked, a stale entry too', () => {
    const events = syntheticEvents().map((e) =>
      e.type === 'verdict' && e.caseId === 'TC-BS-02'
        ? { ...e, expectedFailure: { reason: 'vendor bug 12', stale: false } }
        : e.type === 'verdict' && e.caseId === 'TC-BS-01'
          ? { ...e, expectedFailure: { reason: 'flaky <b>', stale: true } }
          : e,
    );
    const r = buildResults(foldEvents(events));
    expect(r.cases[1]!.expectedFailure).toEqual({ reason: 'vendor bug 12', stale: false });
    expect(r.cases[2]!.expectedFailure).toBeNull();
    const h = renderHtml(r);
    expect(h).toContain('expected failure: vendor bug 12');
    expect(h).toContain('stale expected failure (listed: flaky &lt;b&gt;; it passes now)');
  });

  test('writeHtml replaces the file atomically', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'html-'));
    try {
      const file = path.join(dir, 'report.html');
      writeFileSync(file, 'old');
      writeHtml(results, file);
      expect(readFileSync(file, 'utf8')).toBe(html);
      expect(readdirSync(dir)).toEqual(['report.html']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
