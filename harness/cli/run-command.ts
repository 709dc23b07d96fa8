/**
 * `geisa-adm run`: load the profile, pick the cases, run them, and always leave a report
 * behind — the event log as the run goes; results.json, JUnit, HTML (PDF with --pdf), the
 * capture, the manifest and the console summary at the end (writeRunReports), also when
 * the run is interrupted or the harness itself fails.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Chalk } from 'chalk';
import type { ResultEvent } from '../results/events.js';
import { type Profile, loadProfile, defaultSimulatorProfile, ProfileError } from '../profile/load.js';
import { createProfileAdapter } from '../dut/mixed-adapter.js';
import { createSimulatorAdapter } from '../dut/simulator-adapter.js';
import { EVENT_LOG_NAME, EventLog } from '../reports/event-log.js';
import { foldEvents } from '../reports/run-record.js';
import { writeJunit } from '../reports/junit.js';
import { MANIFEST_NAME, writeManifest } from '../reports/manifest.js';
import { RESULTS_NAME, type Results, buildResults, writeResults } from '../reports/results.js';
import { HTML_REPORT_NAME, writeHtml } from '../reports/html.js';
import { CHROMIUM_MISSING, PDF_REPORT_NAME, findChromium, writePdf } from '../reports/pdf.js';
import { builtInCatalog } from '../reports/catalog.js';
import { CATALOG_GAPS } from '../../suites/catalog-gaps.js';
import { CAPTURE_NAME, writeCapture } from '../recorder/pcapng.js';
import { DtlsKeyLog, KEYLOG_NAME, withDtlsKeyLog } from '../recorder/keylog.js';
import { renderSummary, colorWanted } from '../reports/console-summary.js';
import { runSuite } from '../runner/runner.js';
import { EXIT } from '../runner/exit-code.js';
import { ALL_CASES } from '../../suites/index.js';
import { DEFECTS } from '../../fixtures/device/defects.js';
import { selectRun, UsageError } from './select.js';
import { prepareOutDir } from './out-dir.js';
import { type ExpectedFailures, loadExpectedFailures } from './expected-failures.js';
import { LiveStatus } from './live-status.js';

export interface RunArgs {
  dut?: string;
  cases?: string;
  tags?: string[];
  /** Also run cases tagged slow. */
  slow?: boolean;
  /** File of known failures (see expected-failures.ts). */
  expectedFailures?: string;
  out: string;
  defect?: string;
  persistRegistration?: boolean;
  strict: boolean;
  /** Write the DTLS sessions' keys (SECRETS-dtls-keylog.txt) so Wireshark can decrypt the capture. */
  keylog?: boolean;
  /** Also print report.html to report.pdf with Chromium. */
  pdf?: boolean;
}

export function loadRunProfile(dut: string | undefined): Profile {
  return dut ? loadProfile(dut) : defaultSimulatorProfile();
}

export async function runCommand(args: RunArgs, out: NodeJS.WriteStream = process.stdout, err: NodeJS.WriteStream = process.stderr): Promise<number> {
  const color = colorWanted(out);
  const chalk = new Chalk({ level: color ? 1 : 0 });
  let profile: Profile;
  let cases;
  let slowNotRun: string[] = [];
  let expectedFailures: ExpectedFailures | undefined;
  let outDir: string;
  try {
    profile = loadRunProfile(args.dut);
    if (args.defect) {
      if (profile.adapter.kind !== 'simulator') throw new UsageError(`--defect applies only to the bundled reference device, but profile ${profile.source} uses adapter '${profile.adapter.kind}'`);
      if (!DEFECTS.some((d) => d.name === args.defect)) throw new UsageError(`unknown --defect '${args.defect}'; known: ${DEFECTS.map((d) => d.name).join(', ')}`);
    }
    const selection = selectRun(ALL_CASES, { cases: args.cases, tags: args.tags, slow: args.slow });
    cases = selection.cases;
    slowNotRun = selection.slowNotRun.map((c) => c.meta.id);
    if (args.expectedFailures) expectedFailures = loadExpectedFailures(args.expectedFailures, ALL_CASES.map((c) => c.meta.id));
    // Checked before any case runs: a missing browser must not cost a whole run.
    if (args.pdf && !findChromium()) throw new UsageError(CHROMIUM_MISSING);
    outDir = prepareOutDir(args.out);
  } catch (e) {
    if (e instanceof ProfileError || e instanceof UsageError) {
      err.write(`${chalk.red('error:')} ${e.message}\n`);
      return EXIT.USAGE;
    }
    throw e;
  }

  const abort = new AbortController();
  const events: ResultEvent[] = [];
  const paint = (v: string, s: string) => (v === 'pass' ? chalk.green(s) : v === 'fail' ? chalk.red(s) : v === 'error' ? chalk.magenta(s) : v === 'inconclusive' ? chalk.yellow(s) : chalk.gray(s));
  const live = new LiveStatus(out, paint);
  // A write that fails mid-run (a full disk) ends the run as an interrupt does: the case
  // stops, the device is stopped, its secrets removed, and what can still be written is.
  let writeFailure: string | undefined;
  const stopForWriteFailure = (file: string, e: Error) => {
    if (writeFailure !== undefined) return;
    writeFailure = `could not write ${file}: ${e.message}`;
    live.stop();
    err.write(`\n${chalk.magenta('harness error:')} ${writeFailure}: stopping the running case, stopping the device, writing the reports that can still be written\n`);
    // Into the in-memory record only (the log is what failed), so every other report says it.
    events.push({ type: 'note', caseId: null, source: 'harness', text: `${writeFailure}; the run was stopped there`, monoNs: process.hrtime.bigint().toString() });
    abort.abort();
  };
  // Per-case device state lives beside the reports while the case runs, then is removed.
  const workDir = join(outDir, '.work');
  let log: EventLog;
  try {
    log = new EventLog(outDir, { onWriteError: (e) => stopForWriteFailure(join(outDir, EVENT_LOG_NAME), e) });
    mkdirSync(workDir, { recursive: true });
  } catch (e) {
    // Nothing has started yet: there is nothing to stop and no report to write.
    err.write(`${chalk.magenta('harness error:')} could not start the report in ${outDir}: ${(e as Error).message}\n`);
    return EXIT.ERROR;
  }
  const emit = (e: ResultEvent) => {
    events.push(e);
    log.append(e);
    if (e.type === 'verdict') live.caseEnded(e);
  };

  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals += 1;
    if (signals === 1) {
      live.stop();
      err.write(`\n${sig}: stopping the running case, stopping the device, writing the report of the cases that finished (again to force quit)\n`);
      abort.abort();
    } else process.exit(EXIT.ERROR);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const simulatorOpts = { defect: args.defect ?? null, persistRegistration: args.persistRegistration ?? false };
  const createAdapter = () => (profile.adapter.kind === 'simulator' ? createSimulatorAdapter(profile, simulatorOpts) : createProfileAdapter(profile));
  let exitCode: number = EXIT.ERROR;
  // In memory only; written to its own file at the end, never into an event.
  const keylog = args.keylog ? new DtlsKeyLog() : undefined;
  try {
    const summary = await withDtlsKeyLog(keylog, () => runSuite({
      cases,
      profile,
      defect: args.defect ?? null,
      createAdapter,
      emit,
      signal: abort.signal,
      strict: args.strict,
      workDir,
      onCaseStart: (c) => live.caseStarted(c),
      slowNotRun,
      expectedFailures,
    }));
    exitCode = summary.exitCode;
  } catch (e) {
    live.stop();
    err.write(`${chalk.magenta('harness error:')} ${(e as Error)?.message ?? String(e)}\n`);
    exitCode = EXIT.ERROR;
  } finally {
    live.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    rmSync(workDir, { recursive: true, force: true });
  }

  // A failed event log is a torn prefix of the run: the manifest must not vouch for it.
  const reports = await writeRunReports({ events, outDir, eventLogFile: log.failure ? undefined : log.file, keylog, pdf: args.pdf ?? false, err });
  if (reports.failed || writeFailure !== undefined) exitCode = Math.max(exitCode, EXIT.ERROR);
  if (writeFailure !== undefined) err.write(`${chalk.magenta('harness error:')} ${writeFailure}\n`);
  out.write('\n' + renderSummary(reports.results, { color, reportPaths: reports.paths }) + '\n');
  return exitCode;
}

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
  const listed = [input.eventLogFile, wrote.results, wrote.junit, wrote.html, wrote.pdf, capture?.file, keylogFile].filter((f): f is string => f !== undefined && existsSync(f));
  const manifest = await attempt(join(outDir, MANIFEST_NAME), () => writeManifest(outDir, listed));

  const paths: Record<string, string> = {};
  if (input.eventLogFile) paths['event log'] = input.eventLogFile;
  if (wrote.results) paths['results'] = wrote.results;
  if (wrote.junit) paths['junit'] = wrote.junit;
  if (wrote.html) paths['html'] = wrote.html;
  if (wrote.pdf) paths['pdf'] = wrote.pdf;
  if (capture) {
    paths['capture'] = capture.file;
    if (capture.hint) paths['decode with'] = capture.hint;
  }
  if (keylogFile) paths['DTLS key log (SECRETS)'] = keylogFile;
  if (manifest) paths['manifest'] = manifest;
  return { results, paths, failed };
}
