/**
 * The files a run leaves besides its event log, written once the run is over (finished or
 * interrupted), whatever happened during it.
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ResultEvent } from '../events/events.js';
import { foldEvents } from '../reports/run-record.js';
import { writeJunit } from '../reports/junit.js';
import { MANIFEST_NAME, writeManifest } from '../reports/manifest.js';
import { RESULTS_NAME, type Results, buildResults, writeResults } from '../reports/results.js';
import { HTML_REPORT_NAME, writeHtml } from '../reports/html.js';
import { PDF_REPORT_NAME, writePdf } from '../reports/pdf.js';
import { builtInCatalog } from '../reports/catalog.js';
import { CATALOG_GAPS } from '../../suites/catalog-gaps.js';
import { CAPTURE_NAME, DECODE_SCRIPT_NAME, writeCapture, writeDecodeScript } from '../recorder/pcapng.js';
import { type DtlsKeyLog, KEYLOG_NAME } from '../recorder/keylog.js';
import { ALL_CASES } from '../../suites/index.js';

export interface RunReportInput {
  events: ResultEvent[];
  outDir: string;
  /** Absent when the event log itself failed: it is then neither listed nor vouched for. */
  eventLogFile: string | undefined;
  keylog: DtlsKeyLog | undefined;
  pdf: boolean;
  err: NodeJS.WritableStream;
}

export interface RunReportOutput {
  results: Results;
  /** Label → path, for the console summary. */
  paths: Record<string, string>;
  /** A report could not be written (each failure is already on err). */
  failed: boolean;
}

/**
 * Every file the run leaves besides the event log, rendered from the events once the run
 * is over (finished or interrupted): results.json, then JUnit, HTML and the optional PDF
 * from it, the capture, the opt-in DTLS key log, and last the manifest of them all. Each
 * writer replaces its file atomically; one that fails is reported and the others still run.
 */
export async function writeRunReports(input: RunReportInput): Promise<RunReportOutput> {
  const { events, outDir, keylog, err } = input;
  let failed = false;
  const attempt = async <T>(what: string, write: () => T | Promise<T>): Promise<T | undefined> => {
    try {
      return await write();
    } catch (e) {
      err.write(`could not write ${what}: ${(e as Error).message}\n`);
      failed = true;
      return undefined;
    }
  };

  const catalog = builtInCatalog();
  // The capture first, so that results.json (and every rendering) can name it.
  const capture = await attempt(join(outDir, CAPTURE_NAME), () => writeCapture(events, join(outDir, CAPTURE_NAME)));
  const results = buildResults(foldEvents(events), {
    catalog,
    gaps: CATALOG_GAPS,
    knownCases: ALL_CASES.map((c) => c.meta),
    capture: capture ? { file: basename(capture.file), packets: capture.packets, decodeHint: capture.hint.split(capture.file).join(basename(capture.file)) } : null,
  });

  const resultsFile = join(outDir, RESULTS_NAME);
  const junitFile = join(outDir, 'junit.xml');
  const htmlFile = join(outDir, HTML_REPORT_NAME);
  const pdfFile = join(outDir, PDF_REPORT_NAME);
  const wrote = {
    results: await attempt(resultsFile, () => (writeResults(results, resultsFile), resultsFile)),
    junit: await attempt(junitFile, () => (writeJunit(results, junitFile), junitFile)),
    html: await attempt(htmlFile, () => (writeHtml(results, htmlFile), htmlFile)),
    pdf: input.pdf ? await attempt(pdfFile, async () => (await writePdf(results, pdfFile), pdfFile)) : undefined,
  };
  const keylogFile = await attempt(join(outDir, KEYLOG_NAME), () => keylog?.write(outDir));
  // After the key log: the script decrypts with it when there is one.
  const decodeScript = capture?.decodeArgs.length ? await attempt(join(outDir, DECODE_SCRIPT_NAME), () => writeDecodeScript(outDir, capture.decodeArgs, keylogFile ? basename(keylogFile) : undefined)) : undefined;
  const listed = [input.eventLogFile, wrote.results, wrote.junit, wrote.html, wrote.pdf, capture?.file, decodeScript, keylogFile].filter((f): f is string => f !== undefined && existsSync(f));
  const manifest = await attempt(join(outDir, MANIFEST_NAME), () => writeManifest(outDir, listed));

  const paths: Record<string, string> = {};
  if (input.eventLogFile) paths['event log'] = input.eventLogFile;
  if (wrote.results) paths['results'] = wrote.results;
  if (wrote.junit) paths['junit'] = wrote.junit;
  if (wrote.html) paths['html'] = wrote.html;
  if (wrote.pdf) paths['pdf'] = wrote.pdf;
  if (capture) {
    paths['capture'] = capture.file;
    // One short line: the script holds the (range) decode-as arguments and the key log.
    if (decodeScript) paths['decode with'] = `sh ${decodeScript}`;
  }
  if (keylogFile) paths['DTLS key log (SECRETS)'] = keylogFile;
  if (manifest) paths['manifest'] = manifest;
  return { results, paths, failed };
}
