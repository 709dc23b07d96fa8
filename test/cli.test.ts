/**
 * The command line as a user meets it: the built CLI spawned as a process. Bad input gets
 * a message naming what is wrong and exit 2; a run leaves its reports; SIGINT stops the
 * device and still writes the report.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { validateXML } from 'xmllint-wasm';
import { parseEventLog } from '../harness/reports/event-log.js';
import { CLI, cliEnv as env, cliSync as cli, referenceDeviceExecProfile, scratchFolders } from './support/cli-child.js';

// Some hold a device's private key (the certificate test): all go after the tests.
const scratch = scratchFolders();

describe('geisa-adm command line', () => {
  test('list shows each case with requirement ids, strength and ICS key', () => {
    const r = cli(['list']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/TC-BS-01\s+SHALL\s+bootstrap\.client-initiated\s+GEISA-ADM-BS-01,LWM2M-CORE-BS-01/);
    expect(r.stdout).toMatch(/TC-RETRY-02\s+SHOULD/);
  });

  test('an unknown flag is a usage error naming the flag, with no stack trace', () => {
    const r = cli(['run', '--bogus-flag']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('bogus-flag');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test('a broken profile is exit 2 with file, line and field', () => {
    const dir = scratch('geisa-cli-');
    const file = join(dir, 'dut.yaml');
    writeFileSync(file, 'schema: geisa-adm-profile/1\ndut:\n  endpoint: x\nadapter:\n  kind: simulator\nixit:\n  lifetimeS: soon\n');
    const r = cli(['run', '--dut', file, '--out', join(dir, 'out')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/dut\.yaml:7:\d+: ixit\.lifetimeS/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test('an unknown defect and an unmatched case glob are usage errors listing what exists', () => {
    const a = cli(['run', '--defect', 'no-such-defect']);
    expect(a.status).toBe(2);
    expect(a.stderr).toContain('no-update');
    const b = cli(['run', '--cases', 'TC-NOPE-*']);
    expect(b.status).toBe(2);
    expect(b.stderr).toContain('TC-BS-01');
  });

  test('device --help describes every defect in one line', () => {
    const r = cli(['device', '--help']);
    expect(r.status).toBe(0);
    for (const name of ['bootstrap-request-non-confirmable', 'no-update', 'retry-without-backoff']) expect(r.stdout).toContain(name);
  });

  test('run writes the event log and a JUnit file valid against the shared schema; a defect gives exit 1', async () => {
    const dir = scratch('geisa-cli-');
    const ok = cli(['run', '--cases', 'TC-BS-01', '--out', join(dir, 'ok')]);
    expect(ok.stdout).toContain('TC-BS-01');
    expect(ok.status).toBe(0);
    const xml = readFileSync(join(dir, 'ok', 'junit.xml'), 'utf8');
    const schema = readFileSync(resolve('../shared/schemas/junit.xsd'), 'utf8');
    const result = await validateXML({ xml: [{ fileName: 'junit.xml', contents: xml }], schema: [schema] });
    expect(result.errors).toEqual([]);
    expect(xml).toContain('TC-BS-01');

    const bad = cli(['run', '--cases', 'TC-BS-01', '--defect', 'bootstrap-request-non-confirmable', '--out', join(dir, 'bad')]);
    expect(bad.status).toBe(1);
    const events = parseEventLog(readFileSync(join(dir, 'bad', 'events.jsonl'), 'utf8'));
    const start = events.find((e) => e.type === 'run-start');
    expect(start && start.type === 'run-start' && start.defect).toBe('bootstrap-request-non-confirmable');
    const verdict = events.find((e) => e.type === 'verdict');
    expect(verdict && verdict.type === 'verdict' && verdict.reason).toMatch(/Confirmable.*NON/);
  }, 120_000);

  test('a file profile with exec actions drives the reference device as a vendor tool would', () => {
    const dir = scratch('geisa-cli-');
    const r = cli(['run', '--dut', 'fixtures/profiles/reference-device-exec.yaml', '--cases', 'TC-BS-01', '--out', dir]);
    expect(r.stdout).toMatch(/TC-BS-01 PASS/);
    expect(r.status).toBe(0);
    const events = parseEventLog(readFileSync(join(dir, 'events.jsonl'), 'utf8'));
    // The provisioning tool's own output is evidence.
    expect(events.some((e) => e.type === 'note' && e.source === 'adapter' && e.text.includes('provisioned'))).toBe(true);
  }, 60_000);

  test('a PSK in the profile never reaches stdout, stderr, the event log or JUnit', () => {
    const dir = scratch('geisa-cli-');
    const key = '7a1c9e55d0b3486f21aa90c4e6f8b217';
    const profile = readFileSync('fixtures/profiles/reference-device-exec.yaml', 'utf8')
      .replace(/\.\.\/\.\.\/dist/g, resolve('dist'))
      // the vendor tool echoes what it was given: the adapter must scrub it
      .replace('--endpoint {endpoint}"', '--endpoint {endpoint} && echo key=$GEISA_PSK_HEX"')
      .concat(`secrets:\n  bootstrapPsk: { identity: "dev-psk-id", keyHex: "${key}" }\n`);
    const file = join(dir, 'dut.yaml');
    writeFileSync(file, profile);
    const r = cli(['run', '--dut', file, '--cases', 'TC-BS-01', '--out', join(dir, 'out')]);
    expect(r.status).toBe(0);
    const outputs = [r.stdout, r.stderr, readFileSync(join(dir, 'out', 'events.jsonl'), 'utf8'), readFileSync(join(dir, 'out', 'junit.xml'), 'utf8')];
    const forms = [key, key.toUpperCase(), Buffer.from(key, 'hex').toString('base64')];
    for (const text of outputs) for (const form of forms) expect(text.includes(form)).toBe(false);
    // What stands in for it is the fingerprint, so an auditor can still tell which key was used.
    expect(outputs[2]).toMatch(/sha256/);
  }, 60_000);

  test('certificate mode for a device that brings its own IDevID: verified against the manufacturer CA the profile declares, failed against another', async () => {
    const { createCa, issueCertificate } = await import('../harness/pki/certificates.js');
    const dir = scratch('geisa-cli-cert-');
    const manufacturer = await createCa('Acme manufacturer CA');
    const other = await createCa('Not the manufacturer');
    const idevid = await issueCertificate(manufacturer, { commonName: 'urn:dev:ops:acme-real-1', usage: 'client' });
    writeFileSync(join(dir, 'acme-ca.pem'), manufacturer.certPem);
    writeFileSync(join(dir, 'other-ca.pem'), other.certPem);
    writeFileSync(join(dir, 'idevid.pem'), idevid.certPem);
    writeFileSync(join(dir, 'idevid.key'), idevid.keyPem, { mode: 0o600 });
    const profile = (ca: string) =>
      referenceDeviceExecProfile({
        endpoint: 'urn:dev:ops:acme-real-1',
        state: '{stateDir}/s.json',
        provisionArgs: `--cert-file ${join(dir, 'idevid.pem')} --key-file ${join(dir, 'idevid.key')}`,
        more: [`certificates: { manufacturerCaFile: ${ca} }`],
      });
    writeFileSync(join(dir, 'good.yaml'), profile('acme-ca.pem'));
    writeFileSync(join(dir, 'bad.yaml'), profile('other-ca.pem'));
    const good = cli(['run', '--dut', join(dir, 'good.yaml'), '--cases', 'TC-SEC-04', '--out', join(dir, 'good')]);
    expect(good.stdout).toMatch(/TC-SEC-04 PASS/);
    const bad = cli(['run', '--dut', join(dir, 'bad.yaml'), '--cases', 'TC-SEC-04', '--out', join(dir, 'bad')]);
    expect(bad.status).toBe(1);
    const verdict = parseEventLog(readFileSync(join(dir, 'bad', 'events.jsonl'), 'utf8')).find((e) => e.type === 'verdict');
    expect(verdict && verdict.type === 'verdict' && verdict.reason).toMatch(/chains to the manufacturer CA.*observed [1-9]\d* \(/);
    // The device's private key is nowhere in what the runs wrote.
    const keyLines = idevid.keyPem.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'));
    for (const out of ['good', 'bad']) {
      const text = readFileSync(join(dir, out, 'events.jsonl'), 'utf8') + readFileSync(join(dir, out, 'junit.xml'), 'utf8');
      for (const line of keyLines) expect(text.includes(line)).toBe(false);
    }
  }, 90_000);

  test('the run writes an integrity manifest; verify names a changed byte and a missing file', () => {
    const dir = scratch('geisa-cli-verify-');
    const out = join(dir, 'out');
    expect(cli(['run', '--cases', 'TC-REG-01', '--out', out]).status).toBe(0);
    const good = cli(['verify', out]);
    expect(good.status).toBe(0);
    const listed = readFileSync(join(out, 'manifest.sha256'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.slice(66));
    expect(listed).toEqual(expect.arrayContaining(['events.jsonl', 'junit.xml', 'results.json', 'report.html']));
    expect(good.stdout).toContain(`all ${listed.length} report files match the manifest`);
    // The manifest is in sha256sum's format: checkable without this tool.
    expect(spawnSync('sha256sum', ['-c', 'manifest.sha256'], { cwd: out }).status).toBe(0);

    const junit = join(out, 'junit.xml');
    const bytes = readFileSync(junit);
    bytes[bytes.length - 2] = bytes[bytes.length - 2]! ^ 1;
    writeFileSync(junit, bytes);
    rmSync(join(out, 'events.jsonl'));
    const bad = cli(['verify', out]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain('CHANGED  junit.xml');
    expect(bad.stdout).toContain('MISSING  events.jsonl');

    const none = cli(['verify', dir]);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('has no manifest.sha256');
  }, 60_000);

  test('the example profiles load', () => {
    for (const f of ['fixtures/profiles/reference-device-exec.yaml', 'fixtures/profiles/manual-meter.example.yaml']) {
      const r = cli(['list', '--dut', f]);
      expect(`${f}: ${r.status}`).toBe(`${f}: 0`);
    }
  });

  test('SIGINT stops the run, kills the device and still writes the report', async () => {
    const dir = scratch('geisa-cli-');
    const out = join(dir, 'out');
    // One case at a time: TC-REG-02 runs first (suite order) and waits half the lifetime for
    // an Update, time enough to interrupt it; TC-RETRY-01 must then never start.
    const child = spawn(process.execPath, [CLI, 'run', '--jobs', '1', '--cases', 'TC-RETRY-01,TC-REG-02', '--out', out], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    await new Promise<void>((resolveSeen, reject) => {
      const timer = setTimeout(() => reject(new Error(`no case start seen: ${stdout} ${stderr}`)), 30_000);
      child.stdout.on('data', (d) => {
        stdout += d;
        if (stdout.includes('TC-REG-02')) {
          clearTimeout(timer);
          resolveSeen();
        }
      });
    });
    // Wait until the device has registered (a Register is in the log) before interrupting.
    const log = join(out, 'events.jsonl');
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !(existsSync(log) && readFileSync(log, 'utf8').includes('"/rd"'))) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(3);
    expect(stderr).toContain('SIGINT');
    const events = parseEventLog(readFileSync(log, 'utf8'));
    const end = events.find((e) => e.type === 'run-end');
    expect(end && end.type === 'run-end' && end.interrupted).toBe(true);
    expect(events.some((e) => e.type === 'case-start' && e.caseId === 'TC-REG-02')).toBe(true);
    expect(events.some((e) => e.type === 'verdict' && e.caseId === 'TC-REG-02')).toBe(false);
    expect(events.some((e) => e.type === 'case-start' && e.caseId === 'TC-RETRY-01')).toBe(false);
    expect(existsSync(join(out, 'junit.xml'))).toBe(true);
    // No device process of this run survives.
    const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout;
    expect(ps.split('\n').filter((l) => l.includes(dir))).toEqual([]);
  }, 90_000);
});
