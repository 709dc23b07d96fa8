/**
 * DUT profile loader. A profile is written by hand by whoever brings a device to the lab,
 * so every problem is reported at once, each with file:line:column and the field path,
 * and nothing unknown is silently ignored. The result is fully defaulted so the rest of
 * the harness never deals with optional fields.
 */
import { readFileSync, statSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { dirname, resolve as resolvePath } from 'node:path';
import { isIP } from 'node:net';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import { templateProblems, type DutAction } from './actions.js';
import { fingerprintObject } from './fingerprint.js';
import { ICS_KEYS } from './ics-registry.js';
import { PROFILE_DEFAULTS, PROFILE_SCHEMA, PROFILE_SCHEMA_VERSION } from './schema.js';

export type AdapterKind = 'simulator' | 'exec' | 'manual' | 'mixed';

export interface ExecAction {
  type: 'exec';
  /** Template; see harness/dut/template.ts. */
  command: string;
  timeoutS: number;
  /** start only: the command is a long-running device process. */
  background: boolean;
  /** Regular expression source; a background start is ready once an output line matches. */
  readyLine?: string;
}

export interface ManualAction {
  type: 'manual';
  instruction: string;
}

export type ProfileAction = ExecAction | ManualAction;

export interface CoapTransmission {
  ackTimeoutS: number;
  ackRandomFactor: number;
  maxRetransmit: number;
  nstart: number;
  /** MAX_LATENCY (RFC 7252 §4.8.2), a property of the network; absent means the RFC's 100 s. */
  maxLatencyS?: number;
}

/** Certificate mode with EST (IXIT): what the device enrolls with and where it finds the EST server. */
export interface EstIxit {
  keyType: 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'rsa-3072';
  endpointNameInSubject: boolean;
  /** Lifetime of the short-lived certificate a re-enrollment case issues. */
  certificateLifetimeS: number;
  raDiscovery: 'bootstrap-server' | 'dns-sd';
}

export interface Ixit {
  coap: CoapTransmission;
  startupBoundS: number;
  lifetimeS: number;
  retryTimerS: number;
  retryCount: number;
  sequenceDelayTimerS: number;
  sequenceRetryCount: number;
  holdOffS: number;
  /** Filled by the loader with its defaults; optional so a hand-made profile may leave it out. */
  est?: EstIxit;
}

/** The EST IXIT of a profile, defaults applied. */
export function estIxit(ixit: Ixit): EstIxit {
  return { ...PROFILE_DEFAULTS.ixit.est, ...ixit.est };
}

export interface HarnessNetwork {
  listenAddress: string;
  advertiseHost: string;
  bootstrapPort: number;
  serverPort: number;
}

export interface Psk {
  identity: string;
  key: Buffer;
}

export interface Profile {
  schema: typeof PROFILE_SCHEMA_VERSION;
  /** File the profile came from, for reports. */
  source: string;
  dut: { name: string; endpoint: string };
  /** parallel: how many instances of the device can run at once, one per case (1: a physical device). */
  adapter: { kind: AdapterKind; actions: Partial<Record<DutAction, ProfileAction>>; parallel: number };
  harness: HarnessNetwork;
  ixit: Ixit;
  /** Only what the profile declares; use claims() from ics-registry.ts to apply defaults. */
  ics: Record<string, boolean>;
  secrets: { bootstrapPsk?: Psk };
  /** Certificate-mode trust material; the manufacturer CA is read from its file at load time. */
  certificates: { manufacturerCaPem?: string; manufacturerCaFile?: string };
}

export interface ProfileProblem {
  /** 1-based; absent when the problem is not tied to a place in the file. */
  line?: number;
  col?: number;
  /** Field path such as `ixit.coap.ackTimeoutS`; empty for the document as a whole. */
  path: string;
  /** Complete sentence, starting with the path where there is one. */
  text: string;
}

const MAX_PROBLEMS_SHOWN = 30;
const MAX_PROBLEM_CHARS = 240;
/** A profile is a page of settings; anything this large is the wrong file, and parsing it costs seconds and gigabytes. */
const MAX_PROFILE_BYTES = 1024 * 1024;

/** One problem on one short line: control characters (a binary file's) escaped, long text cut. */
function clip(text: string): string {
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return flat.length > MAX_PROBLEM_CHARS ? `${flat.slice(0, MAX_PROBLEM_CHARS - 3)}...` : flat;
}

export class ProfileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ProfileProblem[],
  ) {
    // A file of junk can hold tens of thousands of problems: the first few dozen say enough.
    const shown = problems.slice(0, MAX_PROBLEMS_SHOWN).map((p) => (p.line === undefined ? `profile ${file}: ${clip(p.text)}` : `profile ${file}:${p.line}:${p.col}: ${clip(p.text)}`));
    if (problems.length > MAX_PROBLEMS_SHOWN) shown.push(`profile ${file}: ... and ${problems.length - MAX_PROBLEMS_SHOWN} more problems`);
    super(shown.join('\n'));
    this.name = 'ProfileError';
  }
}

// ---------------------------------------------------------------------------------------
// Entry points

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
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
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
    const what = /alias/i.test((err as Error).message)
      ? 'YAML aliases expand to too many nodes (an alias bomb?); a profile needs no more than a few plain aliases'
      : `the YAML cannot be read as data: ${firstLine((err as Error).message)}`;
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

// ---------------------------------------------------------------------------------------
// Raw (validated, not yet defaulted) shape: mirrors schema.ts

interface RawAction {
  exec?: string;
  manual?: string;
  timeoutS?: number;
  background?: boolean;
  readyLine?: string;
}

interface RawProfile {
  schema: string;
  dut: { name?: string; endpoint: string };
  adapter: { kind: AdapterKind; actions?: Partial<Record<DutAction, RawAction>>; parallel?: number };
  harness?: Partial<{ listenAddress: string; advertiseHost: string; bootstrapPort: number; serverPort: number }>;
  ixit?: Partial<Omit<Ixit, 'coap' | 'est'>> & { coap?: Partial<CoapTransmission>; est?: Partial<EstIxit> };
  ics?: Record<string, boolean>;
  secrets?: { bootstrapPsk?: { identity: string; keyHex: string } };
  certificates?: { manufacturerCaFile?: string };
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
    ics: { ...raw.ics },
    secrets: psk ? { bootstrapPsk: { identity: psk.identity, key: Buffer.from(psk.keyHex, 'hex') } } : {},
    certificates: {},
  };
}

// ---------------------------------------------------------------------------------------
// Source positions

interface Place {
  line: number;
  col: number;
}

/** Maps a field path to the place in the YAML source that best shows the problem. */
class Locator {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** The value at path, or the nearest existing ancestor when the path runs out. */
  value(path: readonly string[]): Place {
    const { value, key } = this.walk(path);
    return this.place(value ?? key);
  }

  /** The key naming the last segment (for unknown keys), or the object holding it. */
  key(path: readonly string[]): Place {
    const { key, value } = this.walk(path);
    return this.place(key ?? value);
  }

  private walk(path: readonly string[]): { value: Node | null; key: Node | null } {
    let value = this.doc.contents as Node | null;
    let key: Node | null = null;
    for (const segment of path) {
      if (isMap(value)) {
        const pair = value.items.find((p) => isScalar(p.key) && String(p.key.value) === segment);
        if (!pair) break;
        key = pair.key as Node;
        value = (pair.value as Node | null) ?? null;
      } else if (isSeq(value)) {
        const item = value.items[Number(segment)] as Node | undefined;
        if (!item) break;
        key = null;
        value = item;
      } else {
        break;
      }
    }
    return { value, key };
  }

  private place(node: Node | null): Place {
    const offset = node?.range?.[0];
    return offset === undefined ? { line: 1, col: 1 } : this.lines.linePos(offset);
  }
}

function sortByPlace(problems: ProfileProblem[]): ProfileProblem[] {
  return [...problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
}

/** Where the document's first alias (*name) is, to point a reader at the expansion. */
function firstAlias(doc: Document, lines: LineCounter): Place | undefined {
  let offset: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      offset = node.range?.[0];
      return visit.BREAK;
    },
  });
  if (offset === undefined) return undefined;
  const pos = lines.linePos(offset);
  return { line: pos.line, col: pos.col };
}

function firstLine(message: string): string {
  return message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
}

// ---------------------------------------------------------------------------------------
// Schema errors as sentences

type SchemaNode = Record<string, unknown>;

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  // verbose: each error carries its schema node, from which the expectation is phrased.
  compiled ??= new Ajv.default({ allErrors: true, verbose: true, strictTypes: false }).compile(PROFILE_SCHEMA);
  return compiled;
}

function validateAgainstSchema(data: unknown, where: Locator): ProfileProblem[] {
  const validate = validator();
  if (validate(data)) return [];
  const problems: ProfileProblem[] = [];
  const seen = new Set<string>();
  for (const error of validate.errors ?? []) {
    const problem = describeError(error, data, where);
    if (!problem) continue;
    const id = `${problem.path}\u0000${problem.text}`;
    if (seen.has(id)) continue;
    seen.add(id);
    problems.push(problem);
  }
  return problems;
}

const VALUE_KEYWORDS = new Set([
  'type',
  'const',
  'enum',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'pattern',
]);

function describeError(error: ErrorObject, data: unknown, where: Locator): ProfileProblem | undefined {
  // Branch failures inside oneOf are summarised by the oneOf error itself, and an `if`
  // failure only says which branch was taken.
  if (error.schemaPath.includes('/oneOf/') || error.keyword === 'if') return undefined;
  const path = pointerToSegments(error.instancePath);
  const parentSchema = (error.parentSchema ?? {}) as SchemaNode;

  if (VALUE_KEYWORDS.has(error.keyword)) {
    if (path.length === 0) {
      return { ...where.value(path), path: '', text: 'the profile must be a mapping of keys to values' };
    }
    const shown = displayPath(path);
    return {
      ...where.value(path),
      path: shown,
      text: `${shown} must be ${expectation(parentSchema)}${gotSuffix(path, error.data, parentSchema)}`,
    };
  }

  switch (error.keyword) {
    case 'required': {
      const missing = (error.params as { missingProperty: string }).missingProperty;
      const full = [...path, missing];
      const shown = displayPath(full);
      const propertySchema = ((parentSchema.properties ?? {}) as Record<string, SchemaNode>)[missing];
      let text = `${shown} is required`;
      if (propertySchema && 'const' in propertySchema) text += ` (set it to ${JSON.stringify(propertySchema.const)})`;
      if (error.schemaPath.includes('/then/')) text += ` when adapter.kind is ${JSON.stringify(adapterKindOf(data))}`;
      return { ...where.key(path), path: shown, text };
    }
    case 'additionalProperties': {
      const extra = (error.params as { additionalProperty: string }).additionalProperty;
      const full = [...path, extra];
      const shown = displayPath(full);
      const known = Object.keys((parentSchema.properties ?? {}) as SchemaNode);
      return { ...where.key(full), path: shown, text: unknownKeyText(path, extra, shown, known) };
    }
    case 'oneOf': {
      const shown = displayPath(path);
      const branches = (parentSchema.oneOf ?? []) as SchemaNode[];
      const alternatives = branches.map((b) => (b.required as string[] | undefined)?.[0]).filter(Boolean);
      const text =
        alternatives.length === branches.length
          ? `${shown} must have exactly one of ${alternatives.map((a) => JSON.stringify(a)).join(' or ')}`
          : `${shown} does not match any allowed form`;
      return { ...where.value(path), path: shown, text };
    }
    case 'dependencies': {
      const { property, missingProperty } = error.params as { property: string; missingProperty: string };
      const full = [...path, property];
      const shown = displayPath(full);
      return { ...where.key(full), path: shown, text: `${shown} is only allowed together with "${missingProperty}"` };
    }
    default: {
      const shown = displayPath(path);
      return { ...where.value(path), path: shown, text: `${shown || 'the profile'} ${error.message ?? 'is invalid'}` };
    }
  }
}

function unknownKeyText(parent: string[], extra: string, shown: string, known: string[]): string {
  const suggestion = closest(extra, parent.length === 1 && parent[0] === 'ics' ? ICS_KEYS : known);
  const hint = suggestion ? ` (did you mean "${suggestion}"?)` : '';
  if (parent.length === 1 && parent[0] === 'ics') return `${shown} is not a known ICS key${hint}`;
  if (parent.length === 0) return `unknown top-level key "${extra}"${hint || ` (known: ${known.join(', ')})`}`;
  return `${shown} is not a known key${hint || ` (known: ${known.join(', ')})`}`;
}

/** Phrase what a schema node accepts, e.g. "a number > 0", "an integer from 0 to 65535". */
function expectation(schema: SchemaNode): string {
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  switch (schema.type) {
    case 'number':
    case 'integer': {
      const noun = schema.type === 'integer' ? 'an integer' : 'a number';
      const { minimum, maximum, exclusiveMinimum } = schema as Record<string, number | undefined>;
      if (minimum !== undefined && maximum !== undefined) return `${noun} from ${minimum} to ${maximum}`;
      if (exclusiveMinimum !== undefined) return `${noun} > ${exclusiveMinimum}`;
      if (minimum !== undefined) return `${noun} >= ${minimum}`;
      return noun;
    }
    case 'string':
      if (schema.pattern === PROFILE_SCHEMA.properties.secrets.properties.bootstrapPsk.properties.keyHex.pattern) {
        return 'a string of hex digits, two per byte';
      }
      if (typeof schema.pattern === 'string') return `a string matching /${schema.pattern}/`;
      return schema.minLength ? 'a non-empty string' : 'a string';
    case 'boolean':
      return 'true or false';
    case 'object':
      return 'a mapping of keys to values';
    default:
      return 'valid';
  }
}

function gotSuffix(path: string[], value: unknown, schema: SchemaNode): string {
  if (path[0] === 'secrets') return '';
  const quoteHint =
    schema.type === 'string' && (typeof value === 'number' || typeof value === 'boolean')
      ? '; YAML read it as a ' + typeof value + ', put it in quotes'
      : '';
  return ` (got ${renderValue(value)}${quoteHint})`;
}

function renderValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function adapterKindOf(data: unknown): unknown {
  return (data as { adapter?: { kind?: unknown } } | null)?.adapter?.kind;
}

function pointerToSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** `ixit.coap.ackTimeoutS`; keys that are not identifiers (ICS keys) in brackets. */
function displayPath(path: readonly string[]): string {
  return path.reduce(
    (acc, seg) =>
      /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(seg) ? (acc ? `${acc}.${seg}` : seg) : `${acc}[${JSON.stringify(seg)}]`,
    '',
  );
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

// ---------------------------------------------------------------------------------------
// Rules a JSON Schema cannot express (or only with unreadable errors)

const UNSPECIFIED_ADDRESSES = new Set(['0.0.0.0', '::', '0:0:0:0:0:0:0:0']);

function checkSemantics(raw: RawProfile, where: Locator): ProfileProblem[] {
  const problems: ProfileProblem[] = [];
  const at = (path: string[], text: string, useKey = false): void => {
    problems.push({ ...(useKey ? where.key(path) : where.value(path)), path: displayPath(path), text });
  };

  const kind = raw.adapter.kind;
  const actions = raw.adapter.actions ?? {};
  if (kind === 'simulator' && raw.adapter.actions !== undefined) {
    at(['adapter', 'actions'], 'adapter.actions must not be set when adapter.kind is "simulator" (the reference device needs none)', true);
  }
  for (const [name, action] of Object.entries(actions) as [DutAction, RawAction][]) {
    const base = ['adapter', 'actions', name];
    const shown = displayPath(base);
    const type = action.exec !== undefined ? 'exec' : 'manual';
    if ((kind === 'exec' || kind === 'manual') && type !== kind) {
      at(base, `${shown} is a ${type} action but adapter.kind is "${kind}" (use "mixed" to combine both)`);
    }
    if (action.background && name !== 'start') {
      at([...base, 'background'], `${shown}.background is only allowed on the start action`, true);
    }
    if (action.readyLine !== undefined) {
      if (!action.background) at([...base, 'readyLine'], `${shown}.readyLine needs background: true`, true);
      try {
        new RegExp(action.readyLine);
      } catch (err) {
        at([...base, 'readyLine'], `${shown}.readyLine is not a valid regular expression: ${(err as Error).message}`);
      }
    }
    const template = action.exec ?? action.manual ?? '';
    for (const problem of templateProblems(template, type === 'exec' ? 'shell' : 'text')) {
      at([...base, type], `${shown}.${type}: ${problem}`);
    }
  }

  const parallel = raw.adapter.parallel;
  if (parallel !== undefined && parallel > 1) {
    // An operator (or a shared physical device) can serve one case at a time.
    if (kind === 'manual' || kind === 'mixed') {
      at(['adapter', 'parallel'], `adapter.parallel must be 1 when adapter.kind is "${kind}" (got ${parallel}): an operator and a physical device serve one case at a time; only a device that can be instantiated once per case (exec actions starting a simulator) may run several`);
    }
    for (const key of ['bootstrapPort', 'serverPort'] as const) {
      const fixed = raw.harness?.[key];
      if (fixed !== undefined && fixed !== 0) {
        at(['harness', key], `harness.${key} must be 0 (OS-chosen) when adapter.parallel is ${parallel}: cases running at once cannot share port ${fixed}`);
      }
    }
  }

  const listen = raw.harness?.listenAddress ?? PROFILE_DEFAULTS.harness.listenAddress;
  if (isIP(listen) === 0) {
    at(['harness', 'listenAddress'], `harness.listenAddress must be an IPv4 or IPv6 address (got ${JSON.stringify(listen)})`);
  } else if (UNSPECIFIED_ADDRESSES.has(listen) && raw.harness?.advertiseHost === undefined) {
    at(
      ['harness', 'listenAddress'],
      `harness.advertiseHost is required when harness.listenAddress is ${listen}: the device cannot be told to contact the unspecified address`,
      true,
    );
  }
  const advertise = raw.harness?.advertiseHost;
  if (advertise !== undefined && UNSPECIFIED_ADDRESSES.has(advertise)) {
    at(['harness', 'advertiseHost'], `harness.advertiseHost must be an address the device can reach, not ${advertise}`);
  }
  const { bootstrapPort, serverPort } = raw.harness ?? {};
  if (bootstrapPort !== undefined && bootstrapPort !== 0 && bootstrapPort === serverPort) {
    at(['harness', 'serverPort'], `harness.serverPort must differ from harness.bootstrapPort (both ${serverPort})`);
  }
  return problems;
}
