/**
 * Reading report.html as Chromium renders it and report.pdf as pdftotext reads it, for
 * the browser and consistency tests.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Results } from '../../harness/reports/results.js';
import { chromiumFlags } from '../../harness/reports/pdf.js';

export const CHROMIUM = 'chromium';

export const VERDICT_LABEL: Record<string, string> = { pass: 'PASS', fail: 'FAIL', error: 'ERROR', inconclusive: 'INCONCLUSIVE', 'not-applicable': 'NOT APPLICABLE' };

/** The DOM Chromium built from `file`, serialized (--dump-dom), with a fresh profile. */
export function dumpDom(file: string): string {
  const profile = mkdtempSync(path.join(tmpdir(), 'geisa-dom-'));
  try {
    const r = spawnSync(CHROMIUM, [...chromiumFlags(profile), '--dump-dom', pathToFileURL(file).href], { encoding: 'utf8', timeout: 90_000, maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) throw new Error(`chromium --dump-dom exited ${r.status}: ${r.stderr.slice(-500)}`);
    return r.stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** What the page's layout measures at one window width. */
export interface Layout {
  scrollWidth: number;
  clientWidth: number;
  /** Elements whose right edge lies past the viewport, widest first: what to fix when it fails. */
  overflowing: string[];
}

/**
 * Lays `file` out in a Chromium window `width` px wide and measures it. The page forbids
 * scripts (its CSP), so a copy without that meta tag gets one read-only script that writes
 * the measurements into the DOM Chromium dumps; the styles and markup measured are the
 * report's own.
 */
export function layoutAt(file: string, width: number): Layout {
  const dir = mkdtempSync(path.join(tmpdir(), 'geisa-layout-'));
  try {
    const probe =
      '<script>(() => {' +
      'const root = document.documentElement, w = root.clientWidth, over = [];' +
      'for (const el of document.body.querySelectorAll("*")) {' +
      '  const r = el.getBoundingClientRect();' +
      '  if (r.right > w + 0.5) over.push([Math.round(r.right), el.tagName.toLowerCase() + (typeof el.className === "string" && el.className ? "." + el.className.split(" ").join(".") : "") + " " + (el.textContent || "").slice(0, 60)]);' +
      '}' +
      'over.sort((a, b) => b[0] - a[0]);' +
      'const out = document.createElement("pre"); out.id = "layout-probe";' +
      'out.textContent = JSON.stringify({ scrollWidth: root.scrollWidth, clientWidth: w, overflowing: over.slice(0, 10).map((o) => o[0] + "px " + o[1]) });' +
      'document.body.appendChild(out);' +
      '})();</script>';
    const html = readFileSync(file, 'utf8');
    const withoutCsp = html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '');
    if (withoutCsp === html) throw new Error(`${file}: no Content-Security-Policy meta tag to lift for the layout probe`);
    const copy = path.join(dir, 'layout.html');
    writeFileSync(copy, withoutCsp.replace('</body>', `${probe}</body>`));
    const profile = path.join(dir, 'profile');
    const r = spawnSync(CHROMIUM, [...chromiumFlags(profile), `--window-size=${width},900`, '--dump-dom', pathToFileURL(copy).href], {
      encoding: 'utf8',
      timeout: 90_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.status !== 0) throw new Error(`chromium --dump-dom exited ${r.status}: ${r.stderr.slice(-500)}`);
    const m = /<pre id="layout-probe">([^<]*)<\/pre>/.exec(r.stdout);
    if (!m) throw new Error('the layout probe wrote nothing: did the script run?');
    return JSON.parse(unescapeHtml(m[1]!)) as Layout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** [case id, verdict] of every case row in a serialized DOM. Text nodes have "<" escaped, so only real elements match. */
export function caseRowsOf(dom: string): [string, string][] {
  return [...dom.matchAll(/<tr class="case-row" data-case-id="([^"]*)" data-verdict="([^"]*)">/g)].map((m) => [unescapeHtml(m[1]!), m[2]!]);
}

export function unescapeHtml(s: string): string {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** Every case id in the PDF's text, each on a line that also carries its verdict label (the cases table). */
export function pdfText(file: string): string {
  const r = spawnSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`pdftotext exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

export function expectPdfListsCases(text: string, results: Results): void {
  const lines = text.split('\n');
  for (const c of results.cases) {
    const row = lines.find((l) => l.includes(c.id) && l.includes(VERDICT_LABEL[c.verdict]!));
    expect(`${c.id} ${VERDICT_LABEL[c.verdict]}: ${row !== undefined}`).toBe(`${c.id} ${VERDICT_LABEL[c.verdict]}: true`);
  }
}
