#!/usr/bin/env node
/**
 * geisa-adm: the command line. Wiring only; each command lives in harness/cli/ (the suite)
 * or fixtures/device/ (the reference device). A wrong flag is a usage error (exit 2)
 * with a message naming it; nothing ends in a stack trace.
 */
import { UsageError } from '../harness/cli/select.js';
import { EXIT } from '../harness/runner/exit-code.js';

// Each command loads its own modules, in its handler: `--help` loads nothing but yargs.
// The reference device is started twice per case (provision, run), so `device` does not
// even load yargs: fixtures/device/cli.ts parses its few flags itself.

function fatal(e: unknown): never {
  process.stderr.write(`geisa-adm: ${(e as Error)?.message ?? String(e)}\n`);
  process.exit(EXIT.ERROR);
}

process.on('unhandledRejection', fatal);
process.on('uncaughtException', fatal);

const args = process.argv.slice(2);
if (args[0] === 'device') {
  const { deviceCli } = await import('../fixtures/device/cli.js');
  process.exitCode = await deviceCli(args.slice(1));
} else {
  await suiteCli(args);
}

async function suiteCli(args: string[]): Promise<void> {
  const { default: yargs } = await import('yargs');
  await yargs(args)
    .scriptName('geisa-adm')
    .strict()
    .command(
      ['run', '$0'],
      'run the conformance suite (default: against the bundled reference device)',
      (y) =>
        y
          .option('dut', {
            type: 'string',
            array: true,
            describe: 'DUT profile (YAML or JSON); default: the bundled reference device. Repeat for several devices at once: one report folder each under --out, plus matrix.html and matrix.json',
          })
          .option('jobs', {
            type: 'number',
            describe: "cases in flight at once per device (default: the profile's adapter.parallel; 6 for the bundled device, 1 for manual adapters); more than the profile allows is lowered to it, with a note",
          })
          .option('cases', { type: 'string', describe: "case ids or globs, comma-separated; !GLOB excludes (e.g. 'TC-*,!TC-SEC-*'); an exact id also runs a slow case" })
          .option('shard', {
            type: 'string',
            describe: 'k/n: run only the k-th of n disjoint parts of the selected cases (round robin over the sorted ids), for a CI matrix; join the parts with `geisa-adm merge`',
          })
          .option('tags', { type: 'string', describe: "only cases carrying all these tags, comma-separated; !TAG excludes (e.g. 'dtls,!certificate')" })
          .option('slow', { type: 'boolean', default: false, describe: "also run cases tagged 'slow' (spec-default timers; left out by default)" })
          .option('expected-failures', {
            type: 'string',
            describe: "file of known failures, one 'TC-ID  reason' per line (# comments): they do not fail the run; a listed case that passes is reported stale (exit 1 with --strict)",
          })
          .option('out', { type: 'string', default: 'reports', describe: 'report directory' })
          .option('defect', { type: 'string', describe: 'reference device only: switch on one seeded defect (see `geisa-adm device --help`)' })
          .option('persist-registration', { type: 'boolean', default: false, describe: 'reference device only: keep the registration across restarts' })
          .option('strict', { type: 'boolean', default: false, describe: 'also exit 1 on an advisory or an inconclusive' })
          .option('keylog', {
            type: 'boolean',
            default: false,
            describe: 'also write SECRETS-dtls-keylog.txt: the DTLS session keys (NSS key log) that let Wireshark decrypt capture.pcapng; it holds secrets',
          })
          .option('port-base', {
            type: 'number',
            describe: "first UDP port of the run's server ports (one contiguous block; default: a free block chosen at random in 20000-32000), for a lab whose firewall admits one range; a port the profile fixes is kept",
          })
          .option('pdf', { type: 'boolean', default: false, describe: 'also print report.html to report.pdf (needs Chromium)' }),
      async (a) => {
        const { runCommand } = await import('../harness/cli/run-command.js');
        const code = await runCommand({
          dut: a.dut,
          jobs: a.jobs,
          cases: a.cases,
          tags: a.tags
            ?.split(',')
            .map((s) => s.trim())
            .filter(Boolean),
          slow: a.slow,
          expectedFailures: a['expected-failures'],
          out: a.out,
          defect: a.defect,
          persistRegistration: a['persist-registration'],
          strict: a.strict,
          keylog: a.keylog,
          pdf: a.pdf,
          shard: a.shard,
          ...(a['port-base'] !== undefined ? { portBase: a['port-base'] } : {}),
        });
        process.exitCode = code;
      },
    )
    .command(
      'report <results>',
      'render the reports of a finished run again from its results.json (default: JUnit and HTML)',
      (y) =>
        y
          .positional('results', { type: 'string', demandOption: true, describe: 'results.json of a run' })
          .option('out', { type: 'string', describe: 'directory to write to (default: the one results.json is in)' })
          .option('junit', { type: 'boolean', default: false, describe: 'write junit.xml' })
          .option('html', { type: 'boolean', default: false, describe: 'write report.html' })
          .option('pdf', { type: 'boolean', default: false, describe: 'write report.pdf (needs Chromium)' }),
      async (a) => {
        const { reportCommand } = await import('../harness/cli/report-command.js');
        process.exitCode = await reportCommand({ results: a.results as string, out: a.out, junit: a.junit, html: a.html, pdf: a.pdf });
      },
    )
    .command(
      'merge <dirs..>',
      'join the results.json of the shards of one run (--shard k/n) into one, and render JUnit, HTML and the manifest from it; the shards must share tool version, catalog and profile, and no case may be in two',
      (y) =>
        y
          .positional('dirs', { type: 'string', array: true, demandOption: true, describe: "the shards' report folders (each holding results.json)" })
          .option('out', { type: 'string', default: 'reports', describe: 'folder to write the merged reports to' }),
      async (a) => {
        const { mergeCommand } = await import('../harness/cli/merge-command.js');
        process.exitCode = await mergeCommand({ dirs: (a.dirs ?? []) as string[], out: a.out });
      },
    )
    .command(
      'list',
      'list the cases: id, strength, ICS key, requirement ids, tags (with --dut: which apply)',
      (y) =>
        y
          .option('json', { type: 'boolean', default: false })
          .option('dut', { type: 'string', describe: 'DUT profile: also show which cases its ICS makes applicable' })
          .option('cases', { type: 'string', describe: 'case ids or globs, comma-separated; !GLOB excludes' })
          .option('tags', { type: 'string', describe: 'only cases carrying all these tags; !TAG excludes' }),
      async (a) => {
        // The profile loader (ajv, yaml) only when a profile is named.
        const profileModule = a.dut ? await import('../harness/profile/load.js') : undefined;
        const { listCases } = await import('../harness/cli/list-command.js');
        const { selectCases } = await import('../harness/cli/select.js');
        const { ALL_CASES } = await import('../suites/index.js');
        try {
          const profile = a.dut ? profileModule!.loadProfile(a.dut) : undefined;
          const cases = selectCases(ALL_CASES, a.cases, a.tags);
          process.stdout.write(listCases(cases, { json: a.json, profile }) + '\n');
        } catch (e) {
          if (!(profileModule && e instanceof profileModule.ProfileError) && !(e instanceof UsageError)) throw e;
          process.stderr.write(`error: ${e.message}\n`);
          process.exitCode = EXIT.USAGE;
        }
      },
    )
    .command(
      'selftest',
      'self-validation: the reference device, and each seeded defect against the cases it declares to break and to leave alone, as a defect × case table; exit 0 only if every break is killed, nothing else is touched and the reference passes',
      (y) =>
        y
          .option('full', { type: 'boolean', default: false, describe: 'every defect × every case (long: outside CI); undeclared cells are shown, not judged' })
          .option('cases', { type: 'string', describe: 'only these cases (ids or globs, !GLOB excludes)' })
          .option('tags', { type: 'string', describe: 'only cases carrying all these tags (!TAG excludes)' })
          .option('defects', { type: 'string', describe: "only these defects (names or globs, !GLOB excludes, e.g. 'no-*,!no-ccm8')" })
          .option('concurrency', { type: 'number', describe: 'cells run at once, each with its own servers and device (default 6)' })
          .option('reference', { type: 'boolean', default: true, describe: 'run the conformant reference-device row (--no-reference skips it)' })
          .option('json', { type: 'boolean', default: false, describe: 'print the matrix as JSON' })
          .option('out', { type: 'string', describe: 'also write matrix.json into this directory' }),
      async (a) => {
        const { selftestCommand } = await import('../harness/cli/selftest-command.js');
        process.exitCode = await selftestCommand({
          full: a.full,
          cases: a.cases,
          tags: a.tags,
          defects: a.defects,
          concurrency: a.concurrency,
          noReference: !a.reference,
          json: a.json,
          out: a.out,
        });
      },
    )
    .command(
      'verify <dir>',
      'check a report directory against its integrity manifest (manifest.sha256)',
      (y) => y.positional('dir', { type: 'string', demandOption: true }),
      async (a) => {
        const { ManifestError, verifyManifest } = await import('../harness/reports/manifest.js');
        try {
          const r = verifyManifest(a.dir as string);
          for (const f of r.changed) process.stdout.write(`CHANGED  ${f}\n`);
          for (const f of r.missing) process.stdout.write(`MISSING  ${f}\n`);
          for (const f of r.withheld) process.stdout.write(`WITHHELD ${f} (a secrets file, removed before sharing: not checked)\n`);
          const bad = r.changed.length + r.missing.length;
          process.stdout.write(bad ? `${bad} of ${r.checked} report files do not match the manifest\n` : `all ${r.checked} report files match the manifest\n`);
          process.exitCode = bad ? EXIT.FAILED : EXIT.OK;
        } catch (e) {
          if (!(e instanceof ManifestError)) throw e;
          process.stderr.write(`error: ${e.message}\n`);
          process.exitCode = EXIT.USAGE;
        }
      },
    )
    // Never reached: `device` is dispatched above; listed here for `geisa-adm --help`.
    .command('device', 'the bundled reference device (a real LwM2M 1.2 client): provision, run; `geisa-adm device --help` for more')
    .fail((msg, e) => {
      if (e) fatal(e);
      process.stderr.write(`geisa-adm: ${msg}\nRun 'geisa-adm --help' for usage.\n`);
      process.exit(EXIT.USAGE);
    })
    .help()
    .parseAsync();
}
