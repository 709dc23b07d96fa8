/**
 * A unicast DNS-SD responder (RFC 6763 over plain DNS, RFC 1035) for the EST server's
 * service `_est-coaps._udp.<domain>`, the name the GEISA enrollment figure has the device
 * look up: PTR from the service type to one instance, SRV and TXT on the instance, A/AAAA
 * on the target host. An SRV query on the service type itself (RFC 2782 style, as some
 * clients skip the PTR step) is answered with the same SRV. It is authoritative for those
 * names only: any other name is NXDOMAIN, another type on a known name an empty NOERROR.
 *
 * It listens on UDP, on 127.0.0.1 with an OS-chosen port for tests, or where a lab's
 * profile says. Every query is recorded (an Inbox) so a case can say whether and how the
 * device discovered the registration authority.
 */
import dgram from 'node:dgram';
import { isIPv4, isIPv6 } from 'node:net';
import type { Address } from '../coap/transport.js';
import { Inbox } from '../coap/inbox.js';
import { DNS_CLASS_IN, DNS_TYPE, DnsFormatError, RCODE, TYPE_NAMES, decodeHeader, decodeQuery, encodeResponse, type DnsQuestion, type DnsRecord } from './dns-message.js';

export const EST_COAPS_SERVICE = '_est-coaps._udp';

export interface DnsSdOptions {
  /** Listen address (default 127.0.0.1) and port (default 0: the OS chooses). */
  address?: string;
  port?: number;
  /** The domain the device searches: the service is `_est-coaps._udp.<domain>`. */
  domain: string;
  /** Service instance label (default 'geisa-adm-est'). */
  instance?: string;
  /** Host name the SRV record points at (default `est.<domain>`). */
  targetHost?: string;
  /** Addresses of targetHost: IPv4 become A records, IPv6 AAAA. */
  targetAddresses: string[];
  /** The EST server's port. */
  estPort: number;
  /** TXT strings of the instance (default none: one empty string, RFC 6763 §6.1). */
  txt?: string[];
  ttl?: number;
}

export interface DnsSdQuery {
  remote: Address;
  monoNs: bigint;
  id: number;
  /** Empty when the message could not be read. */
  questions: { name: string; type: string }[];
  rcode: number;
  answers: number;
  /** Why it was answered FORMERR/NOTIMP or dropped. */
  problem?: string;
}

function lower(n: string): string {
  return n.replace(/\.$/, '').toLowerCase();
}

export class DnsSdResponder {
  readonly queries = new Inbox<DnsSdQuery>();
  private readonly records: DnsRecord[];
  readonly serviceName: string;
  readonly instanceName: string;
  readonly targetHost: string;

  private constructor(
    private readonly socket: dgram.Socket,
    opts: DnsSdOptions,
  ) {
    const domain = opts.domain.replace(/\.$/, '');
    this.serviceName = `${EST_COAPS_SERVICE}.${domain}`;
    this.instanceName = `${opts.instance ?? 'geisa-adm-est'}.${this.serviceName}`;
    this.targetHost = (opts.targetHost ?? `est.${domain}`).replace(/\.$/, '');
    const ttl = opts.ttl ?? 120;
    const srv = { type: 'SRV' as const, priority: 0, weight: 0, port: opts.estPort, target: this.targetHost };
    this.records = [
      { name: this.serviceName, ttl, data: { type: 'PTR', target: this.instanceName } },
      { name: this.instanceName, ttl, data: srv },
      { name: this.serviceName, ttl, data: srv },
      { name: this.instanceName, ttl, data: { type: 'TXT', strings: opts.txt ?? [] } },
      ...opts.targetAddresses.map((a): DnsRecord => ({ name: this.targetHost, ttl, data: isIPv4(a) ? { type: 'A', address: a } : { type: 'AAAA', address: a } })),
    ];
    socket.on('message', (bytes, rinfo) => this.onQuery(bytes, { address: rinfo.address, port: rinfo.port }, process.hrtime.bigint()));
    // An ICMP error surfaced by the OS must not end the run.
    socket.on('error', () => undefined);
  }

  static async start(opts: DnsSdOptions): Promise<DnsSdResponder> {
    for (const a of opts.targetAddresses) {
      if (!isIPv4(a) && !isIPv6(a)) throw new Error(`DNS-SD responder: target address ${JSON.stringify(a)} is neither IPv4 nor IPv6`);
    }
    if (!Number.isInteger(opts.estPort) || opts.estPort <= 0 || opts.estPort > 65535) throw new Error(`DNS-SD responder: EST port ${opts.estPort} is not a UDP port`);
    const address = opts.address ?? '127.0.0.1';
    const socket = dgram.createSocket(isIPv6(address) ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (e) => reject(new Error(`DNS-SD responder: cannot listen on ${address}:${opts.port ?? 0}: ${e.message}`)));
      socket.bind(opts.port ?? 0, address, () => resolve());
    });
    socket.removeAllListeners('error');
    return new DnsSdResponder(socket, opts);
  }

  get local(): Address {
    const a = this.socket.address();
    return { address: a.address, port: a.port };
  }

  /** For Node's resolver and for a device: `host:port` (IPv6 bracketed). */
  get server(): string {
    const l = this.local;
    return isIPv6(l.address) ? `[${l.address}]:${l.port}` : `${l.address}:${l.port}`;
  }

  /** Waits for the next query about `name` (any name when omitted). */
  expectQuery(withinMs: number, name?: string, signal?: AbortSignal): Promise<DnsSdQuery | undefined> {
    return this.queries.next((q) => name === undefined || q.questions.some((x) => lower(x.name) === lower(name)), withinMs, signal);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private answer(q: DnsQuestion): DnsRecord[] {
    const name = lower(q.name);
    return this.records.filter((r) => lower(r.name) === name && (q.type === DNS_TYPE.ANY || TYPE_NAMES[q.type] === r.data.type));
  }

  private knows(name: string): boolean {
    return this.records.some((r) => lower(r.name) === lower(name));
  }

  /** RFC 6763 §12: with a PTR, the SRV, TXT and addresses the client will ask for next. */
  private additionalFor(answers: DnsRecord[]): DnsRecord[] {
    const extra: DnsRecord[] = [];
    for (const a of answers) {
      if (a.data.type === 'PTR') extra.push(...this.records.filter((r) => lower(r.name) === lower((a.data as { target: string }).target)));
      if (a.data.type === 'SRV' || a.data.type === 'PTR') extra.push(...this.records.filter((r) => lower(r.name) === lower(this.targetHost)));
    }
    return [...new Set(extra)].filter((r) => !answers.includes(r));
  }

  private onQuery(bytes: Buffer, remote: Address, monoNs: bigint): void {
    let header;
    try {
      header = decodeHeader(bytes);
    } catch (e) {
      this.queries.push({ remote, monoNs, id: -1, questions: [], rcode: -1, answers: 0, problem: `dropped: ${(e as Error).message}` });
      return;
    }
    if (header.qr) {
      this.queries.push({ remote, monoNs, id: header.id, questions: [], rcode: -1, answers: 0, problem: 'dropped: a response (QR=1), not a query' });
      return;
    }
    const reply = (rcode: number, questions: DnsQuestion[], answers: DnsRecord[], problem?: string, additionals: DnsRecord[] = []) => {
      this.socket.send(encodeResponse({ id: header.id, opcode: header.opcode, rd: header.rd, aa: true, rcode, questions, answers, additionals }), remote.port, remote.address);
      this.queries.push({ remote, monoNs, id: header.id, questions: questions.map((x) => ({ name: x.name, type: TYPE_NAMES[x.type] ?? String(x.type) })), rcode, answers: answers.length, ...(problem ? { problem } : {}) });
    };
    if (header.opcode !== 0) return reply(RCODE.NOTIMP, [], [], `opcode ${header.opcode} is not a standard query`);
    let query;
    try {
      query = decodeQuery(bytes);
    } catch (e) {
      return reply(RCODE.FORMERR, [], [], e instanceof DnsFormatError ? e.message : String(e));
    }
    if (query.questions.length !== 1) return reply(RCODE.FORMERR, query.questions, [], `${query.questions.length} questions; a query has exactly one`);
    const q = query.questions[0]!;
    if (q.class !== DNS_CLASS_IN && q.class !== 255) return reply(RCODE.REFUSED, [q], [], `class ${q.class} is not IN`);
    if (!this.knows(q.name)) return reply(RCODE.NXDOMAIN, [q], []);
    const answers = this.answer(q);
    reply(RCODE.NOERROR, [q], answers, undefined, this.additionalFor(answers));
  }
}
