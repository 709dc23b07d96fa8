/**
 * The wire recorder: every datagram any harness endpoint sends or receives becomes a
 * `datagram` result event, with its monotonic arrival time, addresses, the raw bytes and
 * a decoded form (CoAP header, options, payload decoded by content format) — secrets
 * scrubbed from both. Cases judge from the endpoints' parsed messages; the recorder is
 * the evidence an auditor reads.
 *
 * What a case keeps is bounded (EVIDENCE_LIMITS), so a device that floods the harness
 * cannot exhaust its memory or blow up the reports: per kind of datagram (endpoint,
 * direction, CoAP or DTLS, well-formed or malformed) the first `head` are recorded as they
 * arrive, the last `tail` are held back and recorded when the case flushes, and the ones
 * in between are counted; a note says how many were elided.
 */
import type { DatagramEvent, DecodedCoap } from '../events/events.js';
import type { RawDatagram } from '../coap/endpoint.js';
import { type CoapMessage, codeName, contentFormat, decodeCoap, isRequestCode, locationPath, optionName, OPTION, uintOption, uriPath, uriQuery } from '../coap/message.js';
import { decodeContent, isSecretPath, parsePath, formatPath, type ResourceRecord } from '../lwm2m/index.js';
import { SecretScrubber, redactedValue } from './redact.js';
import { decodeDtlsDatagram } from './dtls-records.js';

export type DatagramSink = (e: DatagramEvent) => void;
export type NoteSink = (text: string) => void;

/**
 * Per case. `head` and `tail` count datagrams of one well-formed kind (a legitimate case
 * stays far below `head`: a Block1 transfer of 3 KB in 16-byte blocks is 192), the
 * `malformed` ones datagrams of a malformed kind; `headBytes` caps the raw bytes kept from
 * the heads of all kinds together (a flood of 64 KB datagrams stops being recorded long
 * before `head` of them), `tailBytes` the raw bytes held in each kind's tail.
 */
export interface EvidenceLimits {
  head: number;
  tail: number;
  malformedHead: number;
  malformedTail: number;
  headBytes: number;
  tailBytes: number;
}

export const EVIDENCE_LIMITS: EvidenceLimits = { head: 200, tail: 50, malformedHead: 20, malformedTail: 20, headBytes: 1024 * 1024, tailBytes: 64 * 1024 };

/** A payload that does not decode is shown as hex up to this many bytes (the raw bytes keep it all). */
const UNDECODED_PAYLOAD_HEX_BYTES = 1024;

interface KindState {
  label: string;
  /** How many of the first and of the last datagrams of this kind are kept. */
  keepFirst: number;
  keepLast: number;
  seen: number;
  recorded: number;
  /** The most recent datagrams past the head, oldest first; recorded at the next flush. */
  tail: RawDatagram[];
  tailBytes: number;
  elided: number;
  /** Elided datagrams already told in a note. */
  elidedTold: number;
  /** Past its head: from now on only the tail is kept. */
  pastHead: boolean;
}

export class WireRecorder {
  readonly scrubber = new SecretScrubber();
  private caseId = '';
  /** Request path by token, so a response payload is decoded against the path it answers. */
  private readonly pathByToken = new Map<string, string>();
  private readonly kinds = new Map<string, KindState>();
  private headBytes = 0;

  constructor(
    private readonly sink: DatagramSink = () => {},
    private readonly limits: EvidenceLimits = EVIDENCE_LIMITS,
    private readonly noteSink: NoteSink = () => {},
  ) {}

  startCase(caseId: string): void {
    this.caseId = caseId;
    this.pathByToken.clear();
    this.kinds.clear();
    this.headBytes = 0;
  }

  /** A tap for CoapEndpoint: records within the limits, counts the rest. */
  readonly tap = (d: RawDatagram): void => {
    const kind = this.kindOf(d);
    kind.seen += 1;
    if (!kind.pastHead && kind.recorded < kind.keepFirst && this.headBytes + d.bytes.length <= this.limits.headBytes) {
      kind.recorded += 1;
      this.headBytes += d.bytes.length;
      this.record(d);
      return;
    }
    kind.pastHead = true;
    kind.tail.push(d);
    kind.tailBytes += d.bytes.length;
    while (kind.tail.length > kind.keepLast || (kind.tailBytes > this.limits.tailBytes && kind.tail.length > 1)) {
      kind.tailBytes -= kind.tail.shift()!.bytes.length;
      kind.elided += 1;
    }
  };

  /**
   * Records the held-back tails and says in a note, per kind, how many datagrams were
   * elided. Called before the verdict and again once the servers are closed.
   */
  flush(): void {
    for (const kind of this.kinds.values()) {
      const tail = kind.tail.splice(0);
      kind.tailBytes = 0;
      for (const d of tail) {
        kind.recorded += 1;
        this.record(d);
      }
      const elided = kind.elided - kind.elidedTold;
      if (elided === 0) continue;
      kind.elidedTold = kind.elided;
      this.noteSink(
        `wire recorder: ${elided} ${kind.label} datagram${elided === 1 ? '' : 's'} elided from the evidence ` +
          `(${kind.seen} seen in this case, ${kind.recorded} kept: the first ${kind.recorded - tail.length} and the last ${tail.length}; ` +
          `kept per case: the first ${kind.keepFirst} and the last ${kind.keepLast} of this kind, at most ${this.limits.headBytes} bytes of first ones of all kinds)`,
      );
    }
  }

  /** Datagrams seen and elided so far in this case, per kind label. */
  counts(): { label: string; seen: number; recorded: number; elided: number }[] {
    return [...this.kinds.values()].map((k) => ({ label: k.label, seen: k.seen, recorded: k.recorded, elided: k.elided }));
  }

  private kindOf(d: RawDatagram): KindState {
    const layer = d.layer ?? 'coap';
    const malformed = layer === 'dtls' ? !looksLikeDtls(d.bytes) : !isCoap(d.bytes);
    const label = `${malformed ? 'malformed ' : ''}${layer === 'dtls' ? 'DTLS' : 'CoAP'} ${d.direction === 'in' ? `in at ${d.endpoint}` : `out from ${d.endpoint}`}`;
    let kind = this.kinds.get(label);
    if (!kind) {
      kind = {
        label,
        keepFirst: malformed ? this.limits.malformedHead : this.limits.head,
        keepLast: malformed ? this.limits.malformedTail : this.limits.tail,
        seen: 0,
        recorded: 0,
        tail: [],
        tailBytes: 0,
        elided: 0,
        elidedTold: 0,
        pastHead: false,
      };
      this.kinds.set(label, kind);
    }
    return kind;
  }

  /** Builds, emits and returns the event of one datagram, whatever the limits. */
  record(d: RawDatagram): DatagramEvent {
    let decoded: DatagramEvent['decoded'];
    const secretsFound: Buffer[] = [];
    if (d.layer === 'dtls') {
      decoded = decodeDtlsDatagram(d.bytes);
    } else
      try {
        const msg = decodeCoap(d.bytes);
        decoded = this.decode(msg, `${d.remote.address}|${d.remote.port}`, secretsFound);
      } catch (e) {
        decoded = { error: this.scrubber.scrubText((e as Error).message) };
      }
    const { bytes, count: redacted } = this.scrubber.scrub(d.bytes, secretsFound);
    const event: DatagramEvent = {
      type: 'datagram',
      caseId: this.caseId,
      direction: d.direction,
      layer: d.layer ?? 'coap',
      endpoint: d.endpoint,
      local: d.local,
      remote: d.remote,
      monoNs: d.monoNs.toString(),
      bytes: bytes.toString('hex'),
      ...(redacted > 0 ? { redacted } : {}),
      decoded,
    };
    this.sink(event);
    return event;
  }

  private decode(msg: CoapMessage, peer: string, secretsFound: Buffer[]): DecodedCoap {
    const tokenKey = `${peer}|${msg.token.toString('hex')}`;
    const out: DecodedCoap = {
      type: msg.type,
      code: msg.code,
      codeName: codeName(msg.code),
      mid: msg.mid,
      token: msg.token.toString('hex'),
      options: msg.options.map((o) => ({ number: o.number, name: optionName(o.number), value: optionText(o.number, o.value) })),
    };
    let basePath: string | undefined;
    if (isRequestCode(msg.code)) {
      out.uriPath = uriPath(msg);
      out.uriQuery = uriQuery(msg);
      basePath = out.uriPath;
      if (msg.token.length > 0) this.pathByToken.set(tokenKey, out.uriPath);
    } else {
      basePath = this.pathByToken.get(tokenKey);
    }
    const loc = locationPath(msg);
    if (loc.length) out.locationPath = '/' + loc.join('/');
    const cf = contentFormat(msg);
    if (cf !== undefined) out.contentFormat = cf;
    const accept = uintOption(msg, OPTION.ACCEPT);
    if (accept !== undefined) out.accept = accept;
    if (msg.payload.length > 0) {
      const payload = this.decodePayload(cf, msg.payload, basePath, secretsFound);
      if ('error' in payload) out.payloadError = payload.error;
      out.payload = payload.value;
    }
    return out;
  }

  private decodePayload(cf: number | undefined, payload: Buffer, basePath: string | undefined, secretsFound: Buffer[]): { value: unknown; error?: string } {
    let base;
    try {
      base = basePath !== undefined && /^\/(\d+(\/\d+){0,3})?$/.test(basePath) ? parsePath(basePath) : undefined;
    } catch {
      base = undefined;
    }
    const result = decodeContent(cf, payload, base);
    if (!result.ok) return { value: this.hexView(payload), error: this.scrubber.scrubText(result.error.message) };
    if (result.records) return { value: result.records.map((r) => this.recordView(r, secretsFound)) };
    if (result.links) return { value: result.links };
    if (result.text !== undefined) return { value: this.scrubber.scrubText(result.text) };
    return { value: this.hexView(payload) };
  }

  /** A payload shown as hex, the first bytes only when it is long: the raw bytes of the event keep it all. */
  private hexView(payload: Buffer): { hex: string; length?: number; shownBytes?: number } {
    const { bytes } = this.scrubber.scrub(payload);
    const hex = bytes.subarray(0, UNDECODED_PAYLOAD_HEX_BYTES).toString('hex');
    return bytes.length > UNDECODED_PAYLOAD_HEX_BYTES ? { hex, length: bytes.length, shownBytes: UNDECODED_PAYLOAD_HEX_BYTES } : { hex };
  }

  private recordView(r: ResourceRecord, secretsFound: Buffer[]): { path: string; value: unknown } {
    const path = formatPath(r.path);
    if (isSecretPath(r.path)) {
      const raw = valueBytes(r.value);
      secretsFound.push(raw);
      return { path, value: redactedValue(raw) };
    }
    const v = r.value;
    if (Buffer.isBuffer(v)) {
      if (this.scrubber.has(v)) return { path, value: redactedValue(v) };
      return { path, value: { hex: v.toString('hex') } };
    }
    if (typeof v === 'bigint') return { path, value: v.toString() };
    return { path, value: v };
  }
}

function valueBytes(v: ResourceRecord['value']): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  return Buffer.from(String(typeof v === 'object' ? JSON.stringify(v) : v), 'utf8');
}

function optionText(number: number, value: Buffer): string {
  switch (number) {
    case OPTION.URI_PATH:
    case OPTION.URI_QUERY:
    case OPTION.LOCATION_PATH:
    case OPTION.LOCATION_QUERY:
    case OPTION.URI_HOST:
    case OPTION.PROXY_URI:
    case OPTION.PROXY_SCHEME:
      return value.toString('utf8');
    case OPTION.CONTENT_FORMAT:
    case OPTION.ACCEPT:
    case OPTION.MAX_AGE:
    case OPTION.URI_PORT:
    case OPTION.SIZE1:
    case OPTION.SIZE2:
    case OPTION.OBSERVE: {
      let n = 0;
      for (const b of value) n = n * 256 + b;
      return String(n);
    }
    default:
      return value.toString('hex');
  }
}

function isCoap(bytes: Buffer): boolean {
  try {
    decodeCoap(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Whole DTLS records from the first byte to the last (the recorder's reading of malformed DTLS). */
function looksLikeDtls(bytes: Buffer): boolean {
  const d = decodeDtlsDatagram(bytes);
  return d.records.length > 0 && d.trailing === undefined;
}
