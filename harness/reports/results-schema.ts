/**
 * JSON Schema (draft-07) of results.json, schema version 1. A TS module so the compiled
 * harness needs no JSON file beside it; results.schema.json is the same object written out
 * for other tools, and test/reports-results.test.ts fails when the two drift apart.
 * Regenerate it after a change with:
 *   node -e "import('./dist/harness/reports/results-schema.js').then(m => process.stdout.write(JSON.stringify(m.RESULTS_SCHEMA, null, 2) + '\n'))" > harness/reports/results.schema.json
 */

const nullableString = { type: ['string', 'null'] } as const;
const LEVELS = ['SHALL', 'MUST', 'SHOULD', 'MAY', 'OPEN'];
const verdict = { enum: ['error', 'fail', 'inconclusive', 'pass', 'not-applicable'] } as const;
const monoNs = { type: 'string', pattern: '^-?[0-9]+$', description: 'process.hrtime.bigint() of the run, as a decimal string' } as const;
const atMs = { type: ['number', 'null'], description: 'milliseconds from the case start (run notes: from the run start)' } as const;
const address = {
  type: 'object',
  required: ['address', 'port'],
  properties: { address: { type: 'string' }, port: { type: 'integer', minimum: 0, maximum: 65535 } },
} as const;

const identity = {
  type: 'object',
  required: ['readBy', 'path', 'manufacturer', 'model', 'serial', 'firmware'],
  properties: {
    readBy: { type: 'string', description: 'case whose exchange read /3/0' },
    path: { type: 'string' },
    manufacturer: nullableString,
    model: nullableString,
    serial: nullableString,
    firmware: nullableString,
    deviceType: { type: 'string' },
    hardwareVersion: { type: 'string' },
    softwareVersion: { type: 'string' },
  },
} as const;

const note = {
  type: 'object',
  required: ['source', 'text', 'monoNs', 'atMs'],
  properties: { source: { enum: ['harness', 'adapter', 'operator', 'device'] }, text: { type: 'string' }, monoNs, atMs },
} as const;

const caseResult = {
  type: 'object',
  required: [
    'id', 'title', 'area', 'requirements', 'strength', 'ics', 'tags', 'security', 'timeoutMs', 'verdict', 'reason', 'decidedBy', 'advisory',
    'expectedFailure', 'finished', 'startedAt', 'startMonoNs', 'startOffsetMs', 'durationMs', 'checks', 'notes', 'trace', 'identity',
  ],
  properties: {
    id: { type: 'string' },
    title: { type: 'string' },
    area: { enum: ['bootstrap', 'registration', 'retry', 'coap', 'security'] },
    requirements: {
      type: 'array',
      items: { type: 'object', required: ['id', 'section', 'quote'], properties: { id: { type: 'string' }, section: { type: 'string' }, quote: { type: 'string' } } },
    },
    strength: { enum: ['SHALL', 'MUST', 'SHOULD', 'MAY'] },
    ics: nullableString,
    tags: { type: 'array', items: { type: 'string' } },
    security: { enum: ['nosec', 'psk', 'certificate'] },
    timeoutMs: { type: 'number', description: "the case's budget under the run's profile, ms" },
    verdict,
    reason: { type: 'string' },
    decidedBy: {
      oneOf: [{ type: 'null' }, { type: 'object', required: ['requirement', 'level'], properties: { requirement: { type: 'string' }, level: { enum: LEVELS } } }],
    },
    advisory: nullableString,
    expectedFailure: {
      oneOf: [{ type: 'null' }, { type: 'object', required: ['reason', 'stale'], properties: { reason: { type: 'string' }, stale: { type: 'boolean' } } }],
    },
    finished: { type: 'boolean' },
    startedAt: { type: 'string' },
    startMonoNs: monoNs,
    startOffsetMs: { type: ['number', 'null'] },
    durationMs: { type: 'number', minimum: 0 },
    checks: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'requirement', 'level', 'ok', 'expected', 'observed', 'tolerance', 'monoNs', 'atMs'],
        properties: { name: { type: 'string' }, requirement: nullableString, level: { enum: [...LEVELS, null] }, ok: { type: 'boolean' }, expected: { type: 'string' }, observed: { type: 'string' }, tolerance: nullableString, monoNs, atMs },
      },
    },
    notes: { type: 'array', items: note },
    trace: {
      type: 'array',
      items: {
        type: 'object',
        required: ['monoNs', 'atMs', 'direction', 'layer', 'endpoint', 'local', 'remote', 'bytes', 'redacted', 'decoded', 'summary'],
        properties: {
          monoNs,
          atMs,
          direction: { enum: ['in', 'out'], description: 'seen from the harness: in = sent by the device' },
          layer: { enum: ['coap', 'dtls'] },
          endpoint: { type: 'string' },
          local: address,
          remote: address,
          bytes: { type: 'string', pattern: '^([0-9a-f]{2})*$', description: 'raw datagram as hex, secrets overwritten' },
          redacted: { type: 'integer', minimum: 0, description: 'secret values overwritten with zeros in bytes; 0: the bytes on the wire' },
          decoded: { type: 'object', description: 'CoAP message, DTLS records, or {error} (docs/result-events.md)' },
          summary: { type: 'string' },
        },
      },
    },
    identity: { oneOf: [{ type: 'null' }, identity] },
  },
} as const;

const matrixRow = {
  type: 'object',
  required: ['requirementId', 'inCatalog', 'section', 'text', 'strength', 'conf', 'status', 'cases', 'notRunCases', 'gap'],
  properties: {
    requirementId: { type: 'string' },
    inCatalog: { type: 'boolean' },
    section: nullableString,
    text: nullableString,
    strength: nullableString,
    conf: nullableString,
    status: { enum: ['error', 'fail', 'inconclusive', 'pass', 'not-applicable', 'ABSENT'] },
    cases: { type: 'array', items: { type: 'object', required: ['id', 'verdict'], properties: { id: { type: 'string' }, verdict } } },
    notRunCases: { type: 'array', items: { type: 'string' } },
    gap: { oneOf: [{ type: 'null' }, { type: 'object', required: ['reason', 'note'], properties: { reason: { type: 'string' }, note: { type: 'string' } } }] },
  },
} as const;

const count = { type: 'integer', minimum: 0 } as const;

export const RESULTS_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'GEISA ADM conformance run results (results.json), schema version 1',
  type: 'object',
  required: ['format', 'schemaVersion', 'run', 'counts', 'cases', 'matrix'],
  properties: {
    format: { const: 'geisa-adm-results' },
    schemaVersion: { const: 1 },
    run: {
      type: 'object',
      required: [
        'toolVersion', 'gitCommit', 'eventsSchema', 'specVersions', 'startedAt', 'endedAt', 'startMonoNs', 'host', 'defect', 'interrupted',
        'exitCode', 'selectedCases', 'slowNotRun', 'dut', 'profileSource', 'ics', 'ixit', 'profile', 'notes', 'strayEvents', 'capture',
      ],
      properties: {
        toolVersion: nullableString,
        gitCommit: nullableString,
        eventsSchema: { type: ['integer', 'null'] },
        specVersions: {
          type: 'object',
          required: ['lwm2mCore', 'lwm2mTransport', 'geisaCommit'],
          properties: { lwm2mCore: { type: 'string' }, lwm2mTransport: { type: 'string' }, geisaCommit: nullableString },
        },
        startedAt: nullableString,
        endedAt: nullableString,
        startMonoNs: { oneOf: [{ type: 'null' }, monoNs] },
        host: nullableString,
        defect: nullableString,
        interrupted: { type: 'boolean' },
        exitCode: { type: ['integer', 'null'] },
        selectedCases: { type: 'array', items: { type: 'string' } },
        slowNotRun: { type: 'array', items: { type: 'string' } },
        dut: {
          type: 'object',
          required: ['name', 'endpoint', 'identity'],
          properties: { name: nullableString, endpoint: nullableString, identity: { oneOf: [{ type: 'null' }, identity] } },
        },
        profileSource: nullableString,
        ics: { type: 'object', additionalProperties: { type: 'boolean' } },
        ixit: { type: 'object' },
        profile: { description: 'the DUT profile, every secret replaced by {length, sha256}' },
        notes: { type: 'array', items: note },
        strayEvents: { type: 'array', items: { type: 'object', required: ['type', 'caseId'], properties: { type: { type: 'string' }, caseId: nullableString } } },
        capture: {
          oneOf: [
            { type: 'null' },
            { type: 'object', required: ['file', 'packets', 'decodeHint'], properties: { file: { type: 'string' }, packets: { type: 'integer', minimum: 0 }, decodeHint: { type: 'string' } } },
          ],
        },
      },
    },
    counts: {
      type: 'object',
      required: ['pass', 'fail', 'error', 'inconclusive', 'not-applicable', 'advisory', 'total'],
      properties: { pass: count, fail: count, error: count, inconclusive: count, 'not-applicable': count, advisory: count, total: count },
    },
    cases: { type: 'array', items: caseResult },
    matrix: {
      type: 'object',
      required: ['catalog', 'rows'],
      properties: {
        catalog: {
          type: 'object',
          required: ['available', 'source', 'sha256', 'note'],
          properties: { available: { type: 'boolean' }, source: nullableString, sha256: nullableString, note: nullableString },
        },
        rows: { type: 'array', items: matrixRow },
      },
    },
  },
} as const;
