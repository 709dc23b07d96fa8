/**
 * The wire recorder: every datagram any harness endpoint sends or receives becomes a
 * `datagram` result event, with its monotonic arrival time, addresses, the raw bytes and
 * a decoded form (CoAP header, options, payload decoded by content format) — secrets
 * scrubbed from both. Cases judge from the endpoints' parsed messages; the recorder is
 * the evidence an auditor reads.
 */
import type { DatagramEvent, DecodedCoap } from '../results/events.js';
import type { RawDatagram } from '../coap/endpoint.js';
import {
  type CoapMessage,
  codeName,
  contentFormat,
  decodeCoap,
  isRequestCode,
  locationPath,
  optionName,
  OPTION,
  uintOption,
  uriPath,
  uriQuery,
} from '../coap/message.js';
import { decodeContent, isSecretPath, parsePath, formatPath, type ResourceRecord } from '../lwm2m/index.js';
import { SecretScrubber, redactedValue } from './redact.js';
import { decodeDtlsDatagram } from './dtls-records.js';

export type DatagramSink = (e: DatagramEvent) => void;

export class WireRecorder {
  readonly scrubber = new SecretScrubber();
  private caseId = '';
  /** Request path by token, so a response payload is decoded against the path it answers. */
  private readonly pathByToken = new Map<string, string>();
  private readonly events: DatagramEvent[] = [];

  constructor(private readonly sink: DatagramSink = () => {}) {}

  startCase(caseId: string): void {
    this.caseId = caseId;
    this.events.length = 0;
    this.pathByToken.clear();
  }

  /** Datagrams of the current case, as recorded (redacted). */
  get caseEvents(): readonly DatagramEvent[] {
    return this.events;
  }

  /** A tap for CoapEndpoint. */
  readonly tap = (d: RawDatagram): void => {
    this.record(d);
  };

  record(d: RawDatagram): DatagramEvent {
    let decoded: DatagramEvent['decoded'];
    const secretsFound: Buffer[] = [];
    if (d.layer === 'dtls') {
      decoded = decodeDtlsDatagram(d.bytes);
    } else try {
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
    this.events.push(event);
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
    if (!result.ok) {
      const { bytes } = this.scrubber.scrub(payload);
      return { value: { hex: bytes.toString('hex') }, error: this.scrubber.scrubText(result.error.message) };
    }
    if (result.records) return { value: result.records.map((r) => this.recordView(r, secretsFound)) };
    if (result.links) return { value: result.links };
    if (result.text !== undefined) return { value: this.scrubber.scrubText(result.text) };
    const { bytes } = this.scrubber.scrub(payload);
    return { value: { hex: bytes.toString('hex') } };
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
