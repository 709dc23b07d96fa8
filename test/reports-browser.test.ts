/**
 * The HTML report as a browser reads it: headless Chromium parses report.html and the DOM
 * it builds lists exactly the cases and verdicts (and matrix rows) of results.json — also
 * when the device put markup into its payloads and identity. And the PDF Chromium prints
 * from it holds every case id with its verdict (read back with pdftotext).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { foldEvents } from '../harness/reports/run-record.js';
import { buildResults } from '../harness/reports/results.js';
import { catalogOf } from '../harness/reports/catalog.js';
import { writeHtml } from '../harness/reports/html.js';
import { writePdf } from '../harness/reports/pdf.js';
import { hasTool, describeIf } from './support/tools.js';
import type { ResultEvent } from '../harness/events/events.js';
import { CATALOG_ROWS, coap, dgram, meta, ns, syntheticEvents } from './support/reports-fixture.js';
import { CHROMIUM, caseRowsOf, dumpDom, expectPdfListsCases, layoutAt, pdfText, unescapeHtml } from './support/reports-browser.js';

const haveChromium = hasTool(CHROMIUM);
const havePdftotext = hasTool('pdftotext');
const NO_CHROMIUM = `no ${CHROMIUM} (Debian chromium)`;

const results = buildResults(foldEvents(syntheticEvents()), { catalog: catalogOf(CATALOG_ROWS, 'test catalog', 'db1ce01') });

describeIf(haveChromium, NO_CHROMIUM)('report.html in headless Chromium', () => {
  let dir: string;
  let dom: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'geisa-html-'));
    const file = path.join(dir, 'report.html');
    writeHtml(results, file);
    dom = dumpDom(file);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('the rendered page lists exactly the cases and verdicts of results.json, in order', () => {
    expect(caseRowsOf(dom)).toEqual(results.cases.map((c) => [c.id, c.verdict]));
    // The hostile payload carries a fake row; in the DOM it is text, not a row.
    expect(dom).not.toMatch(/<tr class="case-row" data-case-id="FAKE-01"/);
  });

  test('each case section and matrix row is there as the browser parsed it', () => {
    const sections = [...dom.matchAll(/<section class="case" id="[^"]*" data-case-id="([^"]*)" data-verdict="([^"]*)">/g)].map((m) => [unescapeHtml(m[1]!), m[2]]);
    expect(sections).toEqual(results.cases.map((c) => [c.id, c.verdict]));
    const matrix = [...dom.matchAll(/<tr class="matrix-row" data-requirement="([^"]*)" data-status="([^"]*)">/g)].map((m) => [m[1], m[2]]);
    expect(matrix).toEqual(results.matrix.rows.map((r) => [r.requirementId, r.status]));
    expect(dom).toContain('id="interrupted"');
  });

  test("device-provided markup stays text: no script element, the page title is the report's", () => {
    expect(dom).not.toMatch(/<script/i);
    expect(/<title>([^<]*)<\/title>/.exec(dom)![1]).toMatch(/^GEISA ADM conformance report — Acme meter &lt;script&gt;/);
    expect(dom).toContain("&lt;script&gt;document.title='pwned'&lt;/script&gt;");
  });
});

/**
 * What a real device puts in the widest places, none of it with a space to break at: a
 * block-wise octet-stream payload, a certificate fingerprint compared in a check, a long
 * URI in a reason and a note, a hex serial number.
 */
function wideEvents(): ResultEvent[] {
  const hex = 'a1b2c3d4e5f60718'.repeat(32);
  const uri = `coaps://[2001:db8:0:0:0:0:0:1]:5684/rd/${'x'.repeat(40)}?ep=urn:dev:ops:${'0123456789'.repeat(12)}`;
  const id = 'TC-WIDE-01';
  const events = syntheticEvents();
  const start = events[0]!;
  if (start.type !== 'run-start') throw new Error('the fixture starts with run-start');
  const runEnd = events.pop()!;
  events[0] = { ...start, cases: [...start.cases, id] };
  events.push(
    { type: 'case-start', caseId: id, meta: meta(id, 'registration', ['GEISA-ADM-REG-01']), at: '2026-01-01T00:00:08.000Z', monoNs: ns(8000) },
    ...Array.from({ length: 4 }, (_, i) => dgram(id, 8001 + i, i % 2 ? 'out' : 'in', 'lwm2m-server', coap({ mid: i, uriPath: `/5/0/0/${'z'.repeat(60)}`, uriQuery: [`ep=${'e'.repeat(90)}`], contentFormat: 42, payload: hex }))),
    {
      type: 'check',
      caseId: id,
      requirement: 'GEISA-ADM-REG-01',
      level: 'SHALL',
      name: `fingerprint ${hex.slice(0, 64)}`,
      ok: false,
      expected: hex,
      observed: hex.split('').reverse().join(''),
      tolerance: hex.slice(0, 80),
      monoNs: ns(8010),
    },
    { type: 'note', caseId: id, source: 'device', text: `redirected to ${uri}${hex}`, monoNs: ns(8011) },
    { type: 'device-identity', caseId: id, path: '/3/0', manufacturer: hex, model: hex, serial: hex, firmware: hex, monoNs: ns(8012) },
    { type: 'verdict', caseId: id, verdict: 'fail', reason: `Register went to ${uri}${hex}`, durationMs: 50, monoNs: ns(8050) },
    runEnd,
  );
  return events;
}

describeIf(haveChromium, NO_CHROMIUM)('report.html layout', () => {
  test('at 1280 px nothing scrolls sideways, also with long hex, URIs and reasons that have no space to break at', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'geisa-html-wide-'));
    try {
      const file = path.join(dir, 'report.html');
      const wide = buildResults(foldEvents(wideEvents()), { catalog: catalogOf(CATALOG_ROWS, 'test catalog', 'db1ce01') });
      expect(wide.cases.map((c) => c.id)).toContain('TC-WIDE-01');
      writeHtml(wide, file);
      const layout = layoutAt(file, 1280);
      expect(layout.clientWidth).toBeGreaterThan(1200);
      // The widest offenders in the message, so a failure says which element to fix.
      expect({ scrollWidth: layout.scrollWidth, overflowing: layout.overflowing }).toEqual({ scrollWidth: layout.clientWidth, overflowing: [] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describeIf(haveChromium && havePdftotext, haveChromium ? 'no pdftotext (Debian poppler-utils)' : NO_CHROMIUM)('report.pdf', () => {
  test('printed by Chromium: every case id is in it with its verdict, and no temp file is left', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'geisa-pdf-'));
    try {
      const file = path.join(dir, 'report.pdf');
      await writePdf(results, file, { chromium: CHROMIUM });
      expect(readdirSync(dir)).toEqual(['report.pdf']);
      const text = pdfText(file);
      expectPdfListsCases(text, results);
      expect(text).toContain('RUN INTERRUPTED');
      // Printed with every section open: the raw bytes are in the PDF too.
      expect(text).toContain('4402007b a1b2');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
