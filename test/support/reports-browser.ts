/**
 * Reading report.html as Chromium renders it and report.pdf as pdftotext reads it, for
 * the browser and consistency tests.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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

/** [case id, verdict] of every case row in a serialized DOM. Text nodes have "<" escaped, so only real elements match. */
export function caseRowsOf(dom: string): [string, string][] {
  return [...dom.matchAll(/<tr class="case-row" data-case-id="([^"]*)" data-verdict="([^"]*)">/g)].map((m) => [unescapeHtml(m[1]!), m[2]!]);
}

export function unescapeHtml(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
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

