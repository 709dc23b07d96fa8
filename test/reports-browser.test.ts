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
import { hasTool } from './support/tools.js';
import { CATALOG_ROWS, syntheticEvents } from './support/reports-fixture.js';
import { CHROMIUM, caseRowsOf, dumpDom, expectPdfListsCases, pdfText, unescapeHtml } from './support/reports-browser.js';

const haveChromium = hasTool(CHROMIUM);
const havePdftotext = hasTool('pdftotext');

const results = buildResults(foldEvents(syntheticEvents()), { catalog: catalogOf(CATALOG_ROWS, 'test catalog', 'db1ce01') });

(haveChromium ? describe : describe.skip)('report.html in headless Chromium', () => {
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
    expect(dom).toContain('&lt;script&gt;document.title=\'pwned\'&lt;/script&gt;');
  });
});

(haveChromium && havePdftotext ? describe : describe.skip)('report.pdf', () => {
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
