import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprint, fingerprintObject } from '../harness/profile/fingerprint.js';
import { claims, ICS_REGISTRY, icsEntry, missingMandatory } from '../harness/profile/ics-registry.js';
import { defaultSimulatorProfile, loadProfile, parseProfile, ProfileError, redactProfile, type Profile } from '../harness/profile/load.js';
import { PROFILE_DEFAULTS, PROFILE_SCHEMA } from '../harness/profile/schema.js';

const PSK_HEX = '00112233445566778899AABBCCDDEEFF';

const FULL_YAML = `schema: geisa-adm-profile/1
dut:
  name: "Acme meter X1"
  endpoint: "urn:dev:os:acme-x1-0001"
adapter:
  kind: mixed
  actions:
    provision: { exec: "vendor-tool provision --uri {bsUri} --ep {endpoint} --psk-file $GEISA_PSK_FILE", timeoutS: 5 }
    start: { manual: "Power on the meter" }
    stop:
      exec: vendor-tool off
harness:
  listenAddress: "0.0.0.0"
  advertiseHost: "192.0.2.10"
  bootstrapPort: 5683
ixit:
  coap: { ackTimeoutS: 3, nstart: 1 }
  lifetimeS: 60
ics:
  bootstrap.client-initiated: true
  content-format.senml-json: true
  coap.block1: false
secrets:
  bootstrapPsk: { identity: "dev1", keyHex: "${PSK_HEX}" }
`;

/** Runs the parser expecting failure; returns the error so tests can inspect every line. */
function parseError(text: string, file = 'dut.yaml'): ProfileError {
  try {
    parseProfile(text, file);
  } catch (err) {
    expect(err).toBeInstanceOf(ProfileError);
    return err as ProfileError;
  }
  throw new Error('expected a ProfileError');
}

const MINIMAL = `schema: geisa-adm-profile/1
dut:
  endpoint: ep-1
adapter:
  kind: exec
  actions:
    start: { exec: "true" }
`;

describe('parseProfile: valid profiles', () => {
  test('full YAML profile is read and the rest defaulted', () => {
    const p = parseProfile(FULL_YAML, 'acme.yaml');
    expect(p.source).toBe('acme.yaml');
    expect(p.dut).toEqual({ name: 'Acme meter X1', endpoint: 'urn:dev:os:acme-x1-0001' });
    expect(p.adapter.kind).toBe('mixed');
    expect(p.adapter.actions.provision).toEqual({
      type: 'exec',
      command: 'vendor-tool provision --uri {bsUri} --ep {endpoint} --psk-file $GEISA_PSK_FILE',
      timeoutS: 5,
      background: false,
    });
    expect(p.adapter.actions.start).toEqual({ type: 'manual', instruction: 'Power on the meter' });
    expect(p.adapter.actions.stop).toMatchObject({ type: 'exec', command: 'vendor-tool off', timeoutS: 60 });
    expect(p.adapter.actions.reboot).toBeUndefined();
    expect(p.harness).toEqual({
      listenAddress: '0.0.0.0',
      advertiseHost: '192.0.2.10',
      bootstrapPort: 5683,
      serverPort: 0,
    });
    expect(p.ixit.coap).toEqual({ ackTimeoutS: 3, ackRandomFactor: 1.5, maxRetransmit: 4, nstart: 1 });
    expect(p.ixit.lifetimeS).toBe(60);
    expect(p.ixit.retryTimerS).toBe(PROFILE_DEFAULTS.ixit.retryTimerS);
    expect(p.ics).toEqual({
      'bootstrap.client-initiated': true,
      'content-format.senml-json': true,
      'coap.block1': false,
    });
    expect(p.secrets.bootstrapPsk?.identity).toBe('dev1');
    expect(p.secrets.bootstrapPsk?.key.toString('hex')).toBe(PSK_HEX.toLowerCase());
  });

  test('a JSON profile (tab-indented) gives the same result as the YAML one', () => {
    const fromYaml = parseProfile(FULL_YAML, 'a.yaml');
    const json = JSON.stringify(JSON.parse(JSON.stringify(fromYamlAsRaw())), null, '\t');
    const fromJson = parseProfile(json, 'a.json');
    expect({ ...fromJson, source: 'x' }).toEqual({ ...fromYaml, source: 'x' });
  });

  test('minimal profile gets every default', () => {
    const p = parseProfile(MINIMAL, 'min.yaml');
    expect(p.dut.name).toBe('ep-1');
    expect(p.harness).toEqual({ listenAddress: '127.0.0.1', advertiseHost: '127.0.0.1', bootstrapPort: 0, serverPort: 0 });
    expect(p.ixit).toEqual({
      coap: { ackTimeoutS: 2, ackRandomFactor: 1.5, maxRetransmit: 4, nstart: 1 },
      startupBoundS: 30,
      lifetimeS: 20,
      retryTimerS: 1,
      retryCount: 3,
      sequenceDelayTimerS: 4,
      sequenceRetryCount: 1,
      holdOffS: 0,
      est: { keyType: 'ec-p256', endpointNameInSubject: true, certificateLifetimeS: 30, raDiscovery: 'bootstrap-server' },
    });
    expect(p.ics).toEqual({});
    expect(p.secrets).toEqual({});
    expect(p.adapter.actions.start).toEqual({ type: 'exec', command: 'true', timeoutS: 60, background: false });
  });

  test('optional sections left empty (all lines commented out) count as absent', () => {
    const p = parseProfile(MINIMAL + 'ics:\n  # bootstrap.factory: true\nsecrets:\n', 'empty-sections.yaml');
    expect(p.ics).toEqual({});
    expect(p.secrets).toEqual({});
  });

  test('a simulator profile needs no actions', () => {
    const p = parseProfile('schema: geisa-adm-profile/1\ndut: { endpoint: sim }\nadapter: { kind: simulator }\n', 's.yaml');
    expect(p.adapter).toEqual({ kind: 'simulator', actions: {}, parallel: PROFILE_DEFAULTS.simulatorParallel });
  });

  test('background start with readyLine', () => {
    const p = parseProfile(MINIMAL.replace('start: { exec: "true" }', 'start: { exec: "./sim --ep {endpoint}", background: true, readyLine: "^ready" }'), 'bg.yaml');
    expect(p.adapter.actions.start).toEqual({
      type: 'exec',
      command: './sim --ep {endpoint}',
      timeoutS: 60,
      background: true,
      readyLine: '^ready',
    });
  });

  test('loadProfile reads a file from disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'geisa-profile-'));
    const file = join(dir, 'dut.yaml');
    writeFileSync(file, MINIMAL);
    try {
      expect(loadProfile(file).source).toBe(file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** The full profile as plain data, for building the JSON variant. */
function fromYamlAsRaw(): unknown {
  return {
    schema: 'geisa-adm-profile/1',
    dut: { name: 'Acme meter X1', endpoint: 'urn:dev:os:acme-x1-0001' },
    adapter: {
      kind: 'mixed',
      actions: {
        provision: {
          exec: 'vendor-tool provision --uri {bsUri} --ep {endpoint} --psk-file $GEISA_PSK_FILE',
          timeoutS: 5,
        },
        start: { manual: 'Power on the meter' },
        stop: { exec: 'vendor-tool off' },
      },
    },
    harness: { listenAddress: '0.0.0.0', advertiseHost: '192.0.2.10', bootstrapPort: 5683 },
    ixit: { coap: { ackTimeoutS: 3, nstart: 1 }, lifetimeS: 60 },
    ics: { 'bootstrap.client-initiated': true, 'content-format.senml-json': true, 'coap.block1': false },
    secrets: { bootstrapPsk: { identity: 'dev1', keyHex: PSK_HEX } },
  };
}

describe('parseProfile: errors name file, line:column and field', () => {
  test('wrong type', () => {
    const text = MINIMAL + 'ixit:\n  coap:\n    ackTimeoutS: two\n';
    const err = parseError(text);
    expect(err.message).toBe('profile dut.yaml:10:18: ixit.coap.ackTimeoutS must be a number > 0 (got "two")');
    expect(err.problems).toEqual([{ line: 10, col: 18, path: 'ixit.coap.ackTimeoutS', text: 'ixit.coap.ackTimeoutS must be a number > 0 (got "two")' }]);
  });

  test('out-of-range integer', () => {
    const err = parseError(MINIMAL + 'harness:\n  serverPort: 70000\n');
    expect(err.message).toBe('profile dut.yaml:9:15: harness.serverPort must be an integer from 0 to 65535 (got 70000)');
  });

  test('YAML syntax error', () => {
    const err = parseError('schema: geisa-adm-profile/1\ndut:\n  endpoint: [ep\nadapter: { kind: exec }\n', 'broken.yaml');
    expect(err.message).toMatch(/^profile broken\.yaml:\d+:\d+: YAML syntax error: /);
    expect(err.problems[0].line).toBeGreaterThanOrEqual(3);
  });

  test('duplicate key is a syntax error on its line', () => {
    const err = parseError(MINIMAL + 'dut: { endpoint: again }\n');
    expect(err.message).toMatch(/^profile dut\.yaml:8:1: YAML syntax error: Map keys must be unique/);
  });

  test('unknown top-level key, with a suggestion', () => {
    const err = parseError(MINIMAL + 'harnes:\n  serverPort: 1\n');
    expect(err.message).toBe('profile dut.yaml:8:1: unknown top-level key "harnes" (did you mean "harness"?)');
  });

  test('unknown nested key', () => {
    const err = parseError(MINIMAL + 'ixit:\n  coap: { ackTimeout: 2 }\n');
    expect(err.message).toBe('profile dut.yaml:9:11: ixit.coap.ackTimeout is not a known key (did you mean "ackTimeoutS"?)');
  });

  test('unknown ICS key', () => {
    const err = parseError(MINIMAL + 'ics:\n  bootstrap.client-initiated: true\n  bootstrap.client-initated: true\n');
    expect(err.message).toBe('profile dut.yaml:10:3: ics["bootstrap.client-initated"] is not a known ICS key (did you mean "bootstrap.client-initiated"?)');
  });

  test('missing start for an exec adapter', () => {
    const text = 'schema: geisa-adm-profile/1\ndut:\n  endpoint: ep\nadapter:\n  kind: exec\n  actions:\n    stop: { exec: "true" }\n';
    const err = parseError(text);
    expect(err.message).toBe('profile dut.yaml:6:3: adapter.actions.start is required when adapter.kind is "exec"');
  });

  test('missing actions for a manual adapter', () => {
    const err = parseError('schema: geisa-adm-profile/1\ndut: { endpoint: ep }\nadapter:\n  kind: manual\n');
    expect(err.message).toBe('profile dut.yaml:3:1: adapter.actions is required when adapter.kind is "manual"');
  });

  test('an action with both exec and manual, and one with neither', () => {
    const err = parseError(MINIMAL.replace('start: { exec: "true" }', 'start: { exec: "true", manual: "x" }\n    stop: { timeoutS: 3 }'));
    const lines = err.message.split('\n');
    expect(lines).toContain('profile dut.yaml:7:12: adapter.actions.start must have exactly one of "exec" or "manual"');
    expect(lines).toContain('profile dut.yaml:8:11: adapter.actions.stop must have exactly one of "exec" or "manual"');
    expect(lines).toContain('profile dut.yaml:8:13: adapter.actions.stop.timeoutS is only allowed together with "exec"');
  });

  test('every schema error is listed, in file order', () => {
    const text = ['schema: geisa-adm-profile/2', 'dut: { endpoint: "" }', 'adapter: { kind: robot }', 'ixit: { lifetimeS: 2.5, retryCount: 0 }'].join('\n');
    const err = parseError(text, 'many.yaml');
    expect(err.message.split('\n')).toEqual([
      'profile many.yaml:1:9: schema must be "geisa-adm-profile/1" (got "geisa-adm-profile/2")',
      'profile many.yaml:2:18: dut.endpoint must be a non-empty string (got "")',
      'profile many.yaml:3:18: adapter.kind must be one of "simulator", "exec", "manual", "mixed" (got "robot")',
      'profile many.yaml:4:20: ixit.lifetimeS must be an integer >= 1 (got 2.5)',
      'profile many.yaml:4:37: ixit.retryCount must be an integer >= 1 (got 0)',
    ]);
  });

  test('missing schema line says what to write', () => {
    const err = parseError(MINIMAL.replace('schema: geisa-adm-profile/1\n', ''));
    expect(err.message).toBe('profile dut.yaml:1:1: schema is required (set it to "geisa-adm-profile/1")');
  });

  test('errors in a JSON file carry JSON line numbers', () => {
    const json = '{\n  "schema": "geisa-adm-profile/1",\n  "dut": { "endpoint": "ep" },\n  "adapter": {\n    "kind": "exec",\n    "actions": { "start": { "exec": "true", "timeoutS": -1 } }\n  }\n}\n';
    const err = parseError(json, 'dut.json');
    expect(err.message).toBe('profile dut.json:6:57: adapter.actions.start.timeoutS must be a number > 0 (got -1)');
  });

  test('empty file', () => {
    expect(parseError('', 'empty.yaml').message).toBe('profile empty.yaml:1:1: the file is empty');
  });

  test('a file that cannot be read', () => {
    const missing = join(tmpdir(), 'geisa-no-such-dir', 'nope.yaml');
    expect(() => loadProfile(missing)).toThrow(ProfileError);
    expect(() => loadProfile(missing)).toThrow(`profile ${missing}: cannot read the file: ENOENT`);
  });

  test('a YAML alias bomb is a profile error at the alias, not a crash', () => {
    // Each level repeats the one before nine times: expanding it all would take 9^12 nodes.
    const levels = ['a0: &a0 [x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i <= 12; i++)
      levels.push(
        `a${i}: &a${i} [${Array(9)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    const err = parseError(`schema: geisa-adm-profile/1\n${levels.join('\n')}\n`, 'bomb.yaml');
    expect(err.problems).toHaveLength(1);
    expect(err.message).toMatch(/^profile bomb\.yaml:3:\d+: .*aliases/);
  });

  test('thousands of syntax errors are capped at a few dozen lines with a count of the rest', () => {
    const junk = Array.from({ length: 5000 }, (_, i) => (i % 2 ? 'a: b: c' : '  - ]')).join('\n') + '\n';
    const err = parseError(junk, 'junk.yaml');
    const lines = err.message.split('\n');
    expect(lines.length).toBeLessThanOrEqual(41);
    expect(lines.at(-1)).toMatch(/^profile junk\.yaml: \.\.\. and \d+ more problems$/);
    expect(Number(/and (\d+) more/.exec(lines.at(-1)!)![1]) + lines.length - 1).toBe(err.problems.length);
    // A line of binary junk is not echoed whole.
    const binary = parseError('schema: x\n' + '\u0001'.repeat(5000) + ': [\n', 'bin.yaml');
    for (const line of binary.message.split('\n')) expect(line.length).toBeLessThan(400);
  });

  test('a directory given as the profile says so', () => {
    const dir = mkdtempSync(join(tmpdir(), 'geisa-profile-dir-'));
    try {
      expect(() => loadProfile(dir)).toThrow(`profile ${dir}: is a directory, not a profile file (give the YAML or JSON file of the device)`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a file far larger than any profile is refused before it is parsed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'geisa-profile-big-'));
    try {
      const file = join(dir, 'big.yaml');
      writeFileSync(file, 'a: b: c\n'.repeat(700_000));
      const started = Date.now();
      expect(() => loadProfile(file)).toThrow(/^profile .*big\.yaml: is 5\.\d MB, far larger than any profile \(at most 1 MB\): is it the right file\?$/);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an unquoted all-digit key is explained without showing the key', () => {
    const err = parseError(MINIMAL + 'secrets:\n  bootstrapPsk: { identity: dev1, keyHex: 00112233 }\n');
    expect(err.message).toBe('profile dut.yaml:9:43: secrets.bootstrapPsk.keyHex must be a string of hex digits, two per byte');
    expect(err.message).not.toContain('112233');
  });

  test('a malformed key is not echoed', () => {
    const err = parseError(MINIMAL + 'secrets:\n  bootstrapPsk: { identity: dev1, keyHex: "00112233445z" }\n');
    expect(err.message).toContain('secrets.bootstrapPsk.keyHex must be a string of hex digits, two per byte');
    expect(err.message).not.toContain('445z');
  });

  test('a number where a string belongs suggests quotes', () => {
    const err = parseError(MINIMAL.replace('endpoint: ep-1', 'endpoint: 1234'));
    expect(err.message).toBe('profile dut.yaml:3:13: dut.endpoint must be a non-empty string (got 1234; YAML read it as a number, put it in quotes)');
  });
});

describe('parseProfile: rules beyond the schema', () => {
  test('a manual action in an exec profile', () => {
    const err = parseError(MINIMAL + '    reboot: { manual: "unplug it" }\n');
    expect(err.message).toBe('profile dut.yaml:8:13: adapter.actions.reboot is a manual action but adapter.kind is "exec" (use "mixed" to combine both)');
  });

  test('simulator with actions', () => {
    const err = parseError('schema: geisa-adm-profile/1\ndut: { endpoint: e }\nadapter:\n  kind: simulator\n  actions:\n    start: { exec: x }\n');
    expect(err.message).toMatch(/^profile dut\.yaml:5:3: adapter\.actions must not be set when adapter\.kind is "simulator"/);
  });

  test('unknown or quoted placeholder in an exec template is caught at load time', () => {
    const err = parseError(MINIMAL.replace('start: { exec: "true" }', `start: { exec: "sim --uri '{bsUri}' --ep {endpiont}" }`));
    const lines = err.message.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^profile dut\.yaml:7:20: adapter\.actions\.start\.exec: placeholder \{bsUri\} is inside quotes/);
    expect(lines[1]).toMatch(/^profile dut\.yaml:7:20: adapter\.actions\.start\.exec: unknown placeholder \{endpiont\}/);
  });

  test('background is only for start; readyLine needs background and must compile', () => {
    const err = parseError(MINIMAL.replace('start: { exec: "true" }', 'start: { exec: "sim", readyLine: "x" }'));
    expect(err.message).toBe('profile dut.yaml:7:27: adapter.actions.start.readyLine is only allowed together with "background"');
    const err1 = parseError(MINIMAL + '    provision: { exec: "p", background: true }\n');
    expect(err1.message).toBe('profile dut.yaml:8:29: adapter.actions.provision.background is only allowed on the start action');
    const err3 = parseError(MINIMAL.replace('start: { exec: "true" }', 'start: { exec: "sim", background: false, readyLine: "x" }'));
    expect(err3.message).toMatch(/^profile dut\.yaml:7:46: adapter\.actions\.start\.readyLine needs background: true$/);
    const err2 = parseError(MINIMAL.replace('start: { exec: "true" }', 'start: { exec: "sim", background: true, readyLine: "(" }'));
    expect(err2.message).toMatch(/^profile dut\.yaml:7:56: adapter\.actions\.start\.readyLine is not a valid regular expression/);
  });

  test('listening on 0.0.0.0 needs advertiseHost', () => {
    const err = parseError(MINIMAL + 'harness:\n  listenAddress: 0.0.0.0\n');
    expect(err.message).toMatch(/^profile dut\.yaml:9:3: harness\.advertiseHost is required when harness\.listenAddress is 0\.0\.0\.0/);
  });

  test('listenAddress must be an IP address; ports must differ', () => {
    const err = parseError(MINIMAL + 'harness:\n  listenAddress: localhost\n  bootstrapPort: 5683\n  serverPort: 5683\n');
    expect(err.message.split('\n')).toEqual([
      'profile dut.yaml:9:18: harness.listenAddress must be an IPv4 or IPv6 address (got "localhost")',
      'profile dut.yaml:11:15: harness.serverPort must differ from harness.bootstrapPort (both 5683)',
    ]);
  });
});

describe('defaults, redaction, fingerprints', () => {
  test('default simulator profile', () => {
    const p: Profile = defaultSimulatorProfile();
    expect(p.adapter.kind).toBe('simulator');
    expect(p.dut.endpoint).toBe('urn:dev:ops:geisa-ref-0001');
    expect(p.harness.listenAddress).toBe('127.0.0.1');
    expect(p.harness.advertiseHost).toBe('127.0.0.1');
    expect(p.ixit).toEqual({
      coap: { ackTimeoutS: 1, ackRandomFactor: 1.5, maxRetransmit: 2, nstart: 1, maxLatencyS: 1 },
      startupBoundS: 10,
      lifetimeS: 10,
      retryTimerS: 1,
      retryCount: 3,
      sequenceDelayTimerS: 4,
      sequenceRetryCount: 1,
      holdOffS: 0,
      est: { keyType: 'ec-p256', endpointNameInSubject: true, certificateLifetimeS: 12, raDiscovery: 'bootstrap-server' },
    });
    // Each call is independent: a caller mutating its copy must not affect the next run.
    p.ixit.coap.ackTimeoutS = 99;
    expect(defaultSimulatorProfile().ixit.coap.ackTimeoutS).toBe(1);
  });

  test('redacted profile contains no key material in any form', () => {
    const p = parseProfile(FULL_YAML, 'acme.yaml');
    const key = p.secrets.bootstrapPsk!.key;
    const json = JSON.stringify(redactProfile(p));
    expect(json).not.toContain(PSK_HEX.toLowerCase());
    expect(json).not.toContain(PSK_HEX.toUpperCase());
    expect(json).not.toContain(key.toString('base64'));
    expect(json).not.toContain(JSON.stringify([...key]).slice(1, -1));
    expect(json).not.toContain('"Buffer"');
    const redacted = JSON.parse(json) as { secrets: { bootstrapPsk: unknown }; dut: unknown };
    expect(redacted.secrets.bootstrapPsk).toEqual({ identity: 'dev1', key: fingerprintObject(key) });
    expect(redacted.dut).toEqual(p.dut);
    // The original keeps its key.
    expect(p.secrets.bootstrapPsk!.key.equals(Buffer.from(PSK_HEX, 'hex'))).toBe(true);
  });

  test('fingerprint format', () => {
    const buf = Buffer.from('abc');
    // sha256("abc") = ba7816bf...
    expect(fingerprint(buf)).toBe('sha256:ba7816bf (3 bytes)');
    expect(fingerprintObject(buf)).toEqual({ length: 3, sha256: 'ba7816bf' });
  });
});

describe('ICS registry', () => {
  test('required entries are present with their catalog ids', () => {
    const expected: [string, string, string | undefined][] = [
      ['bootstrap.client-initiated', 'mandatory', 'GEISA-ADM-BS-01'],
      ['bootstrap.out-of-band-provisioning', 'mandatory', 'GEISA-ADM-BS-02'],
      ['bootstrap.factory', 'optional', 'GEISA-ADM-BS-03'],
      ['bootstrap.server-initiated', 'optional', 'GEISA-ADM-BS-03'],
      ['content-format.tlv', 'optional', 'LWM2M-CORE-BS-07'],
      ['content-format.senml-json', 'optional', 'LWM2M-CORE-BS-07'],
      ['content-format.senml-cbor', 'optional', 'LWM2M-CORE-BS-07'],
      ['content-format.lwm2m-cbor', 'optional', undefined],
      ['server.bootstrap-request-trigger', 'optional', 'LWM2M-CORE-BS-17'],
      ['server.communication-retry', 'mandatory', 'LWM2M-CORE-RETRY-01'],
      ['registration.persisted-state', 'optional', 'GEISA-ADM-REG-05'],
      ['transport.dtls-psk', 'mandatory', 'LWM2M-TRANS-DTLS-02'],
      ['transport.dtls-certificate', 'mandatory', 'LWM2M-TRANS-DTLS-03'],
      ['coap.block1', 'optional', 'COAP-06'],
    ];
    for (const [key, status, requirement] of expected) {
      const entry = icsEntry(key);
      expect(entry.status).toBe(status);
      if (requirement) expect(entry.requirement).toBe(requirement);
      expect(entry.description.length).toBeGreaterThan(10);
    }
    expect(new Set(ICS_REGISTRY.map((e) => e.key)).size).toBe(ICS_REGISTRY.length);
  });

  test('claims applies status defaults; missingMandatory lists disclaimed mandatory keys', () => {
    const ics = { 'transport.dtls-certificate': false, 'coap.block1': true, 'bootstrap.factory': false };
    expect(claims(ics, 'bootstrap.client-initiated')).toBe(true);
    expect(claims(ics, 'transport.dtls-certificate')).toBe(false);
    expect(claims(ics, 'content-format.tlv')).toBe(false);
    expect(claims(ics, 'coap.block1')).toBe(true);
    expect(claims(ics, 'bootstrap.factory')).toBe(false);
    expect(missingMandatory(ics)).toEqual(['transport.dtls-certificate']);
    expect(missingMandatory({})).toEqual([]);
  });

  test('unknown key is a programming error', () => {
    expect(() => icsEntry('coap.block2')).toThrow("unknown ICS key 'coap.block2'");
    expect(() => claims({}, 'coap.block2')).toThrow();
  });

  test('the schema accepts exactly the registry keys under ics', () => {
    expect(Object.keys(PROFILE_SCHEMA.properties.ics.properties).sort()).toEqual(ICS_REGISTRY.map((e) => e.key).sort());
  });
});

describe('adapter.parallel: how many instances of the device can run at once', () => {
  const withParallel = (kind: string, n: number, extra = '') =>
    `schema: geisa-adm-profile/1\ndut: { endpoint: e }\nadapter:\n  kind: ${kind}\n  parallel: ${n}\n  actions:\n    start: { ${kind === 'exec' ? 'exec: "true"' : 'manual: "Power on"'} }\n${extra}`;

  test('defaults: several for the bundled simulator, 1 for every other adapter', () => {
    expect(defaultSimulatorProfile().adapter.parallel).toBe(PROFILE_DEFAULTS.simulatorParallel);
    expect(PROFILE_DEFAULTS.simulatorParallel).toBeGreaterThan(1);
    expect(parseProfile(MINIMAL, 'dut.yaml').adapter.parallel).toBe(1);
    const manual = 'schema: geisa-adm-profile/1\ndut: { endpoint: e }\nadapter:\n  kind: manual\n  actions:\n    start: { manual: go }\n';
    expect(parseProfile(manual, 'm.yaml').adapter.parallel).toBe(1);
  });

  test('an exec simulator may declare several', () => {
    expect(parseProfile(withParallel('exec', 4), 'sim.yaml').adapter.parallel).toBe(4);
  });

  test('manual and mixed adapters are refused more than 1, naming the field and its line', () => {
    for (const kind of ['manual', 'mixed']) {
      const err = parseError(withParallel(kind, 2), 'meter.yaml');
      expect(err.problems).toHaveLength(1);
      expect(err.message).toMatch(new RegExp(`^profile meter\\.yaml:5:13: adapter\\.parallel must be 1 when adapter\\.kind is "${kind}" \\(got 2\\)`));
    }
    expect(parseProfile(withParallel('manual', 1), 'meter.yaml').adapter.parallel).toBe(1);
  });

  test('several instances need OS-chosen ports', () => {
    const err = parseError(withParallel('exec', 3, 'harness:\n  bootstrapPort: 5683\n'), 'sim.yaml');
    expect(err.message).toBe('profile sim.yaml:9:18: harness.bootstrapPort must be 0 (OS-chosen) when adapter.parallel is 3: cases running at once cannot share port 5683');
  });

  test('0 or a fraction is a schema error', () => {
    expect(parseError(withParallel('exec', 0)).message).toContain('adapter.parallel must be an integer >= 1 (got 0)');
    expect(parseError(withParallel('exec', 1.5)).message).toContain('adapter.parallel must be an integer >= 1 (got 1.5)');
  });
});

describe('certificates.manufacturerCaFile', () => {
  const base = 'schema: geisa-adm-profile/1\ndut:\n  endpoint: urn:dev:x\nadapter:\n  kind: manual\n  actions:\n    start: { manual: "power on" }\ncertificates:\n  manufacturerCaFile: ca.pem\n';

  test('is read relative to the profile and kept as PEM', async () => {
    const { createCa } = await import('../harness/pki/certificates.js');
    const dir = mkdtempSync(join(tmpdir(), 'geisa-prof-ca-'));
    const ca = await createCa('Acme manufacturer CA');
    writeFileSync(join(dir, 'ca.pem'), ca.certPem);
    writeFileSync(join(dir, 'dut.yaml'), base);
    const p = loadProfile(join(dir, 'dut.yaml'));
    expect(p.certificates.manufacturerCaPem).toBe(ca.certPem);
    expect(p.certificates.manufacturerCaFile).toBe(join(dir, 'ca.pem'));
  });

  test('a missing or non-certificate file is a profile error naming the field and its line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'geisa-prof-ca-'));
    writeFileSync(join(dir, 'dut.yaml'), base);
    expect(() => loadProfile(join(dir, 'dut.yaml'))).toThrow(/dut\.yaml:9:\d+: certificates\.manufacturerCaFile: .*ca\.pem does not exist/);
    writeFileSync(join(dir, 'ca.pem'), 'not a certificate');
    expect(() => loadProfile(join(dir, 'dut.yaml'))).toThrow(/certificates\.manufacturerCaFile: .*ca\.pem is not a readable PEM certificate/);
  });
});
