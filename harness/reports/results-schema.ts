/**
 * results.json (schema version 1) as TypeBox schemas: the one source of its JSON Schema
 * (which validateResults checks with, and scripts/write-schemas.ts writes out as
 * results.schema.json for other tools) and of the Results types (Static<>). Where the TS
 * type is narrower than what the file promises (event payloads typed in events.ts), the
 * schema states the file's contract and Type.Unsafe carries the narrower type.
 */
import { Type, type Static, type TSchema } from 'typebox';
import type { Address, Area, DatagramEvent, Level, Strength, Verdict } from '../events/events.js';
import type { Tally } from './run-record.js';

const nullable = <T>(type: 'string' | 'number' | 'integer', description?: string) =>
  Type.Unsafe<T | null>({ type: [type, 'null'], ...(description ? { description } : {}) });
const nullableString = nullable<string>('string');
const stringList = Type.Array(Type.String());
/** oneOf null or the object, as results.schema.json has always said it. */
const orNull = <T extends TSchema>(schema: T) => Type.Unsafe<Static<T> | null>({ oneOf: [{ type: 'null' }, schema] });

const LEVELS = ['SHALL', 'MUST', 'SHOULD', 'MAY', 'OPEN'] as const;
const VERDICTS = ['error', 'fail', 'inconclusive', 'pass', 'not-applicable'] as const;
const verdict = Type.Unsafe<Verdict>(Type.Enum(VERDICTS));
const level = Type.Unsafe<Level>(Type.Enum(LEVELS));
const monoNs = Type.String({ pattern: '^-?[0-9]+$', description: 'process.hrtime.bigint() of the run, as a decimal string' });
const atMs = nullable<number>('number', 'milliseconds from the case start (run notes: from the run start)');
const address = Type.Unsafe<Address>(
  Type.Object({ address: Type.String(), port: Type.Integer({ minimum: 0, maximum: 65535 }) }),
);

const IDENTITY_SCHEMA = Type.Object({
  readBy: Type.String({ description: 'case whose exchange read /3/0' }),
  path: Type.String(),
  manufacturer: nullableString,
  model: nullableString,
  serial: nullableString,
  firmware: nullableString,
  deviceType: Type.Optional(Type.String()),
  hardwareVersion: Type.Optional(Type.String()),
  softwareVersion: Type.Optional(Type.String()),
});
export type DeviceIdentity = Static<typeof IDENTITY_SCHEMA>;

const NOTE_SCHEMA = Type.Object({
  // The events type the source as a plain string; the file promises one of these.
  source: Type.Unsafe<string>(Type.Enum(['harness', 'adapter', 'operator', 'device'])),
  text: Type.String(),
  monoNs,
  atMs,
});
export type ResultNote = Static<typeof NOTE_SCHEMA>;

const CHECK_SCHEMA = Type.Object({
  name: Type.String(),
  /** The catalog row the check judged and the level it was judged at (null in results of older tool versions). */
  requirement: nullableString,
  level: Type.Unsafe<Level | null>({ enum: [...LEVELS, null] }),
  ok: Type.Boolean(),
  expected: Type.String(),
  observed: Type.String(),
  tolerance: nullableString,
  monoNs,
  atMs,
});
export type ResultCheck = Static<typeof CHECK_SCHEMA>;

const TRACE_SCHEMA = Type.Object({
  monoNs,
  atMs,
  direction: Type.Enum(['in', 'out'], { description: 'seen from the harness: in = sent by the device' }),
  layer: Type.Enum(['coap', 'dtls']),
  endpoint: Type.String(),
  local: address,
  remote: address,
  bytes: Type.String({ pattern: '^([0-9a-f]{2})*$', description: 'raw datagram as hex, secrets overwritten' }),
  redacted: Type.Integer({ minimum: 0, description: 'secret values overwritten with zeros in bytes; 0: the bytes on the wire' }),
  decoded: Type.Unsafe<DatagramEvent['decoded']>({ type: 'object', description: 'CoAP message, DTLS records, or {error} (docs/result-events.md)' }),
  /** One line: type, code, MID, token, path, payload summary. Device text, unescaped. */
  summary: Type.String(),
});
export type TraceEntry = Static<typeof TRACE_SCHEMA>;

const CASE_SCHEMA = Type.Object({
  id: Type.String(),
  title: Type.String(),
  area: Type.Unsafe<Area>(Type.Enum(['bootstrap', 'registration', 'retry', 'coap', 'security'])),
  requirements: Type.Array(Type.Object({ id: Type.String(), section: Type.String(), quote: Type.String() })),
  strength: Type.Unsafe<Strength>(Type.Enum(['SHALL', 'MUST', 'SHOULD', 'MAY'])),
  ics: nullableString,
  tags: stringList,
  security: Type.Enum(['nosec', 'psk', 'certificate']),
  timeoutMs: Type.Number({ description: "the case's budget under the run's profile, ms" }),
  verdict,
  reason: Type.String(),
  /** The row, and its level, whose observation decided a fail or inconclusive verdict. */
  decidedBy: orNull(Type.Object({ requirement: Type.String(), level })),
  advisory: nullableString,
  /** Listed in the run's expected-failures file: failed as listed, or stale (passes now). */
  expectedFailure: orNull(Type.Object({ reason: Type.String(), stale: Type.Boolean() })),
  /** false: the run stopped before the case reached a verdict (shown as error). */
  finished: Type.Boolean(),
  startedAt: Type.String(),
  startMonoNs: monoNs,
  /** From the run start; null when the run start is unknown. */
  startOffsetMs: nullable<number>('number'),
  durationMs: Type.Number({ minimum: 0 }),
  checks: Type.Array(CHECK_SCHEMA),
  notes: Type.Array(NOTE_SCHEMA),
  trace: Type.Array(TRACE_SCHEMA),
  identity: orNull(IDENTITY_SCHEMA),
});
export type CaseResult = Static<typeof CASE_SCHEMA>;

export type MatrixStatus = Verdict | 'ABSENT';

const MATRIX_ROW_SCHEMA = Type.Object({
  requirementId: Type.String(),
  inCatalog: Type.Boolean(),
  section: nullableString,
  text: nullableString,
  strength: nullableString,
  conf: nullableString,
  /** Worst verdict of the cases that judged it; ABSENT when no case of this run did. */
  status: Type.Unsafe<MatrixStatus>(Type.Enum([...VERDICTS, 'ABSENT'])),
  cases: Type.Array(Type.Object({ id: Type.String(), verdict })),
  /** Cases of the suite that cite the requirement but were not selected for this run. */
  notRunCases: stringList,
  /** Why the suite has no case for it (suites/catalog-gaps.ts), when it says. */
  gap: orNull(Type.Object({ reason: Type.String(), note: Type.String() })),
});
export type MatrixRow = Static<typeof MATRIX_ROW_SCHEMA>;

const count = Type.Integer({ minimum: 0 });
const capture = Type.Object({ file: Type.String(), packets: Type.Integer({ minimum: 0 }), decodeHint: Type.String() });

export const RESULTS_SCHEMA = Type.Object(
  {
    format: Type.Literal('geisa-adm-results'),
    schemaVersion: Type.Unsafe<number>({ const: 1 }),
    run: Type.Object({
      toolVersion: nullableString,
      gitCommit: nullableString,
      /** Version of the result-event schema the events were written in. */
      eventsSchema: nullable<number>('integer'),
      specVersions: Type.Object({ lwm2mCore: Type.String(), lwm2mTransport: Type.String(), geisaCommit: nullableString }),
      startedAt: nullableString,
      endedAt: nullableString,
      startMonoNs: orNull(monoNs),
      host: nullableString,
      defect: nullableString,
      interrupted: Type.Boolean(),
      exitCode: nullable<number>('integer'),
      selectedCases: stringList,
      /** Selected but not run: tagged slow and the run did not ask for slow cases. */
      slowNotRun: stringList,
      dut: Type.Object({ name: nullableString, endpoint: nullableString, identity: orNull(IDENTITY_SCHEMA) }),
      profileSource: nullableString,
      /** Declared features, as the profile gives them. */
      ics: Type.Unsafe<Record<string, boolean>>({ type: 'object', additionalProperties: { type: 'boolean' } }),
      /** Implementation extra information (timers, bounds), as the profile gives them after defaults. */
      ixit: Type.Unsafe<Record<string, unknown>>({ type: 'object' }),
      profile: Type.Unknown({ description: 'the DUT profile, every secret replaced by {length, sha256}' }),
      notes: Type.Array(NOTE_SCHEMA),
      /** Events naming a case that never started: the log is inconsistent when there are any. */
      strayEvents: Type.Array(Type.Object({ type: Type.String(), caseId: nullableString })),
      /** The pcapng capture beside this file, and how to make tshark decode its CoAP ports. */
      capture: orNull(capture),
    }),
    counts: Type.Unsafe<Tally>(
      Type.Object({ pass: count, fail: count, error: count, inconclusive: count, 'not-applicable': count, advisory: count, total: count }),
    ),
    cases: Type.Array(CASE_SCHEMA),
    matrix: Type.Object({
      catalog: Type.Object({ available: Type.Boolean(), source: nullableString, sha256: nullableString, note: nullableString }),
      rows: Type.Array(MATRIX_ROW_SCHEMA),
    }),
  },
  { $schema: 'http://json-schema.org/draft-07/schema#', title: 'GEISA ADM conformance run results (results.json), schema version 1' },
);

export type Results = Static<typeof RESULTS_SCHEMA>;
