#!/usr/bin/env node
/**
 * geisa-adm: the command line. Wiring only; each command lives in harness/cli/ (the suite)
 * or fixtures/device/ (the reference device). A wrong flag is a usage error (exit 2)
 * with a message naming it; nothing ends in a stack trace.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UsageError } from '../harness/cli/select.js';
import { EXIT } from '../harness/runner/exit-code.js';
import { DEFECTS } from '../fixtures/device/defects.js';

// Each command loads its own modules, in its handler: the reference device is started
// twice per case (provision, run), and loading the whole suite each time costs seconds
// under load; `--help` loads nothing but yargs.

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
          describe: "k/n: run only the k-th of n disjoint parts of the selected cases (round robin over the sorted ids), for a CI matrix; join the parts with `geisa-adm merge`",
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
        .option('pdf', { type: 'boolean', default: false, describe: 'also print report.html to report.pdf (needs Chromium)' }),
    async (a) => {
      const { runCommand } = await import('../harness/cli/run-command.js');
      const code = await runCommand({
        dut: a.dut,
        jobs: a.jobs,
        cases: a.cases,
        tags: a.tags?.split(',').map((s) => s.trim()).filter(Boolean),
        slow: a.slow,
        expectedFailures: a['expected-failures'],
        out: a.out,
        defect: a.defect,
        persistRegistration: a['persist-registration'],
        strict: a.strict,
        keylog: a.keylog,
        pdf: a.pdf,
        shard: a.shard,
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
    "join the results.json of the shards of one run (--shard k/n) into one, and render JUnit, HTML and the manifest from it; the shards must share tool version, catalog and profile, and no case may be in two",
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
        .option('cases', { type: 'string', describe: "case ids or globs, comma-separated; !GLOB excludes" })
        .option('tags', { type: 'string', describe: "only cases carrying all these tags; !TAG excludes" }),
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
        .option('concurrency', { type: 'number', describe: 'cells run at once, each with its own servers and device process (default 6)' })
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
  .command('device', 'the bundled reference device (a real LwM2M 1.2 client)', (y) =>
    y
      // The defect list is only wrapped for `device --help`: in the top-level help it
      // cost a third of the start-up (string-width per character) and buried the commands.
      .epilog(`Defects (--defect NAME):\n${DEFECTS.map((d) => `  ${d.name.padEnd(34)} ${d.description}`).join('\n')}`)
      .command(
        'provision',
        'out-of-band preprovisioning: write a fresh state file holding the Bootstrap-Server account (and, for factory bootstrap, an LwM2M Server account)',
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
            .option('certificate-usage', { type: 'number', describe: 'coaps:// certificate mode: Certificate Usage /0/0/15, 0..3 (default: $GEISA_CERTIFICATE_USAGE, else 3)' })
            .option('server-uri', { type: 'string', describe: 'factory bootstrap: also an LwM2M Server account (/0/1, /1/0) the device registers with first; empty: none' })
            .option('server-ssid', { type: 'string', describe: 'with --server-uri: its Short Server ID (default 1)' })
            .option('server-lifetime', { type: 'string', describe: 'with --server-uri: registration lifetime /1/0/1, seconds (default 86400)' })
            .option('server-psk-identity', { type: 'string', describe: 'coaps:// --server-uri only: its PSK Identity /0/1/3 (default: $GEISA_SERVER_PSK_IDENTITY)' })
            .option('server-psk-key-file', { type: 'string', describe: 'coaps:// --server-uri only: file holding its PSK /0/1/5 as hex (default: the hex in $GEISA_SERVER_PSK_HEX); never a key on the command line' })
            .option('bootstrap-pack', { type: 'boolean', default: false, describe: 'open Client-Initiated Bootstrap with a Bootstrap-Pack-Request (LwM2M 1.2 GET /bspack), falling back to the Bootstrap-Request when refused' })
            .option('est-dns-server', { type: 'string', describe: 'Certificate mode with EST: find the EST server by DNS-SD at this DNS server, address:port ([addr]:port for IPv6); empty: enroll at the Bootstrap-Server' })
            .option('est-domain', { type: 'string', describe: 'with --est-dns-server: the domain searched for _est-coaps._udp.<domain>' })
            .option('est-trust-file', { type: 'string', describe: "with --est-dns-server: the trust anchor the EST server's certificate must chain to, PEM or DER (default: $GEISA_EST_TRUST_FILE)" }),
        async (a) => {
          const { describeFactoryServer, describeProvisionedCertificate, describeProvisionedPsk, provisionDevice, readCertificateFiles, readEstTrustFile, readPskKeyHex } = await import('../fixtures/device/provision.js');
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
          const serverUri = a['server-uri'] ?? '';
          const serverSecure = serverUri.startsWith('coaps:');
          const wholeNumber = (flag: string, text: string | undefined, dflt: number) => {
            if (text === undefined || text === '') return dflt;
            if (!/^\d+$/.test(text.trim())) throw new Error(`--${flag}: ${JSON.stringify(text)} is not a whole number`);
            return Number(text.trim());
          };
          const serverAccount =
            serverUri === ''
              ? undefined
              : {
                  uri: serverUri,
                  ssid: wholeNumber('server-ssid', a['server-ssid'], 1),
                  lifetimeS: wholeNumber('server-lifetime', a['server-lifetime'], 86400),
                  pskIdentity: a['server-psk-identity'] ?? (serverSecure ? env.GEISA_SERVER_PSK_IDENTITY : undefined),
                  pskKeyHex: await readPskKeyHex(a['server-psk-key-file'], serverSecure ? env.GEISA_SERVER_PSK_HEX : undefined),
                };
          const estDnsServer = a['est-dns-server'] ?? '';
          const estDomain = a['est-domain'] ?? '';
          if ((estDnsServer === '') !== (estDomain === '')) throw new Error('give --est-dns-server and --est-domain together (both empty: the EST server is the Bootstrap-Server)');
          const estTrustFile = a['est-trust-file'] ?? env.GEISA_EST_TRUST_FILE;
          if (estDnsServer !== '' && !estTrustFile) throw new Error('--est-dns-server needs --est-trust-file (or $GEISA_EST_TRUST_FILE): the anchor the EST server found by DNS-SD is checked against');
          const estDiscovery = estDnsServer === '' ? undefined : { dnsServer: estDnsServer, domain: estDomain, trustDer: await readEstTrustFile(estTrustFile!) };
          const state = await provisionDevice({ stateFile: a.state, bsUri: a['bs-uri'], endpoint: a.endpoint, holdOffS: a['hold-off'], pskIdentity, pskKeyHex, certificate, serverAccount, bootstrapPack: a['bootstrap-pack'], ...(estDiscovery ? { estDiscovery } : {}) });
          process.stdout.write(
            `provisioned ${a.state}: Bootstrap-Server ${a['bs-uri']}, endpoint ${a.endpoint}${describeProvisionedPsk(state)}${describeProvisionedCertificate(state)}${describeFactoryServer(state)}${state.bootstrapPack ? ', Bootstrap-Pack-Request first' : ''}${state.estDiscovery ? `, EST server by DNS-SD: _est-coaps._udp.${state.estDiscovery.domain} at ${state.estDiscovery.dnsServer}` : ''}\n`,
          );
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
            .option('bootstrap-after-retries', { type: 'boolean', default: false, describe: 'variant: after a rejected Register, retry and re-bootstrap only once the retries are used up' })
            .option('separate-responses', { type: 'boolean', default: false, describe: 'variant: answer every server request with an empty ACK and a separate response' })
            .option('register-on-address-change', { type: 'boolean', default: false, describe: 'variant: announce a changed source address with a Register instead of an Update' })
            .option('reverse-query-order', { type: 'boolean', default: false, describe: 'variant: send the Uri-Query options of Bootstrap-Request, Register and Update in reverse order' })
            .option('bootstrap-request-pct', { type: 'number', choices: [110, 112, 11542], describe: 'variant: add pct=<Content-Format> (one the device supports) to the Bootstrap-Request' })
            .option('bootstrap-read-security-code', { type: 'string', choices: ['4.00', '4.01', '4.05'], default: '4.05', describe: 'variant: the code a Bootstrap-Read of /0 (Security) is refused with' })
            .option('update-at-fraction', { type: 'number', default: 0.5, describe: 'variant: send the heartbeat Update at this fraction of the lifetime (0 < f < 1)' })
            .option('non-persistent', { type: 'boolean', default: false, describe: 'variant: keep what the Bootstrap-Server wrote in RAM only (a restart bootstraps again)' })
            .option('pid-file', { type: 'string', describe: 'write the process id here; SIGUSR2 to it changes the source address (new UDP port)' })
            .option('dtls-handshake-timeout-ms', { type: 'number', default: 10_000, describe: 'how long a DTLS handshake may take before it counts as failed' }),
        async (a) => {
          const { deviceProcessMain } = await import('../fixtures/device/main.js');
          await deviceProcessMain({
            stateFile: a.state,
            coapParams: { ackTimeoutMs: a['ack-timeout-ms'], ackRandomFactor: a['ack-random-factor'], maxRetransmit: a['max-retransmit'], nstart: 1 },
            maxLatencyMs: a['max-latency-ms'],
            defect: a.defect as never,
            persistRegistration: a['persist-registration'],
            omitEndpointOverDtls: a['omit-ep-over-dtls'],
            bootstrapAfterRetries: a['bootstrap-after-retries'],
            separateResponses: a['separate-responses'],
            registerOnAddressChange: a['register-on-address-change'],
            reverseQueryOrder: a['reverse-query-order'],
            bootstrapRequestPct: a['bootstrap-request-pct'],
            bootstrapReadSecurityCode: a['bootstrap-read-security-code'] as '4.00' | '4.01' | '4.05',
            updateAtFraction: a['update-at-fraction'],
            nonPersistent: a['non-persistent'],
            pidFile: a['pid-file'],
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
