/**
 * `geisa-adm run`: load the profile, pick the cases, run them, and always leave a report
 * behind — the event log as the run goes; results.json, JUnit, HTML (PDF with --pdf), the
 * capture, the manifest and the console summary at the end (writeRunReports), also when
 * the run is interrupted or the harness itself fails.
 *
 * Cases run up to --jobs at once where the device allows it (profile adapter.parallel).
 * With several --dut profiles the suite runs against all of them at the same time, each
 * device with its own cases in its own order and its own report folder under --out, and
 * an interop matrix (device × case) on top, made from the devices' results.json.
 */
import { getMaxListeners, setMaxListeners } from 'node:events';
import { mkdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Chalk, type ChalkInstance } from 'chalk';
import type { ResultEvent } from '../events/events.js';
import { type Profile, loadProfile, defaultSimulatorProfile, ProfileError } from '../profile/load.js';
import { createProfileAdapter } from '../dut/mixed-adapter.js';
import { createSimulatorAdapter } from '../../fixtures/simulator/simulator-adapter.js';
import { EVENT_LOG_NAME, EventLog } from '../reports/event-log.js';
import { foldEvents } from '../reports/run-record.js';
import { writeManifest } from '../reports/manifest.js';
import { buildResults } from '../reports/results.js';
import { CHROMIUM_MISSING, findChromium } from '../reports/pdf.js';
import { DtlsKeyLog, withDtlsKeyLog } from '../recorder/keylog.js';
import { renderSummary, colorWanted } from '../reports/console-summary.js';
import { runSuite } from '../runner/runner.js';
import { PortBlock, PortBlockError, portsPerLane } from '../runner/port-block.js';
import type { ConformanceCase } from '../runner/case.js';
import { buildInteropMatrix, writeInteropMatrix } from '../reports/interop-matrix.js';
import { EXIT } from '../runner/exit-code.js';
import { ALL_CASES } from '../../suites/index.js';
import { DEFECTS } from '../../fixtures/device/defects.js';
import { selectRun, UsageError } from './select.js';
import { prepareOutDir } from './out-dir.js';
import { type ExpectedFailures, loadExpectedFailures } from './expected-failures.js';
import { LiveStatus } from './live-status.js';
import { describeShard, parseShard, shardCases } from './shard.js';
import { writeRunReports, type RunReportOutput } from './run-reports.js';

export { writeRunReports, type RunReportInput, type RunReportOutput } from './run-reports.js';

export interface RunArgs {
  /** DUT profile files; none: the bundled reference device; several: one report folder each and an interop matrix. */
  dut?: string | readonly string[];
  /**
   * Cases in flight at once per device; default: the profile's adapter.parallel. Above what
   * the profile allows it is lowered to that, with a note (never an error: with several
   * devices one --jobs applies to each of them).
   */
  jobs?: number;
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
  /** `k/n`: run only the k-th of n disjoint parts of the selection (see shard.ts). */
  shard?: string;
  /** Write the DTLS sessions' keys (SECRETS-dtls-keylog.txt) so Wireshark can decrypt the capture. */
  keylog?: boolean;
  /** Also print report.html to report.pdf with Chromium. */
  pdf?: boolean;
  /** First port of the run's server port block (default: a free block at random); see port-block.ts. */
  portBase?: number;
}

export function loadRunProfile(dut: string | undefined): Profile {
  return dut ? loadProfile(dut) : defaultSimulatorProfile();
}

/** How many cases of this device run at once: --jobs, never more than the profile allows. */
export function jobsFor(profile: Profile, asked: number | undefined): { jobs: number; note?: string } {
  const allowed = profile.adapter.parallel;
  if (asked === undefined) return { jobs: allowed };
  if (asked <= allowed) return { jobs: asked };
  const why = profile.adapter.kind === 'manual' || profile.adapter.kind === 'mixed' ? `its adapter is ${profile.adapter.kind}` : `adapter.parallel is ${allowed}`;
  return { jobs: allowed, note: `--jobs ${asked} is more than profile ${profile.source} allows (${why}): running ${allowed} ${allowed === 1 ? 'case' : 'cases'} at once` };
}

/** One device of a run: its profile, its report folder, how many cases at once. */
interface DeviceRun {
  /** Its folder name under --out when the run has several devices; undefined for a single device. */
  label: string | undefined;
  profile: Profile;
  outDir: string;
  jobs: number;
  /** Where its cases' servers listen (reserved before any case runs). */
  ports?: PortBlock;
}

/**
 * A folder name per device, after its profile file (or, where two files share a name, its
 * endpoint too): only characters safe in a path and a URL, never hidden, never a clash.
 */
export function deviceFolders(profiles: readonly Profile[]): string[] {
  const clean = (s: string) =>
    s
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .replace(/^[._]+/, '')
      .slice(0, 80) || 'device';
  const base = profiles.map((p) => clean(basename(p.source).replace(/\.(ya?ml|json)$/i, '')));
  const named = base.map((b, i) => (base.filter((x) => x === b).length > 1 ? clean(`${b}-${profiles[i]!.dut.endpoint}`) : b));
  const taken = new Set<string>();
  return named.map((n) => {
    let name = n;
    for (let k = 2; taken.has(name); k += 1) name = `${n}-${k}`;
    taken.add(name);
    return name;
  });
}

/** Several devices in one process: they must not fight over ports or over the operator. */
function checkDevicesTogether(profiles: readonly Profile[]): void {
  const ports = new Map<number, string>();
  for (const p of profiles) {
    for (const port of [p.harness.bootstrapPort, p.harness.serverPort]) {
      if (port === 0) continue;
      const other = ports.get(port);
      if (other !== undefined) throw new UsageError(`profiles ${other} and ${p.source} both fix harness port ${port}: devices run at the same time, so give each its own port (or 0, OS-chosen)`);
      ports.set(port, p.source);
    }
  }
  const operated = profiles.filter((p) => Object.values(p.adapter.actions).some((a) => a?.type === 'manual'));
  if (operated.length > 1) {
    throw new UsageError(`${operated.map((p) => p.source).join(' and ')} all have manual actions: devices run at the same time and one terminal cannot serve two operators; run them one by one`);
  }
}

export async function runCommand(args: RunArgs, out: NodeJS.WriteStream = process.stdout, err: NodeJS.WriteStream = process.stderr): Promise<number> {
  const color = colorWanted(out);
  const chalk = new Chalk({ level: color ? 1 : 0 });
  let devices: DeviceRun[];
  let cases;
  let slowNotRun: string[] = [];
  let expectedFailures: ExpectedFailures | undefined;
  let outDir: string;
  const jobNotes: string[] = [];
  const runNotes: string[] = [];
  try {
    const duts = args.dut === undefined ? [] : typeof args.dut === 'string' ? [args.dut] : [...args.dut];
    if (args.jobs !== undefined && !(Number.isInteger(args.jobs) && args.jobs >= 1)) throw new UsageError(`--jobs must be a whole number >= 1, got ${args.jobs}`);
    if (args.portBase !== undefined && !(Number.isInteger(args.portBase) && args.portBase >= 1 && args.portBase <= 65535)) throw new UsageError(`--port-base must be a UDP port (1-65535), got ${args.portBase}`);
    // Before any profile is read: a malformed --shard is the cheapest mistake to report.
    const shard = args.shard === undefined ? undefined : parseShard(args.shard);
    const profiles = duts.length === 0 ? [loadRunProfile(undefined)] : loadProfiles(duts);
    if (args.defect) {
      for (const profile of profiles) {
        if (profile.adapter.kind !== 'simulator') throw new UsageError(`--defect applies only to the bundled reference device, but profile ${profile.source} uses adapter '${profile.adapter.kind}'`);
      }
      if (!DEFECTS.some((d) => d.name === args.defect)) throw new UsageError(`unknown --defect '${args.defect}'; known: ${DEFECTS.map((d) => d.name).join(', ')}`);
    }
    if (profiles.length > 1) checkDevicesTogether(profiles);
    const selection = selectRun(ALL_CASES, { cases: args.cases, tags: args.tags, slow: args.slow });
    cases = selection.cases;
    if (shard) {
      const picked = shardCases(cases, shard);
      runNotes.push(describeShard(shard, picked, cases.length));
      cases = picked;
    }
    slowNotRun = selection.slowNotRun.map((c) => c.meta.id);
    if (args.expectedFailures)
      expectedFailures = loadExpectedFailures(
        args.expectedFailures,
        ALL_CASES.map((c) => c.meta.id),
      );
    // Checked before any case runs: a missing browser must not cost a whole run.
    if (args.pdf && !findChromium()) throw new UsageError(CHROMIUM_MISSING);
    outDir = prepareOutDir(args.out);
    const folders = profiles.length > 1 ? deviceFolders(profiles) : [undefined];
    devices = profiles.map((profile, i) => {
      const { jobs, note } = jobsFor(profile, args.jobs);
      if (note) jobNotes.push(note);
      const label = folders[i];
      return { label, profile, outDir: label === undefined ? outDir : prepareOutDir(join(outDir, label)), jobs };
    });
  } catch (e) {
    if (e instanceof ProfileError || e instanceof UsageError) {
      err.write(`${chalk.red('error:')} ${e.message}\n`);
      return EXIT.USAGE;
    }
    throw e;
  }

  // Every server port of a device from one block, reserved before any case runs; with
  // several devices the blocks follow each other from --port-base.
  const blocks: PortBlock[] = [];
  try {
    let next = args.portBase;
    const fixed = devices.flatMap((d) => [d.profile.harness.bootstrapPort, d.profile.harness.serverPort]).filter((p) => p !== 0);
    for (const d of devices) {
      const block = await PortBlock.reserve({ address: d.profile.harness.listenAddress, perLane: portsPerLane(d.jobs), exclude: fixed, ...(next !== undefined ? { base: next } : {}) });
      blocks.push(block);
      d.ports = block;
      if (next !== undefined) next = block.last + 1;
    }
  } catch (e) {
    await Promise.all(blocks.map((b) => b.release()));
    if (e instanceof PortBlockError) {
      err.write(`${chalk.red('error:')} ${e.message}\n`);
      return EXIT.USAGE;
    }
    throw e;
  }

  const abort = new AbortController();
  const paint = (v: string, s: string) => (v === 'pass' ? chalk.green(s) : v === 'fail' ? chalk.red(s) : v === 'error' ? chalk.magenta(s) : v === 'inconclusive' ? chalk.yellow(s) : chalk.gray(s));
  const live = new LiveStatus(out, paint);
  const several = devices.length > 1 || devices[0]!.jobs > 1;
  const plural = (word: string) => (several ? `${word}s` : word);
  for (const note of jobNotes) err.write(`${chalk.yellow('note:')} ${note}\n`);
  // Every device's suite listens on the one signal, each case in flight too.
  if (devices.length > 1) setMaxListeners(getMaxListeners(abort.signal) + devices.length * 4, abort.signal);
  // A write that fails mid-run (a full disk) ends the run as an interrupt does: the cases
  // stop, the devices are stopped, their secrets removed, and what can still be written is.
  let writeFailure: string | undefined;
  const failedWrites = new Map<DeviceRun, string>();
  const stopForWriteFailure = (device: DeviceRun, file: string, e: Error) => {
    if (writeFailure !== undefined) return;
    writeFailure = `could not write ${file}: ${e.message}`;
    failedWrites.set(device, writeFailure);
    live.stop();
    err.write(`\n${chalk.magenta('harness error:')} ${writeFailure}: stopping the running ${plural('case')}, stopping the ${plural('device')}, writing the reports that can still be written\n`);
    abort.abort();
  };

  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals += 1;
    if (signals === 1) {
      live.stop();
      err.write(`\n${sig}: stopping the running ${plural('case')}, stopping the ${plural('device')}, writing the report of the cases that finished (again to force quit)\n`);
      abort.abort();
    } else process.exit(EXIT.ERROR);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const runOne = (device: DeviceRun) =>
    runDevice(device, {
      cases,
      notes: runNotes,
      slowNotRun,
      expectedFailures,
      args,
      signal: abort.signal,
      live,
      err,
      chalk,
      onWriteFailure: (file, e) => stopForWriteFailure(device, file, e),
      writeFailure: () => failedWrites.get(device),
    });
  let finished: DeviceOutcome[];
  try {
    // Each device at its own pace: one that hangs holds up only its own cases (each bounded
    // by its budget), and every device's reports are written as soon as its suite ends.
    finished = await Promise.all(devices.map(runOne));
  } finally {
    live.stop();
    await Promise.all(blocks.map((b) => b.release()));
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  let exitCode = Math.max(...finished.map((f) => f.exitCode));
  if (writeFailure !== undefined) err.write(`${chalk.magenta('harness error:')} ${writeFailure}\n`);

  if (devices.length === 1) {
    const only = finished[0]!;
    // Its report folder could not even be started: nothing ran, there is nothing to sum up.
    if (!only.started) return exitCode;
    out.write('\n' + renderSummary(only.reports.results, { color, reportPaths: only.reports.paths }) + '\n');
    return exitCode;
  }
  for (const f of finished) {
    out.write(`\n${chalk.bold(`== ${f.device.label}`)}: ${f.device.profile.dut.name} (${f.device.profile.source}), ${f.device.jobs} at once, exit ${f.exitCode}\n`);
    out.write(renderSummary(f.reports.results, { color, reportPaths: f.reports.paths }) + '\n');
  }
  const matrix = buildInteropMatrix(
    finished.map((f) => ({ folder: f.device.label!, dir: f.device.outDir, exitCode: f.exitCode, jobs: f.device.jobs, results: f.reports.paths['results'] ? f.reports.results : null })),
    ALL_CASES.map((c) => c.meta.id),
    exitCode,
  );
  try {
    const files = writeInteropMatrix(matrix, outDir);
    const manifest = writeManifest(outDir, [files.json, files.html]);
    out.write(`\n${chalk.bold('interop matrix')} (${matrix.devices.length} devices × ${matrix.cases.length} cases): ${files.html}\n  json: ${files.json}\n  manifest: ${manifest}\n`);
    for (const d of matrix.devices) out.write(`  ${d.folder.padEnd(24)} exit ${d.exitCode}  ${d.counts.pass} pass, ${d.counts.fail} fail, ${d.counts.error} error, ${d.counts.inconclusive} inconclusive, ${d.counts['not-applicable']} n/a\n`);
  } catch (e) {
    err.write(`could not write the interop matrix in ${outDir}: ${(e as Error).message}\n`);
    exitCode = Math.max(exitCode, EXIT.ERROR);
  }
  return exitCode;
}

/** The run note naming the block, so a report says which range to open or decode. */
export function describeBlock(b: PortBlock): string {
  const plain = b.range('plain');
  const dtls = b.range('dtls');
  const moved = b.moves.length ? ` (moved from ${b.moves.join('; ')})` : '';
  return `the fake servers listened on UDP ports ${b.first}-${b.last} of ${b.address}${moved}: CoAP and DNS-SD on ${plain.low}-${plain.high}, DTLS on ${dtls.low}-${dtls.high}, except ports the profile fixes`;
}

/** Every profile read, every problem of every file reported at once. */
function loadProfiles(files: readonly string[]): Profile[] {
  const profiles: Profile[] = [];
  const problems: string[] = [];
  for (const file of files) {
    try {
      profiles.push(loadProfile(file));
    } catch (e) {
      if (!(e instanceof ProfileError)) throw e;
      problems.push(e.message);
    }
  }
  if (problems.length) throw new UsageError(problems.join('\n'));
  return profiles;
}

interface DeviceOutcome {
  device: DeviceRun;
  /** false: its report folder could not be started, so no case ran. */
  started: boolean;
  exitCode: number;
  reports: RunReportOutput;
}

interface DeviceContext {
  cases: ConformanceCase[];
  notes: readonly string[];
  slowNotRun: string[];
  expectedFailures: ExpectedFailures | undefined;
  args: RunArgs;
  signal: AbortSignal;
  live: LiveStatus;
  err: NodeJS.WriteStream;
  chalk: ChalkInstance;
  onWriteFailure: (file: string, e: Error) => void;
  /** Set once a write of this device failed: the message for its reports. */
  writeFailure: () => string | undefined;
}

/** The suite against one device, then its reports: the whole of a single-device run. */
async function runDevice(device: DeviceRun, ctx: DeviceContext): Promise<DeviceOutcome> {
  const { profile, outDir, label } = device;
  const { args, chalk, err, live } = ctx;
  const events: ResultEvent[] = [];
  const who = label === undefined ? '' : `${label}: `;
  // Per-case device state lives beside the reports while the case runs, then is removed.
  const workDir = join(outDir, '.work');
  let log: EventLog;
  try {
    log = new EventLog(outDir, {
      onWriteError: (e) => {
        const file = join(outDir, EVENT_LOG_NAME);
        // Into the in-memory record only (the log is what failed), so every other report says it.
        events.push({ type: 'note', caseId: null, source: 'harness', text: `could not write ${file}: ${e.message}; the run was stopped there`, monoNs: process.hrtime.bigint().toString() });
        ctx.onWriteFailure(file, e);
      },
    });
    mkdirSync(workDir, { recursive: true });
  } catch (e) {
    // Nothing has started yet: there is nothing to stop and no report to write.
    err.write(`${chalk.magenta('harness error:')} ${who}could not start the report in ${outDir}: ${(e as Error).message}\n`);
    return { device, started: false, exitCode: EXIT.ERROR, reports: { results: buildResults(foldEvents([])), paths: {}, failed: true } };
  }
  const emit = (e: ResultEvent) => {
    events.push(e);
    log.append(e);
    if (e.type === 'verdict') live.caseEnded(e, label);
  };

  const simulatorOpts = { defect: args.defect ?? null, persistRegistration: args.persistRegistration ?? false };
  const createAdapter = () => (profile.adapter.kind === 'simulator' ? createSimulatorAdapter(profile, simulatorOpts) : createProfileAdapter(profile));
  let exitCode: number = EXIT.ERROR;
  // In memory only; written to its own file at the end, never into an event. Per device:
  // the collection follows the async context each device's suite runs in.
  const keylog = args.keylog ? new DtlsKeyLog() : undefined;
  try {
    const summary = await withDtlsKeyLog(keylog, () =>
      runSuite({
        cases: ctx.cases,
        profile,
        defect: args.defect ?? null,
        createAdapter,
        emit,
        signal: ctx.signal,
        strict: args.strict,
        workDir,
        onCaseStart: (c) => live.caseStarted(c, label),
        onCasePause: (id, awaiting) => live.casePaused(id, awaiting, label),
        slowNotRun: ctx.slowNotRun,
        expectedFailures: ctx.expectedFailures,
        jobs: device.jobs,
        notes: device.ports ? [...ctx.notes, describeBlock(device.ports)] : ctx.notes,
        ...(device.ports ? { ports: device.ports } : {}),
      }),
    );
    exitCode = summary.exitCode;
  } catch (e) {
    live.stop();
    err.write(`${chalk.magenta('harness error:')} ${who}${(e as Error)?.message ?? String(e)}\n`);
    exitCode = EXIT.ERROR;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }

  // A failed event log is a torn prefix of the run: the manifest must not vouch for it.
  const reports = await writeRunReports({ events, outDir, eventLogFile: log.failure ? undefined : log.file, keylog, pdf: args.pdf ?? false, err });
  if (reports.failed || ctx.writeFailure() !== undefined || log.failure) exitCode = Math.max(exitCode, EXIT.ERROR);
  return { device, started: true, exitCode, reports };
}
