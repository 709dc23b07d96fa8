/**
 * No secret in any output of a DTLS run but the opt-in key log: the CLI runs PSK and
 * certificate cases with --keylog against the reference device driven through exec actions
 * (so the test learns every key the device was given or written: the provisioned ones from
 * the action's environment, the ones the Bootstrap-Server wrote from the device's state
 * file), then every file the run wrote, stdout and stderr are searched for each key in
 * every encoding, and for the key log's own secrets.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KEYLOG_NAME } from '../harness/recorder/keylog.js';
import { CAPTURE_NAME } from '../harness/recorder/pcapng.js';
import { derOfPrivateKey } from '../harness/pki/case-pki.js';
import { hasTool, testIf } from './support/tools.js';
import { CLI, referenceDeviceExecProfile, scratchFolders } from './support/cli-child.js';

const NODE = process.execPath;

// The folders hold PSKs, a device's private key and state files full of keys: gone after the tests.
const scratch = scratchFolders();

/** Every form a key could take in an output: raw bytes, hex, base64, and a PEM body's lines. */
function forms(key: Buffer): Buffer[] {
  const hex = key.toString('hex');
  const b64 = key.toString('base64');
  const out = [key, Buffer.from(hex), Buffer.from(hex.toUpperCase()), Buffer.from(b64), Buffer.from(key.toString('base64url'))];
  // A PEM body is base64 cut into 64-character lines: any full line is a giveaway on its own.
  for (let i = 0; i + 64 <= b64.length; i += 64) out.push(Buffer.from(b64.slice(i, i + 64)));
  return out;
}

/** The secret resources (/0/x/5) and the factory key a device state file holds, as bytes. */
function keysInState(file: string): Buffer[] {
  const state = JSON.parse(readFileSync(file, 'utf8')) as { objects: Record<string, Record<string, Record<string, unknown>>>; factoryIdentity?: { privateKey: string } };
  const keys: Buffer[] = [];
  for (const instance of Object.values(state.objects['0'] ?? {})) {
    const v = instance['5'];
    if (typeof v === 'string' && v.length > 0) keys.push(Buffer.from(v, 'hex'));
  }
  if (state.factoryIdentity) keys.push(Buffer.from(state.factoryIdentity.privateKey, 'hex'));
  return keys;
}

interface RunOutputs {
  outDir: string;
  /** Everything the run wrote or printed except the key log, by name. */
  outputs: Map<string, Buffer>;
  keylog: string;
  status: number | null;
  stdout: string;
}

function runWithKeylog(profileFile: string, cases: string, outDir: string): RunOutputs {
  const r = spawnSync(NODE, [CLI, 'run', '--dut', profileFile, '--cases', cases, '--keylog', '--out', outDir], { encoding: 'buffer', env: { ...process.env, NO_COLOR: '1' }, timeout: 180_000 });
  const outputs = new Map<string, Buffer>([
    ['stdout', r.stdout],
    ['stderr', r.stderr],
  ]);
  for (const name of readdirSync(outDir)) {
    const path = join(outDir, name);
    if (name !== KEYLOG_NAME && statSync(path).isFile()) outputs.set(name, readFileSync(path));
  }
  return { outDir, outputs, keylog: readFileSync(join(outDir, KEYLOG_NAME), 'utf8'), status: r.status, stdout: r.stdout.toString('utf8') };
}

function expectNowhere(run: RunOutputs, secrets: Buffer[], what: string): void {
  const found: string[] = [];
  for (const secret of secrets) {
    for (const form of forms(secret)) {
      for (const [name, bytes] of run.outputs) if (bytes.includes(form)) found.push(`${what} ${secret.length} bytes as ${JSON.stringify(form.toString('latin1').slice(0, 24))}... in ${name}`);
    }
  }
  expect(found).toEqual([]);
}

/** The master secrets of the key log: secrets too, so nowhere else. */
function keylogSecrets(keylog: string): Buffer[] {
  return [...keylog.matchAll(/^CLIENT_RANDOM [0-9a-f]{64} ([0-9a-f]{96})$/gm)].map((m) => Buffer.from(m[1]!, 'hex'));
}

test('PSK cases with --keylog: neither PSK (provisioned or written at bootstrap) nor a master secret appears outside the key log', () => {
  const dir = scratch('geisa-secrets-psk-');
  const provisioned = join(dir, 'provisioned.txt');
  // Each case's device state lives in the test's directory (named after the case's state dir), so it outlives the case.
  const state = `${dir}/state-$(basename {stateDir}).json`;
  const profile = referenceDeviceExecProfile({ endpoint: 'urn:dev:ops:secrets-psk-1', state, beforeProvision: `echo $GEISA_PSK_HEX >> ${provisioned}`, more: ['ics: { transport.dtls-psk: true }'] });
  const profileFile = join(dir, 'dut.yaml');
  writeFileSync(profileFile, profile);
  const run = runWithKeylog(profileFile, 'TC-SEC-01,TC-SEC-02', join(dir, 'out'));
  expect(run.stdout).toMatch(/TC-SEC-01 PASS/);
  expect(run.stdout).toMatch(/TC-SEC-02 PASS/);

  const keys = new Map<string, Buffer>();
  for (const line of readFileSync(provisioned, 'utf8').split('\n').filter(Boolean)) keys.set(line, Buffer.from(line, 'hex'));
  for (const f of readdirSync(dir).filter((n) => n.startsWith('state-'))) for (const k of keysInState(join(dir, f))) keys.set(k.toString('hex'), k);
  // One Bootstrap-Server PSK per case, and TC-SEC-02's LwM2M Server PSK written at bootstrap.
  expect(keys.size).toBeGreaterThanOrEqual(3);
  expect([...keys.values()].every((k) => k.length >= 16)).toBe(true);

  const masterSecrets = keylogSecrets(run.keylog);
  expect(masterSecrets.length).toBeGreaterThanOrEqual(3);
  expect(run.outputs.has(CAPTURE_NAME)).toBe(true);
  expect(run.outputs.has('events.jsonl')).toBe(true);
  expectNowhere(run, [...keys.values()], 'PSK');
  expectNowhere(run, masterSecrets, 'master secret');
  // The key log holds session keys, not the PSKs.
  for (const k of keys.values()) expect(run.keylog.includes(k.toString('hex'))).toBe(false);
  // The write of the LwM2M Server's PSK is in the evidence as a fingerprint.
  expect(run.outputs.get('events.jsonl')!.toString('utf8')).toMatch(/<redacted sha256:[0-9a-f]{8} \(16 bytes\)>/);
}, 240_000);

/** The certificate and EST run, which the tshark test after it decrypts. */
let certRun: RunOutputs | undefined;

test('certificate and EST cases with --keylog: neither the IDevID private key, the operational key written at bootstrap nor the key the device enrolled by EST appears outside the key log', async () => {
  const { createCa, issueCertificate } = await import('../harness/pki/certificates.js');
  const dir = scratch('geisa-secrets-cert-');
  const manufacturer = await createCa('Secrets test manufacturer CA');
  const idevid = await issueCertificate(manufacturer, { commonName: 'urn:dev:ops:secrets-cert-1', usage: 'client' });
  writeFileSync(join(dir, 'ca.pem'), manufacturer.certPem);
  writeFileSync(join(dir, 'idevid.pem'), idevid.certPem);
  writeFileSync(join(dir, 'idevid.key'), idevid.keyPem, { mode: 0o600 });
  const state = `${dir}/state-$(basename {stateDir}).json`;
  const profile = referenceDeviceExecProfile({
    endpoint: 'urn:dev:ops:secrets-cert-1',
    state,
    provisionArgs: `--cert-file ${join(dir, 'idevid.pem')} --key-file ${join(dir, 'idevid.key')}`,
    more: ['ics: { transport.dtls-certificate: true }', 'certificates: { manufacturerCaFile: ca.pem }'],
  });
  const profileFile = join(dir, 'dut.yaml');
  writeFileSync(profileFile, profile);
  const run = (certRun = runWithKeylog(profileFile, 'TC-SEC-04,TC-SEC-05,TC-EST-05', join(dir, 'out')));
  expect(run.stdout).toMatch(/TC-SEC-04 PASS/);
  expect(run.stdout).toMatch(/TC-SEC-05 PASS/);
  expect(run.stdout).toMatch(/TC-EST-05 PASS/);

  const idevidDer = derOfPrivateKey(idevid.keyPem);
  const keys = new Map<string, Buffer>([[idevidDer.toString('hex'), idevidDer]]);
  for (const f of readdirSync(dir).filter((n) => n.startsWith('state-'))) for (const k of keysInState(join(dir, f))) keys.set(k.toString('hex'), k);
  // The IDevID key, TC-SEC-05's operational key the Bootstrap-Server wrote into /0/x/5, and
  // the key TC-EST-05's device generated and keeps beside its LDevID (its /0/x/5).
  expect(keys.size).toBeGreaterThanOrEqual(3);

  const masterSecrets = keylogSecrets(run.keylog);
  expect(masterSecrets.length).toBeGreaterThanOrEqual(3);
  expectNowhere(run, [...keys.values()], 'private key');
  expectNowhere(run, masterSecrets, 'master secret');
  // The PEM body of the IDevID key, line by line, as a vendor tool might echo it.
  const pemLines = idevid.keyPem.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'));
  expect(pemLines.length).toBeGreaterThan(0);
  for (const [name, bytes] of run.outputs) for (const line of pemLines) expect(`${name}: ${bytes.includes(line)}`).toBe(`${name}: false`);
}, 240_000);

testIf(hasTool('tshark'), 'no tshark (Debian tshark)')(
  "the certificate run's key log does what it is for: tshark decrypts TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 with it",
  () => {
    if (!certRun) throw new Error('the certificate and EST run of the test before did not complete');
    const run = certRun;
    // The one console line names the script beside the capture; it decodes the ports' range and decrypts with the key log.
    const hint = /decode with:\s+sh (\S+)$/m.exec(run.stdout);
    expect(hint).not.toBeNull();
    const decode = (extra: string[]) => spawnSync('sh', [hint![1]!, ...extra], { encoding: 'utf8', timeout: 60_000 });
    const r = decode(['-Y', 'coap.code == 2 && coap.opt.uri_path_recon == "/bs" && coap.opt.uri_query contains "ep="', '-T', 'fields', '-e', 'frame.comment']);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual(['TC-SEC-04 in: device -> bootstrap-server (coaps)', 'TC-SEC-05 in: device -> bootstrap-server (coaps)', 'TC-EST-05 in: device -> bootstrap-server (coaps)']);
    // The EST exchange decrypted too: the CSR's POST to sen, Content-Format 286.
    const est = decode(['-Y', 'coap.code == 2 && coap.opt.uri_path_recon == "/.well-known/est/sen"', '-T', 'fields', '-e', 'coap.opt.ctype', '-e', 'frame.comment']);
    expect(est.stdout.split('\n').filter(Boolean)).toEqual(['application/pkcs10\tTC-EST-05 in: device -> bootstrap-server (coaps)']);
  },
  120_000,
);
