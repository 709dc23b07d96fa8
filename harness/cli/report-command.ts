/**
 * `geisa-adm report <results.json>`: renders a finished run's reports again from its
 * results.json alone — JUnit, HTML, and with --pdf the PDF — and prints the console
 * summary. The manifest is left as the run wrote it: re-rendering must never bless a
 * file someone changed, so a results.json that no longer matches its manifest is named.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { readResults, ResultsError } from '../reports/results.js';
import { writeJunit } from '../reports/junit.js';
import { HTML_REPORT_NAME, writeHtml } from '../reports/html.js';
import { CHROMIUM_MISSING, PDF_REPORT_NAME, PdfError, findChromium, writePdf } from '../reports/pdf.js';
import { MANIFEST_NAME, verifyManifest } from '../reports/manifest.js';
import { colorWanted, renderSummary } from '../reports/console-summary.js';
import { EXIT } from '../runner/exit-code.js';

export interface ReportArgs {
  results: string;
  /** Default: the directory results.json is in. */
  out?: string;
  junit: boolean;
  html: boolean;
  pdf: boolean;
}

export async function reportCommand(args: ReportArgs, out: NodeJS.WriteStream = process.stdout, err: NodeJS.WriteStream = process.stderr): Promise<number> {
  // With no format named, the two that need nothing installed.
  const none = !args.junit && !args.html && !args.pdf;
  const want = { junit: args.junit || none, html: args.html || none, pdf: args.pdf };
  if (want.pdf && !findChromium()) {
    err.write(`error: ${CHROMIUM_MISSING}\n`);
    return EXIT.USAGE;
  }
  let results;
  try {
    results = readResults(args.results);
  } catch (e) {
    if (!(e instanceof ResultsError)) throw e;
    err.write(`error: ${e.message}\n`);
    return EXIT.USAGE;
  }

  const srcDir = dirname(resolve(args.results));
  const manifestWarning = checkAgainstManifest(srcDir, basename(args.results));
  if (manifestWarning) err.write(`warning: ${manifestWarning}\n`);

  const outDir = resolve(args.out ?? srcDir);
  const paths: Record<string, string> = {};
  let code: number = EXIT.OK;
  const attempt = async (label: string, file: string, write: () => void | Promise<void>) => {
    try {
      await write();
      paths[label] = file;
    } catch (e) {
      err.write(`could not write ${file}: ${(e as Error).message}\n`);
      code = EXIT.ERROR;
    }
  };
  if (want.junit) await attempt('junit', join(outDir, 'junit.xml'), () => writeJunit(results, join(outDir, 'junit.xml')));
  if (want.html) await attempt('html', join(outDir, HTML_REPORT_NAME), () => writeHtml(results, join(outDir, HTML_REPORT_NAME)));
  if (want.pdf) {
    const file = join(outDir, PDF_REPORT_NAME);
    try {
      await writePdf(results, file);
      paths['pdf'] = file;
    } catch (e) {
      err.write(`error: ${e instanceof PdfError ? e.message : `could not write ${file}: ${(e as Error).message}`}\n`);
      code = EXIT.ERROR;
    }
  }
  out.write(renderSummary(results, { color: colorWanted(out), reportPaths: paths }));
  if (existsSync(join(outDir, MANIFEST_NAME))) out.write(`${MANIFEST_NAME} not updated: it still lists the files as the run wrote them\n`);
  return code;
}

/** A sentence when results.json is not the file the run's manifest lists; null when it matches or there is no manifest. */
function checkAgainstManifest(dir: string, name: string): string | null {
  const manifest = join(dir, MANIFEST_NAME);
  if (!existsSync(manifest)) return null;
  if (
    !readFileSync(manifest, 'utf8')
      .split('\n')
      .some((l) => l.endsWith(`  ${name}`))
  )
    return `${name} is not listed in ${manifest}`;
  try {
    const r = verifyManifest(dir);
    if (r.changed.includes(name)) return `${name} differs from the run's ${MANIFEST_NAME}: it was changed after the run, so these reports do not show what the run recorded`;
  } catch (e) {
    return `${manifest} unreadable: ${(e as Error).message}`;
  }
  return null;
}
