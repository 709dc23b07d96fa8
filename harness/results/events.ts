/**
 * Result events: the one record of a run. Every report (console, JUnit, results.json,
 * HTML) is rendered from this stream, so anything an auditor must see is an event here.
 * Documented in docs/result-events.md; bump RESULT_SCHEMA_VERSION on any breaking change.
 */

import type { DecodedDtls } from '../recorder/dtls-records.js';

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

export interface RequirementRef {
  /** Catalog id from shared/spec/requirements.md, e.g. GEISA-ADM-BS-01. */
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
  strength: Strength;
  /** ICS key the case needs; undefined when the feature is mandatory for every device. */
  ics?: string;
  timeoutMs: number;
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
}

export interface CaseStartEvent {
  type: 'case-start';
  caseId: string;
  meta: CaseMeta;
  at: string;
  monoNs: string;
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
  /** layer 'coap': the CoAP message (inside DTLS for coaps://); layer 'dtls': the records on the wire. */
  decoded: DecodedCoap | DecodedDtls | { error: string };
}

export interface CheckEvent {
  type: 'check';
  caseId: string;
  name: string;
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

export interface VerdictEvent {
  type: 'verdict';
  caseId: string;
  verdict: Verdict;
  /** One sentence naming the exchange judged (and window/observed/tolerance for timing). */
  reason: string;
  /** A failed SHOULD leaves the verdict at pass and says so here. */
  advisory?: string;
  durationMs: number;
  monoNs: string;
}

export interface RunEndEvent {
  type: 'run-end';
  interrupted: boolean;
  at: string;
  monoNs: string;
  counts: Record<Verdict, number> & { advisory: number };
  exitCode: number;
}

export type ResultEvent =
  | RunStartEvent
  | CaseStartEvent
  | DatagramEvent
  | CheckEvent
  | NoteEvent
  | VerdictEvent
  | RunEndEvent;

export function monoNow(): bigint {
  return process.hrtime.bigint();
}
