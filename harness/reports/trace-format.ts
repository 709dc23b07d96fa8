/**
 * One-line renderings of datagrams and checks, shared by every human-readable report so
 * that a trace reads the same in JUnit, on the console and in HTML.
 *
 * Much of what is shown comes from the device (paths, queries, payloads, and the observed
 * side of checks), so every line passes through escapeControls: a DUT must not be able to
 * break a line, hide text, or send escape sequences to an operator's terminal.
 */
import type { Address, CheckEvent, DatagramEvent, DecodedCoap } from '../events/events.js';
import { parseMonoNs } from './run-record.js';
import { describeDtls } from '../recorder/dtls-records.js';

const PAYLOAD_SUMMARY_MAX = 120;

/** Names for the content formats LwM2M 1.2 uses (LwM2M Core §7.1, IANA CoAP registry). */
const CONTENT_FORMATS: Record<number, string> = {
  0: 'text/plain',
  40: 'link-format',
  42: 'octet-stream',
  50: 'json',
  60: 'cbor',
  110: 'senml+json',
  112: 'senml+cbor',
  11542: 'lwm2m+tlv',
  11543: 'lwm2m+json',
  11544: 'lwm2m+cbor',
};

export function contentFormatName(cf: number): string {
  return CONTENT_FORMATS[cf] ?? `cf=${cf}`;
}

/**
 * Replaces every character that could break a one-line, XML-safe, terminal-safe rendering
 * (C0/C1 controls, DEL, line and paragraph separators, lone surrogates, U+FFFE/U+FFFF)
 * with a visible escape, so the evidence stays readable instead of being dropped.
 */
export function escapeControls(s: string): string {
  return s.replace(
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    (ch) => {
      const code = ch.charCodeAt(0);
      return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
    },
  );
}

/** Cuts at a code point boundary so a surrogate pair is never split. */
export function truncate(s: string, max: number): string {
  const cps = Array.from(s);
  if (cps.length <= max) return s;
  return cps.slice(0, Math.max(0, max - 1)).join('') + '…';
}

/** "+12.345 ms" from two decimal-string nanosecond stamps; "?" when either is unreadable. */
export function formatRelativeMs(fromMonoNs: string, atMonoNs: string): string {
  const from = parseMonoNs(fromMonoNs);
  const at = parseMonoNs(atMonoNs);
  if (from === null || at === null) return '? ms';
  const d = at - from;
  const sign = d < 0n ? '-' : '+';
  // Integer arithmetic: a run of hours in nanoseconds exceeds a double's exact range.
  const micros = (d < 0n ? -d : d) / 1000n;
  const ms = micros / 1000n;
  const frac = (micros % 1000n).toString().padStart(3, '0');
  return `${sign}${ms}.${frac} ms`;
}

export function formatAddress(a: Address): string {
  return a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** What a trace line needs of a datagram: the event, or a results.json trace entry. */
export type TraceDatagram = Pick<DatagramEvent, 'direction' | 'layer' | 'endpoint' | 'local' | 'remote' | 'monoNs' | 'bytes' | 'decoded'>;

/** What a check line needs: the event, or a results.json check. */
export type TraceCheck = Pick<CheckEvent, 'name' | 'ok' | 'expected' | 'observed'> & { tolerance?: string | null; requirement?: string | null; level?: string | null };

/**
 * `+12.345 ms  in  bootstrap-server 127.0.0.1:40001 <- 127.0.0.1:51234  CON POST mid=123 token=a1b2 /bs?ep=x [payload]`
 * Time is relative to the case start; the arrow points the way the datagram went.
 */
export function formatDatagram(d: TraceDatagram, caseStartMonoNs: string): string {
  const time = formatRelativeMs(caseStartMonoNs, d.monoNs).padStart(13);
  const dir = d.direction.padEnd(3);
  const arrow = d.direction === 'in' ? '<-' : '->';
  const where = `${d.endpoint} ${formatAddress(d.local)} ${arrow} ${formatAddress(d.remote)}`;
  return escapeControls(`${time}  ${dir} ${where}  ${describeDatagram(d)}`);
}

/** The datagram alone, without time or addresses: `CON POST mid=1 token=ab /bs?ep=x`. */
export function describeDatagram(d: Pick<TraceDatagram, 'layer' | 'bytes' | 'decoded'>): string {
  const size = `${Math.floor(d.bytes.length / 2)} B`;
  if ('error' in d.decoded) return `${d.layer} undecodable (${d.decoded.error}) ${size}`;
  if ('records' in d.decoded) return `${describeDtls(d.decoded)} ${size}`;
  return describeCoap(d.decoded);
}

export function describeCoap(m: DecodedCoap): string {
  const isRequest = m.code.startsWith('0.') && m.code !== '0.00';
  // Methods read best by name; responses and Empty need the number, which specs quote.
  const code = isRequest ? m.codeName : m.codeName && m.codeName !== m.code ? `${m.code} ${m.codeName}` : m.code;
  const parts = [m.type, code, `mid=${m.mid}`, `token=${m.token || '-'}`];
  if (m.uriPath !== undefined || (m.uriQuery && m.uriQuery.length)) {
    const path = m.uriPath ?? '/';
    const query = m.uriQuery && m.uriQuery.length ? '?' + m.uriQuery.join('&') : '';
    parts.push((path.startsWith('/') ? path : '/' + path) + query);
  }
  if (m.locationPath) parts.push(`loc=${m.locationPath}`);
  if (m.accept !== undefined) parts.push(`accept=${contentFormatName(m.accept)}`);
  const payload = summarizePayload(m);
  if (payload) parts.push(payload);
  return parts.join(' ');
}

/** "[senml+json: ...]" — content format, then the decoded payload as compact JSON, cut short. */
export function summarizePayload(m: Pick<DecodedCoap, 'payload' | 'payloadError' | 'contentFormat'>): string {
  if (m.payload === undefined && m.payloadError === undefined) return '';
  const label = m.contentFormat !== undefined ? contentFormatName(m.contentFormat) : 'no cf';
  const err = m.payloadError !== undefined ? ` undecodable (${m.payloadError})` : '';
  return `[${label}${err}: ${truncate(jsonish(m.payload), PAYLOAD_SUMMARY_MAX)}]`;
}

function jsonish(v: unknown): string {
  if (v === undefined) return '';
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * `FAIL  [LWM2M-CORE-BS-09 MUST] name: expected X; observed Y; tolerance Z`. A missed
 * SHOULD row reads `miss`, an open one `open`: only a missed SHALL/MUST (or claimed MAY) is a FAIL.
 */
export function formatCheck(c: TraceCheck | CheckEvent): string {
  const tol = c.tolerance !== undefined && c.tolerance !== null ? `; tolerance ${c.tolerance}` : '';
  const row = c.requirement ? `[${c.requirement} ${c.level ?? '?'}] ` : '';
  return escapeControls(`${checkMark(c)}  ${row}${c.name}: expected ${c.expected}; observed ${c.observed}${tol}`);
}

/** ok, FAIL, miss (a SHOULD row: advisory) or open (an OPEN row: inconclusive). */
export function checkMark(c: { ok: boolean; level?: string | null }): string {
  if (c.ok) return 'ok  ';
  if (c.level === 'SHOULD') return 'miss';
  if (c.level === 'OPEN') return 'open';
  return 'FAIL';
}
