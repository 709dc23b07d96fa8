/**
 * The run's capture: every datagram the harness's fake servers sent or received, as a
 * pcapng file Wireshark and tshark read. Built from the `datagram` result events, so the
 * capture and events.jsonl hold the same bytes.
 *
 * What is and is not wire evidence here:
 * - The UDP payloads are the bytes on the wire, except in a datagram whose event says
 *   `redacted` (a plaintext CoAP message carrying a secret, e.g. a NoSec Bootstrap-Write
 *   of /0/x/5): there each secret value is overwritten by zeros of the same length, and the
 *   packet's comment says so. Keeping the packet (rather than dropping it) keeps the
 *   exchange whole: its message id, the ACK that answers it, its timing.
 * - The IP and UDP headers are synthesised: the harness sees UDP payloads and socket
 *   addresses only. Addresses and ports are the sockets' own; checksums are computed over
 *   the captured bytes.
 * - CoAP the harness decrypted from DTLS is not written as plaintext: the DTLS records are
 *   the wire. The key log (`--keylog`) lets Wireshark decrypt them.
 *
 * pcapng (IETF draft-ietf-opsawg-pcapng): a Section Header Block, one Interface
 * Description Block (LINKTYPE_RAW: each packet starts at its IPv4 or IPv6 header,
 * nanosecond timestamps), one Enhanced Packet Block per datagram. Little-endian.
 */
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../events/atomic-write.js';
import { isIPv4, isIPv6 } from 'node:net';
import type { DatagramEvent, ResultEvent } from '../events/events.js';

export const CAPTURE_NAME = 'capture.pcapng';
/** Beside the capture: the one tshark command that decodes it (decodeScript). */
export const DECODE_SCRIPT_NAME = 'decode-capture.sh';

const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 0x00000001;
const BLOCK_EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const LINKTYPE_RAW = 101;
const OPT_END = 0;
const OPT_COMMENT = 1;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;
const EPB_FLAGS = 2;
/** epb_flags bits 0-1: 01 inbound, 10 outbound (as seen from the harness). */
const EPB_INBOUND = 1;
const EPB_OUTBOUND = 2;

/** A fake server's socket as the capture saw it used. */
export interface CapturePort {
  caseId: string;
  endpoint: string;
  scheme: 'coap' | 'coaps';
  address: string;
  port: number;
}

export interface DecodeAsPorts {
  coap: number[];
  coaps: number[];
}

export interface CaptureSummary {
  file: string;
  packets: number;
  /** Packets whose payload had secret values zeroed. */
  redactedPackets: number;
  /** CoAP messages the harness decrypted from DTLS, present in the capture only as DTLS records. */
  insideDtls: number;
  ports: CapturePort[];
  decodeAs: DecodeAsPorts;
  /** The tshark command line that decodes the capture (see decodeAsHint). */
  hint: string;
  /** Its decode-as arguments alone. */
  decodeArgs: string[];
}

export interface CaptureOptions {
  /** Written into the section header (shb_userappl); default the run-start's tool version. */
  application?: string;
}

/**
 * The decode-as arguments for the capture: the fake servers listen on ports of the run's
 * block (or OS-chosen ones), not CoAP's registered ones, so tshark must be told by port
 * that they speak CoAP (or DTLS). Neighbouring ports of one scheme become one range
 * (`udp.port==A-B`): a run's block is then one CoAP range and one DTLS range. A range
 * never spans a port of the other scheme nor a port in `avoid` (the devices' ports: a
 * range over a device's port would decode its other traffic too).
 */
export function decodeAsArgs(ports: DecodeAsPorts, avoid: readonly number[] = []): string[] {
  const all = [...uniq(ports.coap).map((port) => ({ port, coaps: false })), ...uniq(ports.coaps).map((port) => ({ port, coaps: true }))].sort((a, b) => a.port - b.port);
  const blocked = uniq([...avoid]).filter((p) => !all.some((a) => a.port === p));
  const ranges: { low: number; high: number; coaps: boolean }[] = [];
  for (const p of all) {
    const last = ranges[ranges.length - 1];
    if (last && last.coaps === p.coaps && !blocked.some((b) => b > last.high && b < p.port)) last.high = p.port;
    else ranges.push({ low: p.port, high: p.port, coaps: p.coaps });
  }
  const sel = (r: { low: number; high: number }) => (r.low === r.high ? `${r.low}` : `${r.low}-${r.high}`);
  // For coaps: UDP to DTLS, then the decrypted DTLS application data (with the key log) to CoAP.
  return ranges.flatMap((r) => (r.coaps ? ['-d', `udp.port==${sel(r)},dtls`, '-d', `dtls.port==${sel(r)},coap`] : ['-d', `udp.port==${sel(r)},coap`]));
}

/** `tshark -r FILE` and the decode-as arguments; empty string when no port. */
export function decodeAsHint(ports: DecodeAsPorts, file = CAPTURE_NAME, avoid: readonly number[] = []): string {
  const args = decodeAsArgs(ports, avoid);
  if (args.length === 0) return '';
  return `tshark -r ${file} ${args.join(' ')}`;
}

/**
 * The shell file written beside the capture: one tshark command that decodes it (and, when
 * the run wrote a key log, decrypts its DTLS), extra tshark arguments passed through. Names
 * files relative to itself, so the folder can be moved or handed on whole.
 */
export function decodeScript(decodeArgs: readonly string[], keylogName?: string): string {
  const ranges = decodeArgs.filter((a) => a.startsWith('udp.port==')).map((a) => a.slice('udp.port=='.length).replace(',', ' as '));
  const args = [...decodeArgs, ...(keylogName ? ['-o', `"tls.keylog_file:$d/${keylogName}"`] : [])];
  return [
    '#!/bin/sh',
    `# Decodes ${CAPTURE_NAME} beside this file with tshark: the harness's server ports ${ranges.join(', ') || '(none)'}${keylogName ? `; DTLS decrypted with the key log ${keylogName}` : ''}.`,
    `# More tshark arguments pass through: sh ${DECODE_SCRIPT_NAME} -Y coap -V. Wireshark takes the same -d${keylogName ? ' and -o' : ''} arguments: wireshark -r ${CAPTURE_NAME} ...`,
    'd=$(dirname "$0")',
    `exec tshark -r "$d/${CAPTURE_NAME}" ${args.join(' ')} "$@"`,
    '',
  ].join('\n');
}

/** Writes decodeScript beside the capture (executable); returns its path. */
export function writeDecodeScript(dir: string, decodeArgs: readonly string[], keylogName?: string): string {
  const file = join(dir, DECODE_SCRIPT_NAME);
  writeFileAtomic(file, decodeScript(decodeArgs, keylogName));
  chmodSync(file, 0o755);
  return file;
}

function uniq(ports: number[]): number[] {
  return [...new Set(ports)].sort((a, b) => a - b);
}

/** A packet of the capture, in the order and with the data it is written. */
export interface CapturePacket {
  event: DatagramEvent;
  wallNs: bigint;
  src: { address: string; port: number };
  dst: { address: string; port: number };
  scheme: 'coap' | 'coaps';
  comment: string;
}

/** Which datagram events are wire datagrams, and the fake servers' ports by scheme. */
export function capturePlan(events: readonly ResultEvent[]): { packets: CapturePacket[]; ports: CapturePort[]; insideDtls: number; notes: string[] } {
  const anchor = wallAnchor(events);
  const unspecifiedAs = advertisedAddress(events);
  const datagrams = events.filter((e): e is DatagramEvent => e.type === 'datagram');
  const socketKey = (e: DatagramEvent) => `${e.caseId}|${e.endpoint}|${e.local.address}|${e.local.port}`;
  // A socket that carried DTLS records is coaps://; the CoAP events on it were decrypted by the harness.
  const dtlsSockets = new Set(datagrams.filter((e) => e.layer === 'dtls').map(socketKey));
  const ports = new Map<string, CapturePort>();
  const notes = new Set<string>();
  const packets: CapturePacket[] = [];
  let insideDtls = 0;
  for (const e of datagrams) {
    const key = socketKey(e);
    const scheme = dtlsSockets.has(key) ? 'coaps' : 'coap';
    if (scheme === 'coaps' && e.layer === 'coap') {
      insideDtls += 1;
      continue;
    }
    if (!ports.has(key)) ports.set(key, { caseId: e.caseId, endpoint: e.endpoint, scheme, address: e.local.address, port: e.local.port });
    const { local, remote, note } = wireAddresses(e, unspecifiedAs);
    if (note) notes.add(note);
    const src = e.direction === 'in' ? remote : local;
    const dst = e.direction === 'in' ? local : remote;
    const wallNs = anchor.wallNs + (BigInt(e.monoNs) - anchor.monoNs);
    const who = e.direction === 'in' ? `device -> ${e.endpoint}` : `${e.endpoint} -> device`;
    // The socket's scheme, not a claim about the payload: a device may send plaintext to a coaps port.
    let comment = `${e.caseId} ${e.direction}: ${who} (${scheme})`;
    if (e.redacted) {
      comment += `; REDACTED: ${e.redacted} secret value${e.redacted === 1 ? '' : 's'} overwritten with zero bytes of the same length,` + ' so this payload is not the bytes on the wire (the fingerprint is in events.jsonl)';
    }
    packets.push({ event: e, wallNs, src, dst, scheme, comment });
  }
  // Stable sort: the wire order, whichever tap reported first.
  packets.sort((a, b) => (a.wallNs < b.wallNs ? -1 : a.wallNs > b.wallNs ? 1 : 0));
  return { packets, ports: [...ports.values()], insideDtls, notes: [...notes] };
}

export function decodeAsPorts(ports: readonly CapturePort[]): DecodeAsPorts {
  return { coap: uniq(ports.filter((p) => p.scheme === 'coap').map((p) => p.port)), coaps: uniq(ports.filter((p) => p.scheme === 'coaps').map((p) => p.port)) };
}

/** The whole capture file. */
export function renderCapture(events: readonly ResultEvent[], opts: CaptureOptions = {}): { bytes: Buffer; summary: Omit<CaptureSummary, 'file'> } {
  const plan = capturePlan(events);
  const decodeAs = decodeAsPorts(plan.ports);
  const peerPorts = plan.packets.map((p) => (p.event.direction === 'in' ? p.src.port : p.dst.port));
  const decodeArgs = decodeAsArgs(decodeAs, peerPorts);
  const hint = decodeAsHint(decodeAs, CAPTURE_NAME, peerPorts);
  const redactedPackets = plan.packets.filter((p) => p.event.redacted).length;
  const start = events.find((e) => e.type === 'run-start');
  const application = opts.application ?? (start && start.type === 'run-start' ? `geisa-adm ${start.toolVersion}${start.gitCommit ? ` (${start.gitCommit})` : ''}` : undefined);
  const shbComments = [
    'geisa-adm run capture: every UDP datagram the fake LwM2M Bootstrap-Server and LwM2M Server sent or received, one packet each, with the case id and direction in its comment.',
    `Fake servers' ports (not CoAP's registered ones, so decode by port): CoAP ${decodeAs.coap.join(', ') || 'none'}; CoAP over DTLS (coaps) ${decodeAs.coaps.join(', ') || 'none'}.`,
    ...(hint ? [`Decode with: ${hint}`] : []),
    'IP and UDP headers are synthesised (the harness sees UDP payloads and socket addresses only); checksums are computed over the captured bytes. Timestamps are the run start wall clock plus the monotonic time of each datagram.',
    redactedPackets > 0
      ? `${redactedPackets} packet(s) marked REDACTED in their comment carry a plaintext secret (e.g. a NoSec Bootstrap-Write of /0/x/5) overwritten with zeros; every other payload is byte for byte what was on the wire.`
      : 'No packet was redacted: every payload is byte for byte what was on the wire.',
    ...(plan.insideDtls > 0 ? [`${plan.insideDtls} CoAP message(s) travelled inside DTLS: they are here as encrypted DTLS records only. A run with --keylog writes the key log Wireshark needs to decrypt them.`] : []),
    ...plan.notes,
  ];
  const idbComments = plan.ports.map((p) => `${p.caseId} ${p.endpoint}: ${p.scheme}://${p.address}:${p.port}`);
  const blocks: Buffer[] = [
    block(BLOCK_SHB, Buffer.concat([u32(BYTE_ORDER_MAGIC), u16(1), u16(0), u64(0xffffffffffffffffn)]), [...shbComments.map((c) => option(OPT_COMMENT, c)), ...(application ? [option(SHB_USERAPPL, application)] : [])]),
    block(BLOCK_IDB, Buffer.concat([u16(LINKTYPE_RAW), u16(0), u32(0)]), [
      option(IF_NAME, 'geisa-adm-harness'),
      option(IF_DESCRIPTION, 'UDP sockets of the fake LwM2M servers (IPv4/IPv6 + UDP headers synthesised)'),
      option(IF_TSRESOL, Buffer.from([9])),
      ...idbComments.map((c) => option(OPT_COMMENT, c)),
    ]),
  ];
  let ipId = 0;
  for (const p of plan.packets) {
    const payload = Buffer.from(p.event.bytes, 'hex');
    ipId = (ipId + 1) & 0xffff;
    const packet = ipUdpPacket(p.src, p.dst, payload, ipId);
    blocks.push(
      block(BLOCK_EPB, Buffer.concat([u32(0), u32(Number(p.wallNs >> 32n)), u32(Number(p.wallNs & 0xffffffffn)), u32(packet.length), u32(packet.length), pad4(packet)]), [
        option(OPT_COMMENT, p.comment),
        option(EPB_FLAGS, u32(p.event.direction === 'in' ? EPB_INBOUND : EPB_OUTBOUND)),
      ]),
    );
  }
  return {
    bytes: Buffer.concat(blocks),
    summary: { packets: plan.packets.length, redactedPackets, insideDtls: plan.insideDtls, ports: plan.ports, decodeAs, hint, decodeArgs },
  };
}

/** Writes the capture (temp file, then rename), so a reader never sees half of one. */
export function writeCapture(events: readonly ResultEvent[], file: string, opts: CaptureOptions = {}): CaptureSummary {
  const { bytes, summary } = renderCapture(events, opts);
  writeFileAtomic(file, bytes);
  return { file, ...summary, hint: summary.hint.replace(`-r ${CAPTURE_NAME}`, `-r ${file}`) };
}

// ---- time and addresses ----

function wallAnchor(events: readonly ResultEvent[]): { wallNs: bigint; monoNs: bigint } {
  for (const e of events) {
    if (e.type === 'run-start') return { wallNs: BigInt(Date.parse(e.startedAt)) * 1_000_000n, monoNs: BigInt(e.monoNs) };
  }
  // A partial log without its run-start: the first case start is the next best anchor.
  for (const e of events) {
    if (e.type === 'case-start') return { wallNs: BigInt(Date.parse(e.at)) * 1_000_000n, monoNs: BigInt(e.monoNs) };
  }
  return { wallNs: 0n, monoNs: 0n };
}

/** The profile's advertiseHost, when it is an address: where a device reached a socket bound to 0.0.0.0 / ::. */
function advertisedAddress(events: readonly ResultEvent[]): string | undefined {
  const start = events.find((e) => e.type === 'run-start');
  const harness = start && start.type === 'run-start' ? (start.profile as { harness?: { advertiseHost?: unknown } } | null)?.harness : undefined;
  const host = harness?.advertiseHost;
  return typeof host === 'string' && (isIPv4(host) || isIPv6(host)) ? host : undefined;
}

type Endpoint = { address: string; port: number };

function plainAddress(a: string): string {
  const noZone = a.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(noZone);
  return mapped ? mapped[1]! : noZone;
}

function isUnspecified(a: string): boolean {
  return a === '0.0.0.0' || a === '::' || /^(0{0,4}:){2,7}0{0,4}$/.test(a);
}

function wireAddresses(e: DatagramEvent, unspecifiedAs: string | undefined): { local: Endpoint; remote: Endpoint; note?: string } {
  const remote = { address: plainAddress(e.remote.address), port: e.remote.port };
  let localAddress = plainAddress(e.local.address);
  let note: string | undefined;
  const family = (a: string) => (isIPv4(a) ? 4 : 6);
  if (isUnspecified(localAddress)) {
    // A socket bound to the wildcard address is not told which of its addresses a datagram reached.
    if (unspecifiedAs && family(unspecifiedAs) === family(remote.address)) {
      note = `The harness listened on ${e.local.address}; its side of each packet is shown as the advertised address ${unspecifiedAs}.`;
      localAddress = unspecifiedAs;
    } else {
      localAddress = family(remote.address) === 4 ? '0.0.0.0' : '::';
      note = `The harness listened on ${e.local.address}; the local address a datagram reached is unknown and shown as ${localAddress}.`;
    }
  }
  if (family(localAddress) !== family(remote.address)) {
    // An IPv4 peer on a dual-stack socket: show both sides as IPv6 (IPv4-mapped).
    if (family(remote.address) === 4) remote.address = `::ffff:${remote.address}`;
    else localAddress = `::ffff:${localAddress}`;
  }
  return { local: { address: localAddress, port: e.local.port }, remote, ...(note ? { note } : {}) };
}

function ipv4Bytes(a: string): Buffer {
  return Buffer.from(a.split('.').map((x) => Number(x)));
}

/** 16 bytes of an IPv6 address in any textual form (with '::' and an embedded IPv4 tail). */
export function ipv6Bytes(a: string): Buffer {
  let text = a;
  const tail: number[] = [];
  const v4 = /(?:^|:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = ipv4Bytes(v4[1]!);
    tail.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
    text = text.slice(0, text.length - v4[1]!.length);
    if (text.endsWith(':') && !text.endsWith('::')) text = text.slice(0, -1);
  }
  const [head, rest] = text.includes('::') ? (text.split('::') as [string, string]) : [text, undefined];
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const h = parse(head);
  const r = rest === undefined ? [] : parse(rest);
  const groups = rest === undefined ? [...h, ...tail] : [...h, ...new Array<number>(8 - h.length - r.length - tail.length).fill(0), ...r, ...tail];
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) throw new Error(`not an IPv6 address: ${a}`);
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

function onesComplementSum(buffers: Buffer[]): number {
  let sum = 0;
  for (const b of buffers) {
    for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) | (i + 1 < b.length ? b[i + 1]! : 0);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

function checksum(buffers: Buffer[]): number {
  return ~onesComplementSum(buffers) & 0xffff;
}

function ipUdpPacket(src: Endpoint, dst: Endpoint, payload: Buffer, ipId: number): Buffer {
  const udpLength = 8 + payload.length;
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(src.port, 0);
  udp.writeUInt16BE(dst.port, 2);
  udp.writeUInt16BE(udpLength & 0xffff, 4);
  if (isIPv4(src.address) && isIPv4(dst.address)) {
    const s = ipv4Bytes(src.address);
    const d = ipv4Bytes(dst.address);
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE((20 + udpLength) & 0xffff, 2);
    ip.writeUInt16BE(ipId, 4);
    ip[8] = 64;
    ip[9] = 17;
    s.copy(ip, 12);
    d.copy(ip, 16);
    ip.writeUInt16BE(checksum([ip]), 10);
    const pseudo = Buffer.concat([s, d, Buffer.from([0, 17]), u16be(udpLength)]);
    udp.writeUInt16BE(checksum([pseudo, udp, payload]) || 0xffff, 6);
    return Buffer.concat([ip, udp, payload]);
  }
  const s = ipv6Bytes(src.address);
  const d = ipv6Bytes(dst.address);
  const ip = Buffer.alloc(40);
  ip.writeUInt32BE(0x60000000, 0);
  ip.writeUInt16BE(udpLength & 0xffff, 4);
  ip[6] = 17;
  ip[7] = 64;
  s.copy(ip, 8);
  d.copy(ip, 24);
  const pseudo = Buffer.concat([s, d, u32be(udpLength), Buffer.from([0, 0, 0, 17])]);
  udp.writeUInt16BE(checksum([pseudo, udp, payload]) || 0xffff, 6);
  return Buffer.concat([ip, udp, payload]);
}

// ---- pcapng encoding ----

/** `size` bytes that `write` fills. */
function filled(size: number, write: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(size);
  write(b);
  return b;
}
// pcapng blocks are little-endian (the section header says so); the IP and UDP headers inside are network order.
const u16 = (n: number): Buffer => filled(2, (b) => b.writeUInt16LE(n));
const u32 = (n: number): Buffer => filled(4, (b) => b.writeUInt32LE(n >>> 0));
const u64 = (n: bigint): Buffer => filled(8, (b) => b.writeBigUInt64LE(n));
const u16be = (n: number): Buffer => filled(2, (b) => b.writeUInt16BE(n & 0xffff));
const u32be = (n: number): Buffer => filled(4, (b) => b.writeUInt32BE(n >>> 0));

function pad4(b: Buffer): Buffer {
  const pad = (4 - (b.length % 4)) % 4;
  return pad ? Buffer.concat([b, Buffer.alloc(pad)]) : b;
}

function option(code: number, value: string | Buffer): Buffer {
  const v = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  if (v.length > 0xffff) throw new Error(`pcapng option ${code} too long (${v.length} bytes)`);
  return Buffer.concat([u16(code), u16(v.length), pad4(v)]);
}

function block(type: number, body: Buffer, options: Buffer[]): Buffer {
  const opts = options.length ? Buffer.concat([...options, u16(OPT_END), u16(0)]) : Buffer.alloc(0);
  const total = 12 + body.length + opts.length;
  return Buffer.concat([u32(type), u32(total), body, opts, u32(total)]);
}
