import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdapterError, type ActionHooks, type ActionParams } from '../harness/dut/adapter.js';
import { ExecAdapter, secretScrubber } from '../harness/dut/exec-adapter.js';
import { ManualAdapter } from '../harness/dut/manual-adapter.js';
import { createProfileAdapter, MixedAdapter } from '../harness/dut/mixed-adapter.js';
import { templateProblems } from '../harness/profile/actions.js';
import { expandTemplate, shellQuote } from '../harness/dut/template.js';
import { fingerprint } from '../harness/profile/fingerprint.js';
import { defaultSimulatorProfile, parseProfile, type ExecAction } from '../harness/profile/load.js';

const workDir = mkdtempSync(join(tmpdir(), 'geisa-exec-test-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

const params: ActionParams = {
  bsUri: 'coap://127.0.0.1:5683',
  bsHost: '127.0.0.1',
  bsPort: 5683,
  endpoint: 'urn:dev:it\'s a meter $(touch pwned) `x` "q"',
  stateDir: workDir,
};

const KEY = Buffer.from('00112233445566778899aabbccddeeff', 'hex');

interface Recorder {
  hooks: ActionHooks;
  notes: string[];
  pauses: number;
  resumes: number;
}

function recorder(): Recorder {
  const r: Recorder = {
    notes: [],
    pauses: 0,
    resumes: 0,
    hooks: {
      note: (source, text) => r.notes.push(`${source}: ${text}`),
      pauseTimeout: () => r.pauses++,
      resumeTimeout: () => r.resumes++,
    },
  };
  return r;
}

function exec(command: string, extra: Partial<ExecAction> = {}): ExecAction {
  return { type: 'exec', command, timeoutS: 10, background: false, ...extra };
}

/** Alive and not a zombie (orphans may never be reaped where PID 1 does not reap). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

/** The pid a test command printed as "<label> <pid>" (not the echoed command line itself). */
function pidFromNotes(notes: string[], label: string): number {
  const pattern = new RegExp(`\\] ${label} (\\d+)$`);
  const match = notes.map((n) => pattern.exec(n)).find(Boolean);
  const pid = Number(match?.[1]);
  expect(pid).toBeGreaterThan(1);
  return pid;
}

/** Every adapter a test creates, disposed even when the test fails half-way. */
const created: ExecAdapter[] = [];
function adapterFor(...args: ConstructorParameters<typeof ExecAdapter>): ExecAdapter {
  const adapter = new ExecAdapter(...args);
  created.push(adapter);
  return adapter;
}
afterEach(async () => {
  await Promise.all(created.splice(0).map((a) => a.dispose()));
});

async function rejection(promise: Promise<unknown>): Promise<AdapterError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(AdapterError);
    return err as AdapterError;
  }
  throw new Error('expected an AdapterError');
}

describe('template expansion', () => {
  test('a value with spaces, quotes and shell syntax reaches printf intact', () => {
    const command = expandTemplate('printf %s {endpoint}', params, 'provision', 'shell');
    const out = spawnSync('/bin/sh', ['-c', command], { cwd: workDir, encoding: 'utf8' });
    expect(out.stdout).toBe(params.endpoint);
    expect(existsSync(join(workDir, 'pwned'))).toBe(false);
  });

  test('every placeholder is substituted', () => {
    const command = expandTemplate('printf "%s|" {bsUri} {bsHost} {bsPort} {endpoint} {stateDir}', params, 'start', 'shell');
    const out = spawnSync('/bin/sh', ['-c', command], { encoding: 'utf8' });
    expect(out.stdout).toBe(`coap://127.0.0.1:5683|127.0.0.1|5683|${params.endpoint}|${workDir}|`);
  });

  test('shellQuote', () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('')).toBe(`''`);
  });

  test('unknown placeholder names the placeholder and the action', () => {
    let caught: unknown;
    try {
      expandTemplate('tool --uri {bsUrl}', params, 'provision', 'shell');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AdapterError);
    const err = caught as AdapterError;
    expect(err.action).toBe('provision');
    expect(err.message).toContain("DUT action 'provision' failed");
    expect(err.message).toContain('unknown placeholder {bsUrl}');
  });

  test('shell parameter expansion and spaced braces are left alone', () => {
    const template = `echo \${HOME} $GEISA_PSK_FILE; awk '{ print }' \\{endpoint}`;
    expect(templateProblems(template, 'shell')).toEqual([]);
    expect(expandTemplate(template, params, 'start', 'shell')).toBe(template);
  });

  test('a placeholder the author quoted is rejected', () => {
    expect(templateProblems(`tool "{bsUri}"`, 'shell')).toEqual([expect.stringContaining('{bsUri} is inside quotes')]);
    expect(templateProblems(`tool '--ep={endpoint}'`, 'shell')).toEqual([expect.stringContaining('{endpoint} is inside quotes')]);
    expect(templateProblems(`tool --ep={endpoint} 'literal'`, 'shell')).toEqual([]);
  });

  test('text mode substitutes without quoting', () => {
    expect(expandTemplate("Set the meter's BS URI to {bsUri}", params, 'provision', 'text')).toBe("Set the meter's BS URI to coap://127.0.0.1:5683");
  });
});

describe('secretScrubber', () => {
  test('replaces hex in any case, base64 and raw text', () => {
    const scrub = secretScrubber(KEY);
    const fp = fingerprint(KEY);
    expect(scrub(`k=${KEY.toString('hex')} K=${KEY.toString('hex').toUpperCase()}`)).toBe(`k=<psk ${fp}> K=<psk ${fp}>`);
    expect(scrub(KEY.toString('base64'))).toBe(`<psk ${fp}>`);
    const ascii = Buffer.from('secret-key-123');
    expect(secretScrubber(ascii)('the key is secret-key-123.')).toBe(`the key is <psk ${fingerprint(ascii)}>.`);
    expect(secretScrubber(undefined)('unchanged')).toBe('unchanged');
  });
});

describe('ExecAdapter', () => {
  test('captures stdout and stderr line by line into notes', async () => {
    const adapter = adapterFor({ provision: exec('echo hello {endpoint}; echo oops >&2; printf "no newline"') });
    const r = recorder();
    await adapter.run('provision', params, {}, r.hooks);
    expect(r.notes).toContain(`adapter: [provision] hello ${params.endpoint}`);
    expect(r.notes).toContain('adapter: [provision stderr] oops');
    expect(r.notes).toContain('adapter: [provision] no newline');
    expect(r.notes[0]).toMatch(/^adapter: \[provision\] \$ echo hello 'urn:dev:it'/);
    await adapter.dispose();
  });

  test('the PSK reaches the command only through env and a 0600 file, and never the notes', async () => {
    const script = join(workDir, 'show.sh');
    writeFileSync(
      script,
      [
        'echo "argv: $0 $*"',
        'echo "cmdline: $(tr "\\0" " " < /proc/$$/cmdline)"',
        'echo "env: $(env | cut -d= -f1 | grep ^GEISA_ | sort | tr "\\n" " ")"',
        'echo "hex: $GEISA_PSK_HEX"',
        'echo "upper: $(printf %s "$GEISA_PSK_HEX" | tr a-f A-F)"',
        'echo "file: $GEISA_PSK_FILE"',
        'echo "mode: $(stat -c %a "$GEISA_PSK_FILE")"',
        'echo "content: $(cat "$GEISA_PSK_FILE")"',
        'test "$(cat "$GEISA_PSK_FILE")" = "$GEISA_PSK_HEX" && echo "file matches env"',
        'echo "identity: $GEISA_PSK_IDENTITY"',
        'echo "endpoint: $GEISA_ENDPOINT"',
      ].join('\n'),
    );
    const adapter = adapterFor({ provision: exec(`sh ${script} --ep {endpoint} --uri {bsUri}`) });
    const r = recorder();
    await adapter.run('provision', params, { pskIdentity: 'dev1', pskKey: KEY }, r.hooks);
    const all = r.notes.join('\n');
    const hex = KEY.toString('hex');
    expect(all).not.toMatch(new RegExp(hex, 'i'));
    expect(all).toContain(`adapter: [provision] hex: <psk ${fingerprint(KEY)}>`);
    expect(all).toContain(`adapter: [provision] upper: <psk ${fingerprint(KEY)}>`);
    expect(all).toContain(`adapter: [provision] content: <psk ${fingerprint(KEY)}>`);
    expect(all).toContain('adapter: [provision] file matches env');
    expect(all).toContain('adapter: [provision] mode: 600');
    expect(all).toContain('adapter: [provision] identity: dev1');
    expect(all).toContain(`adapter: [provision] endpoint: ${params.endpoint}`);
    const argv = r.notes.find((n) => n.includes('] argv: '))!;
    expect(argv).toContain(`--ep ${params.endpoint} --uri coap://127.0.0.1:5683`);
    const cmdline = r.notes.find((n) => n.includes('] cmdline: '))!;
    expect(cmdline).toContain(script);
    const env = r.notes.find((n) => n.includes('] env: '))!;
    for (const name of ['GEISA_BS_URI', 'GEISA_ENDPOINT', 'GEISA_STATE_DIR', 'GEISA_PSK_IDENTITY', 'GEISA_PSK_FILE', 'GEISA_PSK_HEX']) {
      expect(env).toContain(name);
    }
    // The key file is gone once the action is over.
    const file = r.notes.find((n) => n.includes('] file: '))!.split('] file: ')[1];
    expect(file.length).toBeGreaterThan(0);
    expect(existsSync(file)).toBe(false);
    await adapter.dispose();
  });

  test('without secrets no PSK variables are set, even inherited ones', async () => {
    process.env.GEISA_PSK_HEX = 'stale';
    try {
      const adapter = adapterFor({ start: exec('echo "[$GEISA_PSK_HEX][$GEISA_PSK_FILE][$GEISA_BS_PORT]"') });
      const r = recorder();
      await adapter.run('start', params, {}, r.hooks);
      expect(r.notes).toContain('adapter: [start] [][][5683]');
      await adapter.dispose();
    } finally {
      delete process.env.GEISA_PSK_HEX;
    }
  });

  test('non-zero exit is an AdapterError with the code and the last lines', async () => {
    const adapter = adapterFor({ reboot: exec('for i in 1 2 3 4 5 6 7 8 9 10; do echo line $i; done; exit 3') });
    const err = await rejection(adapter.run('reboot', params, {}, recorder().hooks));
    expect(err.action).toBe('reboot');
    expect(err.detail).toMatch(/^exited with code 3; last output:\n/);
    expect(err.detail).toContain('line 10');
    expect(err.detail).not.toContain('line 1\n');
  });

  test('timeout kills the whole process group', async () => {
    const adapter = adapterFor({ provision: exec('sleep 30 & echo "sleeper $!"; wait', { timeoutS: 1 }) });
    const r = recorder();
    const begin = Date.now();
    const err = await rejection(adapter.run('provision', params, {}, r.hooks));
    const elapsed = Date.now() - begin;
    expect(err.detail).toMatch(/^timed out after 1 s/);
    expect(elapsed).toBeLessThan(10_000);
    expect(isAlive(pidFromNotes(r.notes, 'sleeper'))).toBe(false);
    await adapter.dispose();
  });

  test('a process that ignores SIGTERM is killed after the grace period', async () => {
    const adapter = adapterFor({ provision: exec(`trap '' TERM; echo "stubborn $$"; while :; do sleep 1; done`, { timeoutS: 1 }) }, { killGraceMs: 300 });
    const r = recorder();
    const err = await rejection(adapter.run('provision', params, {}, r.hooks));
    expect(err.detail).toMatch(/^timed out/);
    expect(isAlive(pidFromNotes(r.notes, 'stubborn'))).toBe(false);
  });

  test('background start: ready on a matching line, killed on dispose', async () => {
    const adapter = adapterFor({
      start: exec('sleep 30 & echo "device $!"; sleep 0.2; echo "listening on 5683"; wait', {
        background: true,
        readyLine: '^listening on \\d+',
      }),
    });
    const r = recorder();
    await adapter.run('start', params, { pskKey: KEY }, r.hooks);
    expect(r.notes.at(-1)).toBe('adapter: [start] listening on 5683');
    const pid = pidFromNotes(r.notes, 'device');
    expect(isAlive(pid)).toBe(true);
    const begin = Date.now();
    await adapter.dispose();
    expect(Date.now() - begin).toBeLessThan(5000);
    expect(isAlive(pid)).toBe(false);
    await adapter.dispose();
  });

  test('background start without stop action: stop ends its process group', async () => {
    const adapter = adapterFor({ start: exec('echo "device $$"; exec sleep 30', { background: true }) });
    expect(adapter.supports('stop')).toBe(true);
    expect(adapter.supports('reboot')).toBe(false);
    const r = recorder();
    await adapter.run('start', params, {}, r.hooks);
    // No readyLine: done once spawned; wait for the pid line to arrive.
    for (let i = 0; i < 100 && !r.notes.some((n) => /\] device \d+$/.test(n)); i++) await new Promise((res) => setTimeout(res, 20));
    const pid = pidFromNotes(r.notes, 'device');
    expect(isAlive(pid)).toBe(true);
    await adapter.run('stop', params, {}, r.hooks);
    expect(isAlive(pid)).toBe(false);
    expect(r.notes).toContain(`adapter: [stop] stopping background start process group ${pid}`);
    await adapter.dispose();
  });

  test('dispose() returns only after the killed background process was reported: nothing is noted after it (a report closed then stays untouched)', async () => {
    // A device that exits at once on SIGTERM is the case where the exit note raced the caller.
    const adapter = adapterFor({ start: exec('echo "ready $$"; exec sleep 30', { background: true, readyLine: '^ready' }) });
    const r = recorder();
    await adapter.run('start', params, {}, r.hooks);
    await adapter.dispose();
    const atDispose = r.notes.length;
    expect(r.notes.some((n) => /\[start\] background process \d+ was killed by SIGTERM/.test(n))).toBe(true);
    // Whatever the event loop still had queued runs now; it must add nothing.
    await new Promise((res) => setImmediate(res));
    expect(r.notes.length).toBe(atDispose);
  });

  test('background start that exits before its ready line', async () => {
    const adapter = adapterFor({
      start: exec('echo "cannot open port"; exit 2', { background: true, readyLine: 'ready' }),
    });
    const err = await rejection(adapter.run('start', params, {}, recorder().hooks));
    expect(err.detail).toMatch(/^background process exited with code 2 before an output line matched \/ready\//);
    expect(err.detail).toContain('cannot open port');
    await adapter.dispose();
  });

  test('undefined action and use after dispose', async () => {
    const adapter = adapterFor({ start: exec('true') });
    expect(adapter.supports('factoryReset')).toBe(false);
    const err = await rejection(adapter.run('factoryReset', params, {}, recorder().hooks));
    expect(err.detail).toContain('defines no exec command');
    await adapter.dispose();
    await rejection(adapter.run('start', params, {}, recorder().hooks));
  });
});

describe('createProfileAdapter', () => {
  test('picks the adapter by kind and runs commands in the profile directory', async () => {
    const profile = parseProfile('schema: geisa-adm-profile/1\ndut: { endpoint: e }\nadapter:\n  kind: exec\n  actions:\n    start: { exec: pwd }\n', join(workDir, 'dut.yaml'));
    const adapter = createProfileAdapter(profile);
    expect(adapter).toBeInstanceOf(ExecAdapter);
    const r = recorder();
    await adapter.run('start', params, {}, r.hooks);
    expect(r.notes).toContain(`adapter: [start] ${workDir}`);
    await adapter.dispose();
  });

  test('manual and mixed profiles; simulator is refused', async () => {
    const manual = parseProfile('schema: geisa-adm-profile/1\ndut: { endpoint: e }\nadapter:\n  kind: manual\n  actions:\n    start: { manual: go }\n', 'm.yaml');
    expect(createProfileAdapter(manual)).toBeInstanceOf(ManualAdapter);
    const mixed = parseProfile('schema: geisa-adm-profile/1\ndut: { endpoint: e }\nadapter:\n  kind: mixed\n  actions:\n    start: { manual: "Power on" }\n    provision: { exec: "echo provisioned" }\n', join(workDir, 'mixed.yaml'));
    const adapter = createProfileAdapter(mixed, { manual: { isTTY: false } });
    expect(adapter).toBeInstanceOf(MixedAdapter);
    expect(adapter.kind).toBe('mixed');
    expect(adapter.supports('start') && adapter.supports('provision')).toBe(true);
    expect(adapter.supports('reboot')).toBe(false);
    const r = recorder();
    await adapter.run('provision', params, {}, r.hooks);
    expect(r.notes).toContain('adapter: [provision] provisioned');
    // start is the manual one: without a terminal it fails fast rather than running anything.
    const err = await rejection(adapter.run('start', params, {}, r.hooks));
    expect(err.detail).toContain('not a TTY');
    await adapter.dispose();
    expect(() => createProfileAdapter(defaultSimulatorProfile())).toThrow(/simulator/);
  });
});

describe('certificate material for provisioning', () => {
  test('reaches the action as 0600 files named in the environment; the private key never reaches the evidence', async () => {
    const { createCa, issueCertificate } = await import('../harness/pki/certificates.js');
    const ca = await createCa('manufacturer');
    const dev = await issueCertificate(ca, { commonName: 'dev', usage: 'client' });
    const adapter = new ExecAdapter({
      provision: exec('stat -c %a "$GEISA_KEY_FILE"; head -2 "$GEISA_CERT_FILE"; cat "$GEISA_KEY_FILE"; echo usage=$GEISA_CERTIFICATE_USAGE; test -s "$GEISA_TRUST_FILE" && echo trust-ok'),
    });
    const r = recorder();
    try {
      await adapter.run('provision', params, { certificates: { certPem: dev.certPem, keyPem: dev.keyPem, trustPem: ca.certPem, usage: 2 } }, r.hooks);
    } finally {
      await adapter.dispose();
    }
    const notes = r.notes.join('\n');
    expect(notes).toContain('[provision] 600');
    expect(notes).toContain('-----BEGIN CERTIFICATE-----');
    expect(notes).toContain('usage=2');
    expect(notes).toContain('trust-ok');
    const keyLines = dev.keyPem.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'));
    expect(keyLines.length).toBeGreaterThan(0);
    for (const line of keyLines) expect(notes).not.toContain(line);
    expect(notes).toMatch(/<private key sha256:[0-9a-f]{8}/);
  }, 30_000);
});

describe('factory server account (TC-BS-18)', () => {
  const SERVER_KEY = Buffer.from('a0a1a2a3a4a5a6a7a8a9aaabacadaeaf', 'hex');
  const withServer: ActionParams = { ...params, serverUri: 'coaps://127.0.0.1:5690', serverSsid: 101, serverLifetime: 30 };

  test('{serverUri} {serverSsid} {serverLifetime} are substituted, and expand to empty words when the case provisions no server account', () => {
    const template = 'printf "%s|" {serverUri} {serverSsid} {serverLifetime} {bsPort}';
    expect(templateProblems(template, 'shell')).toEqual([]);
    const filled = spawnSync('/bin/sh', ['-c', expandTemplate(template, withServer, 'provision', 'shell')], { encoding: 'utf8' });
    expect(filled.stdout).toBe('coaps://127.0.0.1:5690|101|30|5683|');
    const empty = spawnSync('/bin/sh', ['-c', expandTemplate(template, params, 'provision', 'shell')], { encoding: 'utf8' });
    expect(empty.stdout).toBe('|||5683|');
    expect(expandTemplate('Add LwM2M Server {serverUri} (SSID {serverSsid})', withServer, 'provision', 'text')).toBe('Add LwM2M Server coaps://127.0.0.1:5690 (SSID 101)');
  });

  test('an adapter takes a server account only when its provision action names {serverUri} or reads $GEISA_SERVER_URI', () => {
    expect(new ExecAdapter({ provision: exec('tool --bs {bsUri}') }).takesServerAccount()).toBe(false);
    expect(new ExecAdapter({ start: exec('tool --dm {serverUri}') }).takesServerAccount()).toBe(false);
    expect(new ExecAdapter({ provision: exec('tool --bs {bsUri} --dm {serverUri}') }).takesServerAccount()).toBe(true);
    expect(new ExecAdapter({ provision: exec('tool --dm "$GEISA_SERVER_URI"') }).takesServerAccount()).toBe(true);
    expect(new ExecAdapter({ provision: exec("tool --dm '$GEISA_SERVER_URI_X'") }).takesServerAccount()).toBe(false);
    expect(new ManualAdapter({ provision: { type: 'manual', instruction: 'Set the BS URI to {bsUri}' } }).takesServerAccount()).toBe(false);
    expect(new ManualAdapter({ provision: { type: 'manual', instruction: 'Set the EMS URI to {serverUri}' } }).takesServerAccount()).toBe(true);
  });

  test('the server PSK reaches the command as GEISA_SERVER_PSK_IDENTITY and a 0600 file, never on the command line or in the evidence', async () => {
    const adapter = new ExecAdapter({
      provision: exec(
        'echo "uri=$GEISA_SERVER_URI ssid=$GEISA_SERVER_SSID lt=$GEISA_SERVER_LIFETIME id=$GEISA_SERVER_PSK_IDENTITY"; stat -c "mode=%a" "$GEISA_SERVER_PSK_FILE"; ' +
          'cat "$GEISA_SERVER_PSK_FILE"; test "$(cat "$GEISA_SERVER_PSK_FILE")" = "$GEISA_SERVER_PSK_HEX" && echo file-matches-env; echo argv: {serverUri}',
      ),
    });
    const r = recorder();
    try {
      await adapter.run('provision', withServer, { serverPskIdentity: 'dm-1', serverPskKey: SERVER_KEY }, r.hooks);
    } finally {
      await adapter.dispose();
    }
    const notes = r.notes.join('\n');
    expect(notes).toContain('[provision] uri=coaps://127.0.0.1:5690 ssid=101 lt=30 id=dm-1');
    expect(notes).toContain('[provision] mode=600');
    expect(notes).toContain(`[provision] <psk ${fingerprint(SERVER_KEY)}>`);
    expect(notes).toContain('[provision] file-matches-env');
    expect(notes).toContain('[provision] argv: coaps://127.0.0.1:5690');
    expect(notes).not.toMatch(new RegExp(SERVER_KEY.toString('hex'), 'i'));
  }, 30_000);
});
