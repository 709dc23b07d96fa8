#!/usr/bin/env node
/**
 * geisa-adm: the command line. Wiring only; each command lives in harness/cli/ (the suite)
 * or fixtures/device/ (the reference device). A wrong flag is a usage error (exit 2)
 * with a message naming it; nothing ends in a stack trace.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { runCommand } from '../harness/cli/run-command.js';
import { listCases } from '../harness/cli/list-command.js';
import { EXIT } from '../harness/runner/exit-code.js';
import { loadProfile, ProfileError } from '../harness/profile/load.js';
import { ManifestError, verifyManifest } from '../harness/reports/manifest.js';
import { DEFECTS } from '../fixtures/device/defects.js';
import { describeProvisionedCertificate, describeProvisionedPsk, provisionDevice, readCertificateFiles, readPskKeyHex } from '../fixtures/device/provision.js';
import { deviceProcessMain } from '../fixtures/device/main.js';

const defectHelp = DEFECTS.map((d) => `  ${d.name.padEnd(34)} ${d.description}`).join('\n');

function fatal(e: unknown): never {
  process.stderr.write(`geisa-adm: ${(e as Error)?.message ?? String(e)}\n`);
  process.exit(EXIT.ERROR);
}

process.on('unhandledRejection', fatal);
process.on('uncaughtException', fatal);

await yargs(hideBin(process.argv))
  .scriptName('geisa-adm')
  .strict()
  .command(
    ['run', '$0'],
    'run the conformance suite (default: against the bundled reference device)',
    (y) =>
      y
        .option('dut', { type: 'string', describe: 'DUT profile (YAML or JSON); default: the bundled reference device' })
        .option('cases', { type: 'string', describe: 'case ids or globs, comma-separated (e.g. TC-BS-*,TC-REG-01)' })
        .option('tags', { type: 'string', describe: 'only cases carrying all these tags, comma-separated' })
        .option('out', { type: 'string', default: 'reports', describe: 'report directory' })
        .option('defect', { type: 'string', describe: 'reference device only: switch on one seeded defect (see `geisa-adm device --help`)' })
        .option('persist-registration', { type: 'boolean', default: false, describe: 'reference device only: keep the registration across restarts' })
        .option('strict', { type: 'boolean', default: false, describe: 'also exit 1 on an advisory or an inconclusive' }),
    async (a) => {
      const code = await runCommand({
        dut: a.dut,
        cases: a.cases,
        tags: a.tags?.split(',').map((s) => s.trim()).filter(Boolean),
        out: a.out,
        defect: a.defect,
        persistRegistration: a['persist-registration'],
        strict: a.strict,
      });
      process.exitCode = code;
    },
  )
  .command(
    'list',
    'list the cases: id, strength, ICS key, requirement ids, tags (with --dut: which apply)',
    (y) => y.option('json', { type: 'boolean', default: false }).option('dut', { type: 'string', describe: 'DUT profile: also show which cases its ICS makes applicable' }),
    (a) => {
      try {
        const profile = a.dut ? loadProfile(a.dut) : undefined;
        process.stdout.write(listCases(undefined, { json: a.json, profile }) + '\n');
      } catch (e) {
        if (!(e instanceof ProfileError)) throw e;
        process.stderr.write(`error: ${e.message}\n`);
        process.exitCode = EXIT.USAGE;
      }
    },
  )
  .command(
    'verify <dir>',
    'check a report directory against its integrity manifest (manifest.sha256)',
    (y) => y.positional('dir', { type: 'string', demandOption: true }),
    (a) => {
      try {
        const r = verifyManifest(a.dir as string);
        for (const f of r.changed) process.stdout.write(`CHANGED  ${f}\n`);
        for (const f of r.missing) process.stdout.write(`MISSING  ${f}\n`);
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
  .command('device', `the bundled reference device (a real LwM2M 1.2 client)\n\nDefects (--defect NAME):\n${defectHelp}`, (y) =>
    y
      .command(
        'provision',
        'out-of-band preprovisioning: write a fresh state file holding only the Bootstrap-Server account',
        (p) =>
          p
            .option('state', { type: 'string', demandOption: true, describe: 'state file to write' })
            .option('bs-uri', { type: 'string', demandOption: true, describe: 'Bootstrap-Server URI: coap://host:port (NoSec) or coaps://host:port (DTLS with a PSK or certificates)' })
            .option('endpoint', { type: 'string', demandOption: true, describe: 'Endpoint Client Name' })
            .option('hold-off', { type: 'number', default: 0, describe: 'Client Hold Off Time /0/x/11, seconds' })
            .option('psk-identity', { type: 'string', describe: 'coaps:// only: PSK Identity /0/0/3 (default: $GEISA_PSK_IDENTITY)' })
            .option('psk-key-file', {
              type: 'string',
              describe: 'coaps:// only: file holding the PSK /0/0/5 as hex (default: the hex in $GEISA_PSK_HEX); never give a key on the command line',
            })
            .option('cert-file', { type: 'string', describe: 'coaps:// certificate mode: the IDevID certificate, PEM or DER, for /0/0/3 (default: $GEISA_CERT_FILE)' })
            .option('key-file', { type: 'string', describe: 'coaps:// certificate mode: its private key, PEM or DER, for /0/0/5 (default: $GEISA_KEY_FILE)' })
            .option('trust-file', {
              type: 'string',
              describe: "coaps:// certificate mode: the Bootstrap-Server's certificate or trust anchor, PEM or DER, for /0/0/4 (default: $GEISA_TRUST_FILE)",
            })
            .option('certificate-usage', { type: 'number', describe: 'coaps:// certificate mode: Certificate Usage /0/0/15, 0..3 (default: $GEISA_CERTIFICATE_USAGE, else 3)' }),
        async (a) => {
          const secure = a['bs-uri'].startsWith('coaps:');
          const env = process.env;
          const pskFlags = a['psk-identity'] !== undefined || a['psk-key-file'] !== undefined;
          const certFlags = a['cert-file'] !== undefined || a['key-file'] !== undefined || a['trust-file'] !== undefined || a['certificate-usage'] !== undefined;
          if (pskFlags && certFlags) throw new Error('give either --psk-identity/--psk-key-file or --cert-file/--key-file/--trust-file, not both');
          // The environment's certificate files apply only where no PSK is given at all (flags or environment).
          const envPsk = secure && !certFlags && (Boolean(env.GEISA_PSK_IDENTITY) || Boolean(env.GEISA_PSK_HEX));
          const certMode = secure && !pskFlags && (certFlags || (!envPsk && Boolean(env.GEISA_CERT_FILE || env.GEISA_KEY_FILE || env.GEISA_TRUST_FILE)));
          const certificate = certMode
            ? await readCertificateFiles({
                certFile: a['cert-file'] ?? env.GEISA_CERT_FILE,
                keyFile: a['key-file'] ?? env.GEISA_KEY_FILE,
                trustFile: a['trust-file'] ?? env.GEISA_TRUST_FILE,
                certificateUsage: a['certificate-usage'] ?? env.GEISA_CERTIFICATE_USAGE,
              })
            : undefined;
          const pskIdentity = certMode ? undefined : (a['psk-identity'] ?? (secure ? env.GEISA_PSK_IDENTITY : undefined));
          const pskKeyHex = certMode ? undefined : await readPskKeyHex(a['psk-key-file'], secure ? env.GEISA_PSK_HEX : undefined);
          const state = await provisionDevice({ stateFile: a.state, bsUri: a['bs-uri'], endpoint: a.endpoint, holdOffS: a['hold-off'], pskIdentity, pskKeyHex, certificate });
          process.stdout.write(`provisioned ${a.state}: Bootstrap-Server ${a['bs-uri']}, endpoint ${a.endpoint}${describeProvisionedPsk(state)}${describeProvisionedCertificate(state)}\n`);
        },
      )
      .command(
        'run',
        'run the device from its state file until SIGTERM',
        (p) =>
          p
            .option('state', { type: 'string', demandOption: true })
            .option('ack-timeout-ms', { type: 'number', default: 2000 })
            .option('ack-random-factor', { type: 'number', default: 1.5 })
            .option('max-retransmit', { type: 'number', default: 4 })
            .option('max-latency-ms', { type: 'number', default: 100_000, describe: 'MAX_LATENCY used for EXCHANGE_LIFETIME' })
            .option('defect', { type: 'string', choices: DEFECTS.map((d) => d.name), describe: 'switch on one seeded defect' })
            .option('persist-registration', { type: 'boolean', default: false, describe: 'variant: keep the registration across restarts (sends an Update after a restart)' })
            .option('omit-ep-over-dtls', { type: 'boolean', default: false, describe: 'variant: no ep in a Bootstrap-Request over DTLS-PSK (left open by GEISA)' })
            .option('dtls-handshake-timeout-ms', { type: 'number', default: 10_000, describe: 'how long a DTLS handshake may take before it counts as failed' }),
        async (a) => {
          await deviceProcessMain({
            stateFile: a.state,
            coapParams: { ackTimeoutMs: a['ack-timeout-ms'], ackRandomFactor: a['ack-random-factor'], maxRetransmit: a['max-retransmit'], nstart: 1 },
            maxLatencyMs: a['max-latency-ms'],
            defect: a.defect as never,
            persistRegistration: a['persist-registration'],
            omitEndpointOverDtls: a['omit-ep-over-dtls'],
            dtlsHandshakeTimeoutMs: a['dtls-handshake-timeout-ms'],
          });
        },
      )
      .demandCommand(1, 'name a device command: provision or run'),
  )
  .fail((msg, e) => {
    if (e) fatal(e);
    process.stderr.write(`geisa-adm: ${msg}\nRun 'geisa-adm --help' for usage.\n`);
    process.exit(EXIT.USAGE);
  })
  .help()
  .parseAsync();
