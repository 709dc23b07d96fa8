/**
 * DUT profile loader: YAML or JSON text to a fully defaulted Profile, so the rest of the
 * harness never deals with optional fields. Every problem is reported at once and nothing
 * unknown is silently ignored: positions.ts places problems in the file, schema-errors.ts
 * phrases schema violations, semantics.ts checks what the schema cannot.
 */
import { readFileSync, statSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { dirname, resolve as resolvePath } from 'node:path';
import { yaml } from './lazy-modules.js';
import type { DutAction } from './actions.js';
import { fingerprintObject } from './fingerprint.js';
import { firstAlias, firstLine, Locator, sortByPlace } from './positions.js';
import { ProfileError } from './problems.js';
import { PROFILE_DEFAULTS, PROFILE_SCHEMA_VERSION, type RawAction, type RawProfile } from './schema.js';
import { validateAgainstSchema } from './schema-errors.js';
import { checkSemantics } from './semantics.js';
import type { AdapterKind, Profile, ProfileAction } from './types.js';

export { ProfileError, type ProfileProblem } from './problems.js';
export type { RawProfile } from './schema.js';
export * from './types.js';

/** A profile is a page of settings; anything this large is the wrong file, and parsing it costs seconds and gigabytes. */
const MAX_PROFILE_BYTES = 1024 * 1024;

export function loadProfile(file: string): Profile {
  let text: string;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new ProfileError(file, [{ path: '', text: 'is a directory, not a profile file (give the YAML or JSON file of the device)' }]);
    if (st.size > MAX_PROFILE_BYTES) {
      throw new ProfileError(file, [{ path: '', text: `is ${(st.size / 1024 / 1024).toFixed(1)} MB, far larger than any profile (at most ${MAX_PROFILE_BYTES / 1024 / 1024} MB): is it the right file?` }]);
    }
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof ProfileError) throw err;
    // Not `instanceof Error`: errors from node:fs may come from another realm under test runners.
    const reason = (err as { message?: string } | null)?.message ?? String(err);
    throw new ProfileError(file, [{ path: '', text: `cannot read the file: ${reason}` }]);
  }
  return parseProfile(text, file);
}

export function parseProfile(text: string, fileName: string): Profile {
  // JSON is parsed as YAML too (YAML 1.2 is a superset), so JSON profiles get line numbers.
  const lineCounter = new (yaml().LineCounter)();
  const doc = yaml().parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const where = new Locator(doc, lineCounter);

  if (doc.errors.length > 0) {
    throw new ProfileError(
      fileName,
      doc.errors.map((err) => ({
        line: err.linePos?.[0].line,
        col: err.linePos?.[0].col,
        path: '',
        text: `YAML syntax error: ${firstLine(err.message)}`,
      })),
    );
  }

  let data: unknown;
  try {
    // maxAliasCount bounds what aliases may expand to: a few lines can otherwise stand for
    // billions of nodes (an alias bomb). A profile needs at most a handful of aliases.
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    const alias = firstAlias(doc, lineCounter);
    const what = /alias/i.test((err as Error).message) ? 'YAML aliases expand to too many nodes (an alias bomb?); a profile needs no more than a few plain aliases' : `the YAML cannot be read as data: ${firstLine((err as Error).message)}`;
    throw new ProfileError(fileName, [{ ...(alias ?? {}), path: '', text: what }]);
  }
  if (data === null || data === undefined) {
    throw new ProfileError(fileName, [{ line: 1, col: 1, path: '', text: 'the file is empty' }]);
  }
  dropEmptySections(data);
  const schemaProblems = validateAgainstSchema(data, where);
  if (schemaProblems.length > 0) throw new ProfileError(fileName, sortByPlace(schemaProblems));

  const raw = data as RawProfile;
  const semantic = checkSemantics(raw, where);
  if (semantic.length > 0) throw new ProfileError(fileName, sortByPlace(semantic));

  const profile = buildProfile(raw, fileName);
  const caFile = raw.certificates?.manufacturerCaFile;
  if (caFile !== undefined) {
    const path = resolvePath(dirname(fileName), caFile);
    try {
      const pem = readFileSync(path, 'utf8');
      new X509Certificate(pem);
      profile.certificates = { manufacturerCaPem: pem, manufacturerCaFile: path };
    } catch (e) {
      const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `is not a readable PEM certificate (${firstLine((e as Error).message)})`;
      throw new ProfileError(fileName, [{ ...where.value(['certificates', 'manufacturerCaFile']), path: 'certificates.manufacturerCaFile', text: `certificates.manufacturerCaFile: ${path} ${reason}` }]);
    }
  }
  return profile;
}

/**
 * The bundled reference device. Its IXIT gives it short CoAP transmission parameters
 * (ACK_TIMEOUT 1 s instead of 2 s) and the suite uses the same values when waiting for
 * retransmissions, so self-test runs finish quickly without bending any rule.
 */
export function defaultSimulatorProfile(): Profile {
  const d = PROFILE_DEFAULTS;
  return {
    schema: PROFILE_SCHEMA_VERSION,
    source: '<built-in simulator profile>',
    dut: { name: 'GEISA ADM reference device (simulator)', endpoint: 'urn:dev:ops:geisa-ref-0001' },
    adapter: { kind: 'simulator', actions: {}, parallel: d.simulatorParallel },
    harness: { listenAddress: '127.0.0.1', advertiseHost: '127.0.0.1', bootstrapPort: 0, serverPort: 0 },
    ixit: {
      // Short CoAP timers the reference device is told to use, so the cases that wait out a
      // CoAP give-up stay short: MAX_RETRANSMIT 2 and ACK_TIMEOUT 1 s make MAX_TRANSMIT_WAIT
      // 10.5 s; MAX_LATENCY 1 s on loopback makes EXCHANGE_LIFETIME (the Bootstrap-Finish
      // wait) 7.5 s instead of 247 s.
      coap: { ...d.ixit.coap, ackTimeoutS: 1, maxRetransmit: 2, maxLatencyS: 1 },
      // The reference device renews at two thirds of its certificate's life: 12 s keeps the sren case short.
      est: { ...d.ixit.est, certificateLifetimeS: 12 },
      startupBoundS: 10,
      // Short enough that the Update case waits ~5 s on the reference device, long enough
      // to tell 50 % from "just before expiry".
      lifetimeS: 10,
      retryTimerS: 1,
      retryCount: 3,
      sequenceDelayTimerS: 4,
      sequenceRetryCount: 1,
      holdOffS: 0,
    },
    // The reference device implements /1/x/9, Block1 reassembly, factory-provisioned server accounts,
    // the Bootstrap-Pack-Request and the TLV, SenML JSON, SenML CBOR and LwM2M CBOR record formats,
    // so those optional cases run on it.
    ics: {
      'server.bootstrap-request-trigger': true,
      'bootstrap.pack-request': true,
      'coap.block1': true,
      'bootstrap.factory': true,
      'content-format.tlv': true,
      'content-format.senml-json': true,
      'content-format.senml-cbor': true,
      'content-format.lwm2m-cbor': true,
    },
    secrets: {},
    certificates: {},
  };
}

/** A deep copy fit for reports: key material replaced by its length and a SHA-256 prefix. */
export function redactProfile(profile: Profile): unknown {
  const secrets: Record<string, unknown> = {};
  for (const [name, psk] of Object.entries(profile.secrets)) {
    if (psk) secrets[name] = { identity: psk.identity, key: fingerprintObject(psk.key) };
  }
  return JSON.parse(JSON.stringify({ ...profile, secrets }));
}

/** `ics:` with every line commented out parses as null; read it as "nothing declared". */
function dropEmptySections(data: unknown): void {
  if (typeof data !== 'object' || data === null) return;
  const record = data as Record<string, unknown>;
  for (const section of ['harness', 'ixit', 'ics', 'secrets', 'certificates']) {
    if (record[section] === null) delete record[section];
  }
}

/** What a profile that does not say can run at once: the bundled simulator several, anything else one. */
export function defaultParallel(kind: AdapterKind): number {
  return kind === 'simulator' ? PROFILE_DEFAULTS.simulatorParallel : 1;
}

function buildProfile(raw: RawProfile, source: string): Profile {
  const d = PROFILE_DEFAULTS;
  const listenAddress = raw.harness?.listenAddress ?? d.harness.listenAddress;
  const actions: Partial<Record<DutAction, ProfileAction>> = {};
  for (const [name, action] of Object.entries(raw.adapter.actions ?? {}) as [DutAction, RawAction][]) {
    actions[name] =
      action.exec !== undefined
        ? {
            type: 'exec',
            command: action.exec,
            timeoutS: action.timeoutS ?? d.execTimeoutS,
            background: action.background ?? false,
            ...(action.readyLine !== undefined ? { readyLine: action.readyLine } : {}),
          }
        : { type: 'manual', instruction: action.manual as string };
  }
  const psk = raw.secrets?.bootstrapPsk;
  return {
    schema: PROFILE_SCHEMA_VERSION,
    source,
    dut: { name: raw.dut.name ?? raw.dut.endpoint, endpoint: raw.dut.endpoint },
    adapter: { kind: raw.adapter.kind, actions, parallel: raw.adapter.parallel ?? defaultParallel(raw.adapter.kind) },
    harness: {
      listenAddress,
      advertiseHost: raw.harness?.advertiseHost ?? listenAddress,
      bootstrapPort: raw.harness?.bootstrapPort ?? d.harness.bootstrapPort,
      serverPort: raw.harness?.serverPort ?? d.harness.serverPort,
    },
    ixit: {
      ...d.ixit,
      ...raw.ixit,
      coap: { ...d.ixit.coap, ...raw.ixit?.coap },
      est: { ...d.ixit.est, ...raw.ixit?.est },
    },
    // Keys present in YAML hold a boolean (the schema rejects null), never undefined.
    ics: { ...raw.ics } as Record<string, boolean>,
    secrets: psk ? { bootstrapPsk: { identity: psk.identity, key: Buffer.from(psk.keyHex, 'hex') } } : {},
    certificates: {},
  };
}
