/**
 * `geisa-adm run`: load the profile, pick the cases, run them, and always leave a report
 * behind — the event log as the run goes, JUnit and the console summary at the end, also
 * when the run is interrupted or the harness itself fails.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Chalk } from 'chalk';
import type { ResultEvent } from '../results/events.js';
import { type Profile, loadProfile, defaultSimulatorProfile, ProfileError } from '../profile/load.js';
import { createProfileAdapter } from '../dut/mixed-adapter.js';
import { createSimulatorAdapter } from '../dut/simulator-adapter.js';
import { EventLog } from '../reports/event-log.js';
import { foldEvents } from '../reports/run-record.js';
import { writeJunit } from '../reports/junit.js';
import { writeManifest } from '../reports/manifest.js';
import { renderSummary, colorWanted } from '../reports/console-summary.js';
import { runSuite } from '../runner/runner.js';
import { EXIT } from '../runner/exit-code.js';
import { ALL_CASES } from '../../suites/index.js';
import { DEFECTS } from '../../fixtures/device/defects.js';
import { selectCases, UsageError } from './select.js';
import { LiveStatus } from './live-status.js';

export interface RunArgs {
  dut?: string;
  cases?: string;
  tags?: string[];
  out: string;
  defect?: string;
  persistRegistration?: boolean;
  strict: boolean;
}

export function loadRunProfile(dut: string | undefined): Profile {
  return dut ? loadProfile(dut) : defaultSimulatorProfile();
}

export async function runCommand(args: RunArgs, out: NodeJS.WriteStream = process.stdout, err: NodeJS.WriteStream = process.stderr): Promise<number> {
  const color = colorWanted(out);
  const chalk = new Chalk({ level: color ? 1 : 0 });
  let profile: Profile;
  let cases;
  try {
    profile = loadRunProfile(args.dut);
    if (args.defect) {
      if (profile.adapter.kind !== 'simulator') throw new UsageError(`--defect applies only to the bundled reference device, but profile ${profile.source} uses adapter '${profile.adapter.kind}'`);
      if (!DEFECTS.some((d) => d.name === args.defect)) throw new UsageError(`unknown --defect '${args.defect}'; known: ${DEFECTS.map((d) => d.name).join(', ')}`);
    }
    cases = selectCases(ALL_CASES, args.cases, args.tags);
  } catch (e) {
    if (e instanceof ProfileError || e instanceof UsageError) {
      err.write(`${chalk.red('error:')} ${e.message}\n`);
      return EXIT.USAGE;
    }
    throw e;
  }

  const outDir = resolve(args.out);
  mkdirSync(outDir, { recursive: true });
  const log = new EventLog(outDir);
  // Per-case device state lives beside the reports while the case runs, then is removed.
  const workDir = join(outDir, '.work');
  mkdirSync(workDir, { recursive: true });
  const events: ResultEvent[] = [];
  const paint = (v: string, s: string) => (v === 'pass' ? chalk.green(s) : v === 'fail' ? chalk.red(s) : v === 'error' ? chalk.magenta(s) : v === 'inconclusive' ? chalk.yellow(s) : chalk.gray(s));
  const live = new LiveStatus(out, paint);
  const emit = (e: ResultEvent) => {
    events.push(e);
    log.append(e);
    if (e.type === 'verdict') live.caseEnded(e);
  };

  const abort = new AbortController();
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
  try {
    const summary = await runSuite({
      cases,
      profile,
      defect: args.defect ?? null,
      createAdapter,
      emit,
      signal: abort.signal,
      strict: args.strict,
      workDir,
      onCaseStart: (c) => live.caseStarted(c),
    });
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

  const run = foldEvents(events);
  const junitFile = join(outDir, 'junit.xml');
  try {
    writeJunit(run, junitFile);
  } catch (e) {
    err.write(`could not write ${junitFile}: ${(e as Error).message}\n`);
    exitCode = Math.max(exitCode, EXIT.ERROR);
  }
  let manifest = '';
  try {
    manifest = writeManifest(outDir, [log.file, junitFile].filter((f) => existsSync(f)));
  } catch (e) {
    err.write(`could not write the integrity manifest: ${(e as Error).message}\n`);
    exitCode = Math.max(exitCode, EXIT.ERROR);
  }
  out.write('\n' + renderSummary(run, { color, reportPaths: { 'event log': log.file, junit: junitFile, ...(manifest ? { manifest } : {}) } }) + '\n');
  return exitCode;
}
