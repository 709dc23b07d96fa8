/**
 * report.pdf: report.html printed by headless Chromium (opt-in, --pdf), so the PDF is the
 * same page an auditor sees in a browser, with every collapsible section opened. Chromium
 * is looked up only when a PDF is asked for: the default run never needs it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, renameSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Results } from './results.js';
import { renderHtml } from './html.js';
import { removeQuietly, tempPathFor, writeFileAtomic } from './atomic-write.js';

export const PDF_REPORT_NAME = 'report.pdf';

const CANDIDATES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/** The flags every headless Chromium run of ours uses: nothing leaves the machine, no state is kept. */
export function chromiumFlags(userDataDir: string): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-extensions',
    `--user-data-dir=${userDataDir}`,
  ];
}

export class PdfError extends Error {
  override name = 'PdfError';
}

/** $GEISA_CHROMIUM if set, else the first Chromium on PATH; null when there is none. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  const explicit = env['GEISA_CHROMIUM'];
  if (explicit) return existsSync(explicit) ? explicit : null;
  for (const name of CANDIDATES) {
    const r = spawnSync('sh', ['-c', 'command -v "$1"', 'sh', name], { encoding: 'utf8' });
    const path = r.stdout.trim();
    if (r.status === 0 && path) return path;
  }
  return null;
}

export const CHROMIUM_MISSING = '--pdf needs Chromium to print the HTML report, and none was found: install the Debian package chromium (apt-get install chromium) or set GEISA_CHROMIUM to the browser binary';

/**
 * Prints `results` as report.html (all sections opened) to `pdfFile`. The page is written
 * to a temp file beside the PDF; Chromium prints to a temp name there, renamed into place
 * only once it exited cleanly with a non-empty file.
 */
export async function writePdf(results: Results, pdfFile: string, opts: { chromium?: string; timeoutMs?: number } = {}): Promise<void> {
  const chromium = opts.chromium ?? findChromium();
  if (!chromium) throw new PdfError(CHROMIUM_MISSING);
  const htmlTmp = tempPathFor(pdfFile, '.print.html');
  const pdfTmp = tempPathFor(pdfFile, '.pdf');
  const profileDir = mkdtempSync(join(tmpdir(), 'geisa-adm-chromium-'));
  try {
    writeFileAtomic(htmlTmp, renderHtml(results, { expandAll: true }));
    const args = [...chromiumFlags(profileDir), '--no-pdf-header-footer', `--print-to-pdf=${pdfTmp}`, pathToFileURL(htmlTmp).href];
    const { code, stderr } = await runChromium(chromium, args, opts.timeoutMs ?? 120_000);
    if (code !== 0 || !existsSync(pdfTmp) || statSync(pdfTmp).size === 0) {
      const tail = stderr.trim().split('\n').slice(-3).join(' | ');
      throw new PdfError(`Chromium (${chromium}) did not print the report (exit ${code ?? 'killed'})${tail ? `: ${tail}` : ''}`);
    }
    renameSync(pdfTmp, pdfFile);
  } finally {
    removeQuietly(htmlTmp);
    removeQuietly(pdfTmp);
    rmSync(profileDir, { recursive: true, force: true });
  }
}

function runChromium(bin: string, args: string[], timeoutMs: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    // Own process group, so a timeout ends Chromium's helper processes too.
    const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new PdfError(`cannot start Chromium (${bin}): ${e.message}`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}
