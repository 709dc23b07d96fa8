/**
 * Result events: the one record of a run. Every report (console, JUnit, results.json,
 * HTML) is rendered from this stream, so anything an auditor must see is an event here.
 * Documented in docs/result-events.md; bump RESULT_SCHEMA_VERSION on any breaking change.
 */

import type { DecodedDtls } from '../recorder/dtls-records.js';
import type { Level } from '../catalog/types.js';

/** DTLS records of one datagram (see harness/recorder/dtls-records.ts). */
export type { DecodedDtls };

export const RESULT_SCHEMA_VERSION = 1;

/** Worst wins, in this order (see VERDICT_RANK). */
export type Verdict = 'error' | 'fail' | 'inconclusive' | 'pass' | 'not-applicable';

export const VERDICT_RANK: Record<Verdict, number> = {
  'not-applicable': 0,
  pass: 1,
  inconclusive: 2,
  fail: 3,
  error: 4,
};

export function worseVerdict(a: Verdict, b: Verdict): Verdict {
  return VERDICT_RANK[a] >= VERDICT_RANK[b] ? a : b;
}

export type Strength = 'SHALL' | 'MUST' | 'SHOULD' | 'MAY';

export type { Level };

export interface RequirementRef {
  /** Catalog row id (harness/catalog/requirements.ts), e.g. GEISA-ADM-BS-01. */
  id: string;
  /** Where the normative text lives, e.g. "GEISA adm/bootstrap.rst" or "LwM2M Core 1.2 §6.1.7.1". */
  section: string;
  /** Short quote or paraphrase of the text checked. */
  quote: string;
}

export type Area = 'bootstrap' | 'registration' | 'retry' | 'coap' | 'security';

export interface CaseMeta {
  id: string;
  title: string;
  area: Area;
  requirements: RequirementRef[];
  /** The strongest main level among the rows the case cites (computed from the catalog). */
  strength: Strength;
  /** ICS key the case needs; undefined when the feature is mandatory for every device. */
  ics?: string;
  /**
   * In a run's events: the case's budget under that run's profile (its budget function of
   * the IXIT plus the margin, harness/runner/budget.ts). Absent in the static metadata.
   */
  timeoutMs?: number;
  tags: string[];
  /** 'psk' / 'certificate': both fake servers are coaps:// with DTLS 1.2 in that mode; default plain CoAP. */
  security?: 'nosec' | 'psk' | 'certificate';
}

export interface Address {
  address: string;
  port: number;
}

/** A CoAP message as the recorder keeps it: secrets already redacted. */
export interface DecodedCoap {
  type: 'CON' | 'NON' | 'ACK' | 'RST';
  code: string; // "0.02", "2.04" ...
  codeName: string; // "POST", "Changed" ...
  mid: number;
  token: string; // hex
  options: { number: number; name: string; value: string }[];
  uriPath?: string;
  uriQuery?: string[];
  locationPath?: string;
  contentFormat?: number;
  accept?: number;
  /** Payload decoded by content format, or raw hex/utf-8 when unknown. */
  payload?: unknown;
  payloadError?: string;
}

export interface RunStartEvent {
  type: 'run-start';
  schema: number;
  toolVersion: string;
  gitCommit: string | null;
  startedAt: string; // ISO wall clock
  monoNs: string; // monotonic anchor taken at the same instant as startedAt
  host: string;
  /** DUT profile with every secret replaced by a fingerprint. */
  profile: unknown;
  defect: string | null;
  cases: string[];
  /** Selected but not run because they are tagged slow and the run did not ask for them. */
  slowNotRun?: string[];
  /** From --expected-failures: case id → why it is known to fail. */
  expectedFailures?: Record<string, string>;
}

export interface CaseStartEvent {
  type: 'case-start';
  caseId: string;
  meta: CaseMeta;
  at: string;
  monoNs: string;
  /**
   * The case runs again, alone: its first attempt, with other cases in flight, was
   * inconclusive only because the harness's event loop stalled (`reason`, that attempt's
   * verdict). Reports show this attempt; the first stays in the event log.
   */
  rerun?: { reason: string };
}

export interface DatagramEvent {
  type: 'datagram';
  caseId: string;
  direction: 'in' | 'out';
  layer: 'coap' | 'dtls';
  /** Which harness endpoint saw it. */
  endpoint: string;
  local: Address;
  remote: Address;
  monoNs: string;
  /** Raw bytes as hex, secret resource values overwritten (see harness/recorder/redact.ts). */
  bytes: string;
  /**
   * How many secret values were overwritten with zeros in `bytes`; absent when `bytes` are
   * exactly the bytes on the wire (the pcapng capture marks such packets as redacted).
   */
  redacted?: number;
  /** layer 'coap': the CoAP message (inside DTLS for coaps://); layer 'dtls': the records on the wire. */
  decoded: DecodedCoap | DecodedDtls | { error: string };
}

export interface CheckEvent {
  type: 'check';
  caseId: string;
  name: string;
  /** The catalog row the check judges and the level it was judged at. */
  requirement: string;
  level: Level;
  ok: boolean;
  expected: string;
  observed: string;
  tolerance?: string;
  monoNs: string;
}

export interface NoteEvent {
  type: 'note';
  caseId: string | null;
  source: 'harness' | 'adapter' | 'operator' | 'device';
  text: string;
  monoNs: string;
}

/**
 * Who the device says it is: the Device object instance /3/0 read by the fake LwM2M Server
 * once the device registered. Device-provided text, shown escaped in every report.
 */
export interface DeviceIdentityEvent {
  type: 'device-identity';
  caseId: string;
  /** Object instance read, '/3/0'. */
  path: string;
  /** /3/0/0, /3/0/1, /3/0/2, /3/0/3; null where the device did not return the resource. */
  manufacturer: string | null;
  model: string | null;
  serial: string | null;
  firmware: string | null;
  /** /3/0/17 Device Type, /3/0/18 Hardware Version, /3/0/19 Software Version, when returned. */
  deviceType?: string;
  hardwareVersion?: string;
  softwareVersion?: string;
  monoNs: string;
}

export interface VerdictEvent {
  type: 'verdict';
  caseId: string;
  verdict: Verdict;
  /** One sentence naming the exchange judged (and window/observed/tolerance for timing). */
  reason: string;
  /** A failed SHOULD leaves the verdict at pass and says so here. */
  advisory?: string;
  /** The row (and its level) whose observation decided a fail or inconclusive verdict, when one did. */
  requirement?: string;
  level?: Level;
  /**
   * The case is in the run's expected-failures file: it failed as listed (does not fail
   * the run), or it is stale (listed, but passes now: with --strict that fails the run).
   */
  expectedFailure?: { reason: string; stale: boolean };
  durationMs: number;
  monoNs: string;
}

export interface RunEndEvent {
  type: 'run-end';
  interrupted: boolean;
  at: string;
  monoNs: string;
  counts: Record<Verdict, number> & { advisory: number; expectedFailure?: number; stale?: number };
  exitCode: number;
}

export type ResultEvent = RunStartEvent | CaseStartEvent | DatagramEvent | CheckEvent | NoteEvent | DeviceIdentityEvent | VerdictEvent | RunEndEvent;

export function monoNow(): bigint {
  return process.hrtime.bigint();
}
