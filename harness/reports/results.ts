/**
 * results.json: the run as auditors and every rendering read it. Built once from the
 * result events (via foldEvents); JUnit, the console summary, HTML and PDF are rendered
 * from this model only, so they cannot disagree about a case or a verdict, and
 * `geisa-adm report` can render any of them again from the file. Documented in
 * docs/results.md; the types and the JSON Schema come from harness/reports/results-schema.ts
 * (written out as results.schema.json by `npm run schemas`). Bump RESULTS_SCHEMA_VERSION on
 * any breaking change.
 */
import { readFileSync } from 'node:fs';
import Ajv, { type ValidateFunction } from 'ajv';
import type { DeviceIdentityEvent, Verdict } from '../events/events.js';
import { VERDICT_RANK, worseVerdict } from '../events/events.js';
import { type RunRecord, caseOutcome, dutIdentity, parseMonoNs, tally } from './run-record.js';
import { describeDatagram } from './trace-format.js';
import type { Catalog } from './catalog.js';
import { writeFileAtomic } from './atomic-write.js';
import { RESULTS_SCHEMA, type CaseResult, type DeviceIdentity, type MatrixRow, type MatrixStatus, type Results } from './results-schema.js';

export const RESULTS_FORMAT = 'geisa-adm-results';
export const RESULTS_SCHEMA_VERSION = 1;
export const RESULTS_NAME = 'results.json';

/** The OMA releases the suite implements (GEISA pins Core and Transport 1.2.2 in references.rst.inc). */
export const SPEC_VERSIONS = { lwm2mCore: '1.2.2', lwm2mTransport: '1.2.2' } as const;

export type { CaseResult, DeviceIdentity, MatrixRow, MatrixStatus, ResultCheck, ResultNote, Results, TraceEntry } from './results-schema.js';

export interface BuildResultsOptions {
  /** The requirement catalog; null or absent: the matrix holds only what the cases cite. */
  catalog?: Catalog | null;
  /** Where the catalog was looked for, for the note when it is missing. */
  catalogPath?: string;
  /** suites/catalog-gaps.ts */
  gaps?: Readonly<Record<string, { reason: string; note: string }>>;
  /** Every case of the suite with the requirements it cites, to say which were not run. */
  knownCases?: readonly { id: string; requirements: readonly { id: string }[] }[];
  capture?: { file: string; packets: number; decodeHint: string } | null;
}

function msBetween(from: string | null | undefined, at: string): number | null {
  if (from === null || from === undefined) return null;
  const a = parseMonoNs(from);
  const b = parseMonoNs(at);
  if (a === null || b === null) return null;
  // Microsecond resolution keeps the number exact in a double for any realistic run.
  return Number((b - a) / 1000n) / 1000;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function identityOf(e: DeviceIdentityEvent): DeviceIdentity {
  const id: DeviceIdentity = { readBy: e.caseId, path: e.path, manufacturer: e.manufacturer, model: e.model, serial: e.serial, firmware: e.firmware };
  if (e.deviceType !== undefined) id.deviceType = e.deviceType;
  if (e.hardwareVersion !== undefined) id.hardwareVersion = e.hardwareVersion;
  if (e.softwareVersion !== undefined) id.softwareVersion = e.softwareVersion;
  return id;
}

export function buildResults(run: RunRecord, opts: BuildResultsOptions = {}): Results {
  const s = run.start;
  const runAnchor = s?.monoNs ?? null;
  const profile = s?.profile ?? null;
  const dut = dutIdentity(run);

  const cases: CaseResult[] = run.cases.map((c) => {
    const o = caseOutcome(c, run);
    const start = c.start.monoNs;
    const lastIdentity = c.identities[c.identities.length - 1];
    return {
      id: c.meta.id,
      title: c.meta.title,
      area: c.meta.area,
      requirements: c.meta.requirements.map((r) => ({ id: r.id, section: r.section, quote: r.quote })),
      strength: c.meta.strength,
      ics: c.meta.ics ?? null,
      tags: [...c.meta.tags],
      security: c.meta.security ?? 'nosec',
      timeoutMs: c.meta.timeoutMs ?? 0,
      verdict: o.verdict,
      reason: o.reason,
      decidedBy: c.verdict?.requirement && c.verdict.level ? { requirement: c.verdict.requirement, level: c.verdict.level } : null,
      advisory: o.advisory ?? null,
      expectedFailure: c.verdict?.expectedFailure ? { reason: c.verdict.expectedFailure.reason, stale: c.verdict.expectedFailure.stale } : null,
      finished: o.finished,
      startedAt: c.start.at,
      startMonoNs: start,
      startOffsetMs: msBetween(runAnchor, start),
      durationMs: o.durationMs,
      checks: c.checks.map((k) => ({ name: k.name, requirement: k.requirement ?? null, level: k.level ?? null, ok: k.ok, expected: k.expected, observed: k.observed, tolerance: k.tolerance ?? null, monoNs: k.monoNs, atMs: msBetween(start, k.monoNs) })),
      notes: c.notes.map((n) => ({ source: n.source, text: n.text, monoNs: n.monoNs, atMs: msBetween(start, n.monoNs) })),
      trace: c.datagrams.map((d) => ({
        monoNs: d.monoNs,
        atMs: msBetween(start, d.monoNs),
        direction: d.direction,
        layer: d.layer,
        endpoint: d.endpoint,
        local: d.local,
        remote: d.remote,
        bytes: d.bytes,
        redacted: d.redacted ?? 0,
        decoded: d.decoded,
        summary: describeDatagram(d),
      })),
      identity: lastIdentity ? identityOf(lastIdentity) : null,
    };
  });

  // The first case that read /3/0 names the device for the run.
  const identity = cases.find((c) => c.identity !== null)?.identity ?? null;

  return {
    format: RESULTS_FORMAT,
    schemaVersion: RESULTS_SCHEMA_VERSION,
    run: {
      toolVersion: s?.toolVersion ?? null,
      gitCommit: s?.gitCommit ?? null,
      eventsSchema: s?.schema ?? null,
      specVersions: { ...SPEC_VERSIONS, geisaCommit: opts.catalog?.geisaCommit ?? null },
      startedAt: s?.startedAt ?? null,
      endedAt: run.end?.at ?? null,
      startMonoNs: runAnchor,
      host: s?.host ?? null,
      defect: s?.defect ?? null,
      interrupted: run.interrupted,
      exitCode: run.end?.exitCode ?? null,
      selectedCases: s?.cases ? [...s.cases] : [],
      slowNotRun: s?.slowNotRun ? [...s.slowNotRun] : [],
      dut: { name: dut.name, endpoint: dut.endpoint, identity },
      profileSource: isObject(profile) && typeof profile['source'] === 'string' ? profile['source'] : null,
      ics: isObject(profile) && isObject(profile['ics']) ? (Object.fromEntries(Object.entries(profile['ics']).filter(([, v]) => typeof v === 'boolean')) as Record<string, boolean>) : {},
      ixit: isObject(profile) && isObject(profile['ixit']) ? profile['ixit'] : {},
      profile,
      notes: run.notes.map((n) => ({ source: n.source, text: n.text, monoNs: n.monoNs, atMs: msBetween(runAnchor, n.monoNs) })),
      strayEvents: run.stray.map((e) => ({ type: e.type, caseId: 'caseId' in e ? e.caseId : null })),
      capture: opts.capture ?? null,
    },
    counts: tally(run),
    cases,
    matrix: buildMatrix(cases, opts),
  };
}

/**
 * What a case says about one of the rows it cites. Checks are judged per row, so a case
 * that failed on one row does not fail the others: a row whose own checks held is a pass
 * there, a row the case never reached is inconclusive. Results of older tool versions
 * (no row on checks) keep the case verdict.
 */
function verdictForRow(c: CaseResult, rowId: string): Verdict {
  if (c.verdict !== 'fail' || !c.decidedBy) return c.verdict;
  if (c.decidedBy.requirement === rowId) return 'fail';
  const own = c.checks.filter((k) => k.requirement === rowId);
  if (own.some((k) => !k.ok && (k.level === 'SHALL' || k.level === 'MUST' || (k.level === 'MAY' && c.ics !== null)))) return 'fail';
  return own.length > 0 ? 'pass' : 'inconclusive';
}

function buildMatrix(cases: CaseResult[], opts: BuildResultsOptions): Results['matrix'] {
  const catalog = opts.catalog ?? null;
  const judged = new Map<string, { id: string; verdict: Verdict }[]>();
  for (const c of cases) {
    for (const r of c.requirements) {
      const list = judged.get(r.id) ?? [];
      if (!list.some((x) => x.id === c.id)) list.push({ id: c.id, verdict: verdictForRow(c, r.id) });
      judged.set(r.id, list);
    }
  }
  const ran = new Set(cases.map((c) => c.id));
  const notRun = (reqId: string) => (opts.knownCases ?? []).filter((k) => !ran.has(k.id) && k.requirements.some((r) => r.id === reqId)).map((k) => k.id);

  const row = (requirementId: string, meta: { section: string; text: string; strength: string; conf: string } | null): MatrixRow => {
    const list = judged.get(requirementId) ?? [];
    const status: MatrixStatus = list.length === 0 ? 'ABSENT' : list.map((x) => x.verdict).reduce(worseVerdict);
    const gap = opts.gaps?.[requirementId];
    return {
      requirementId,
      inCatalog: meta !== null,
      section: meta?.section ?? null,
      text: meta?.text ?? null,
      strength: meta?.strength ?? null,
      conf: meta?.conf ?? null,
      status,
      cases: list,
      notRunCases: notRun(requirementId),
      gap: gap ? { reason: gap.reason, note: gap.note } : null,
    };
  };

  const rows: MatrixRow[] = [];
  const seen = new Set<string>();
  for (const r of catalog?.rows ?? []) {
    if (seen.has(r.id)) continue;
    seen.add(r.id);
    rows.push(row(r.id, r));
  }
  // A requirement a case cites but the catalog lacks is shown, flagged, rather than dropped.
  for (const c of cases) {
    for (const r of c.requirements) {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      rows.push(row(r.id, null));
    }
  }
  return {
    catalog: catalog
      ? { available: true, source: catalog.source, sha256: catalog.sha256, note: null }
      : {
          available: false,
          source: null,
          sha256: null,
          note: `${opts.catalogPath ? `requirement catalog not found at ${opts.catalogPath}` : 'no requirement catalog given'}: the matrix lists only the requirements the cases of this run cite, so requirements no case covers are not shown`,
        },
    rows,
  };
}

export class ResultsError extends Error {
  override name = 'ResultsError';
}

let validator: ValidateFunction | undefined;

/** Throws ResultsError naming the first problems when `value` is not a results document. */
export function validateResults(value: unknown, source = RESULTS_NAME): Results {
  validator ??= new Ajv.default({ allErrors: true, strict: false }).compile(RESULTS_SCHEMA);
  if (isObject(value) && value['format'] === RESULTS_FORMAT && typeof value['schemaVersion'] === 'number' && value['schemaVersion'] !== RESULTS_SCHEMA_VERSION) {
    throw new ResultsError(`${source} is results schema version ${value['schemaVersion']}; this tool reads version ${RESULTS_SCHEMA_VERSION}`);
  }
  if (!validator(value)) {
    const problems = (validator.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '(document)'} ${e.message ?? ''}`.trim());
    throw new ResultsError(`${source} is not a valid ${RESULTS_FORMAT} document: ${problems.join('; ')}`);
  }
  return value as Results;
}

export function readResults(file: string): Results {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ResultsError(`cannot read ${file}: ${(e as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ResultsError(`${file} is not JSON: ${(e as Error).message}`);
  }
  return validateResults(value, file);
}

export function renderResultsJson(results: Results): string {
  return JSON.stringify(results, null, 2) + '\n';
}

export function writeResults(results: Results, file: string): void {
  writeFileAtomic(file, renderResultsJson(results));
}

/** Worst first: the order reports list verdict counts in. */
export const VERDICTS_WORST_FIRST: Verdict[] = (Object.keys(VERDICT_RANK) as Verdict[]).sort((a, b) => VERDICT_RANK[b] - VERDICT_RANK[a]);

