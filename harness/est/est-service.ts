/**
 * The EST-coaps resources (RFC 9148) on one CoAP endpoint: `crts` (GET, the CA
 * certificates), `sen` (POST a PKCS#10, the issued certificate back), `sren`
 * (re-enrollment with the certificate we issued), under the default root
 * `/.well-known/est` and under the short root discovery hands out
 * (`GET /.well-known/core?rt=ace.est*`, RFC 9148 §4.1). It is mounted on a CoAP
 * endpoint's request handler, either the separate EST server's (est-server.ts) or, later,
 * the Bootstrap-Server's, and it is told how each peer authenticated its DTLS session.
 *
 * Every complete request is recorded as an EstExchange (an Inbox), with how the peer
 * authenticated, the CSR findings, what was answered and why: the evidence the EST cases
 * judge. Refusals follow RFC 9148 §4.5: 4.00 bad request (a CSR that is unreadable or
 * whose self-signature fails), 4.01 no client certificate, 4.03 a certificate we do not
 * trust, 4.15 a Content-Format other than 286, 4.06 an Accept we cannot serve, and 5.03
 * with Max-Age when a case arms "try later" (RFC 9148 §4.7).
 */
import type { InboundRequest } from '../coap/endpoint.js';
import { OPTION, encodeUint, optionValues, uintOption, uriQuery, type CoapMessage, type CoapOption } from '../coap/message.js';
import { Inbox } from '../coap/inbox.js';
import { inspectCsr, sameIdentityAs } from '../pki/csr.js';
import { certsOnlyPkcs7, type EstCa } from '../pki/est-ca.js';
import { Block1Assembler, block2Slice, blockOption, szxOf } from './blockwise.js';
import { describeAuthentication, peerKey, type PeerAuthentication } from './peer-auth.js';
import { EST_CF, SERVE, type EstAnswerPolicy, type EstExchange, type EstOperation, type EstServiceOptions } from './est-exchange.js';

export { EST_CF, EST_CF_NAMES, SERVE, type EstAnswerPolicy, type EstExchange, type EstOperation, type EstServiceOptions } from './est-exchange.js';

const WELL_KNOWN_ROOT = '/.well-known/est';
const OPERATIONS = new Set(['crts', 'sen', 'sren']);
/** RFC 9148 §4.2: optional functions this server does not offer. */
const NOT_OFFERED = new Set(['skg', 'skc', 'att']);
const RESOURCE_TYPES: Record<string, string> = { crts: 'ace.est.crts', sen: 'ace.est.sen', sren: 'ace.est.sren' };

interface CachedRepresentation {
  code: string;
  contentFormat: number;
  payload: Buffer;
  szx: number;
  exchange: EstExchange;
}

export class EstService {
  readonly exchanges = new Inbox<EstExchange>();
  readonly policies: Record<'crts' | 'sen' | 'sren', EstAnswerPolicy> = { crts: SERVE, sen: SERVE, sren: SERVE };
  readonly shortRoot: string;
  private readonly szx: number;
  private readonly block1: Block1Assembler;
  private readonly block1Started = new Map<string, bigint>();
  private readonly representations = new Map<string, CachedRepresentation>();

  constructor(private readonly opts: EstServiceOptions) {
    this.shortRoot = '/' + (opts.shortRoot ?? '/est').split('/').filter(Boolean).join('/');
    if (this.shortRoot === WELL_KNOWN_ROOT || this.shortRoot === '/') throw new Error(`EST service: shortRoot ${JSON.stringify(opts.shortRoot)} must be a path other than ${WELL_KNOWN_ROOT}`);
    this.szx = szxOf(opts.blockSize ?? 1024);
    this.block1 = new Block1Assembler(this.szx, opts.maxRequestBytes ?? 16 * 1024);
  }

  get ca(): EstCa {
    return this.opts.ca;
  }

  /** Waits for the next exchange of `operation`; undefined when none came within the window. */
  expect(operation: EstOperation | EstOperation[], withinMs: number, signal?: AbortSignal): Promise<EstExchange | undefined> {
    const ops = Array.isArray(operation) ? operation : [operation];
    return this.exchanges.next((e) => ops.includes(e.operation), withinMs, signal);
  }

  /** The link-format body discovery answers with (RFC 9148 §4.1: the crts, sen, sren lines). */
  discoveryLinks(ops: string[] = ['crts', 'sen', 'sren']): string {
    return ops.map((op) => `<${this.shortRoot}/${op}>;rt="${RESOURCE_TYPES[op]}";ct="281 287"`).join(',');
  }

  /** Whether a request is for this service (so a shared endpoint can route it here). */
  handles(msg: CoapMessage): boolean {
    const segs = pathSegments(msg);
    const p = '/' + segs.join('/');
    return p === '/.well-known/core' || p.startsWith(WELL_KNOWN_ROOT + '/') || p === WELL_KNOWN_ROOT || p.startsWith(this.shortRoot + '/') || p === this.shortRoot;
  }

  /** Serves one request; returns false (and answers nothing) when it is not for EST. */
  handle(r: InboundRequest): boolean {
    if (!this.handles(r.msg)) return false;
    const segs = pathSegments(r.msg);
    const path = '/' + segs.join('/');
    if (path === '/.well-known/core') {
      this.discovery(r, path);
      return true;
    }
    const route = this.route(path);
    const key = `${peerKey(r.remote)}|${path}`;
    const block2 = blockOption(r.msg, OPTION.BLOCK2);
    const block1 = blockOption(r.msg, OPTION.BLOCK1);
    if (block1 === 'reserved-szx' || block2 === 'reserved-szx') {
      this.record(r, path, route, r.msg.payload, r.monoNs, undefined, '4.00', 'SZX 7 in a Block option is reserved over UDP (RFC 7959 §2.2)');
      return true;
    }
    // A follow-up for a later block of a response already given (RFC 7959 §2.4): not a new request.
    if (block2 && block2.num > 0 && !block1) {
      this.serveLaterBlock(r, key, path, route, block2.num, block2.szx);
      return true;
    }
    let payload = r.msg.payload;
    let firstMonoNs = r.monoNs;
    let block1Info: EstExchange['block1'];
    const extra: CoapOption[] = [];
    if (block1) {
      if (block1.num === 0) this.block1Started.set(key, r.monoNs);
      const step = this.block1.step(key, block1, r.msg.payload);
      if (step.kind === 'error') {
        this.block1Started.delete(key);
        this.record(r, path, route, r.msg.payload, r.monoNs, undefined, step.code, step.reason, step.options);
        return true;
      }
      if (step.kind === 'continue') {
        r.respond('2.31', { options: [step.option] });
        return true;
      }
      payload = step.payload;
      firstMonoNs = this.block1Started.get(key) ?? r.monoNs;
      this.block1Started.delete(key);
      block1Info = { blocks: step.progress.blocks, firstBlockSize: step.progress.firstSize };
      extra.push(step.option);
    }
    this.representations.delete(key);
    const requestedSzx = block2 && block2.num === 0 ? block2.szx : undefined;
    const exchange = this.newExchange(r, path, route, payload, firstMonoNs, block1Info);
    void this.serve(r, exchange, payload, key, extra, requestedSzx).catch((e: unknown) => {
      this.answer(r, exchange, key, '5.00', { refusal: `the EST server failed: ${(e as Error).message}`, extra });
    });
    return true;
  }

  // ---- operations ---------------------------------------------------------------------

  private async serve(r: InboundRequest, ex: EstExchange, payload: Buffer, key: string, extra: CoapOption[], requestedSzx: number | undefined): Promise<void> {
    const op = ex.operation;
    if (op === 'other' || op === 'discovery') {
      const last = ex.path.split('/').pop() ?? '';
      const why = NOT_OFFERED.has(last) ? `${last} is an optional EST-coaps function this server does not offer (RFC 9148 §4.2)` : `no EST resource at ${ex.path}`;
      return this.answer(r, ex, key, '4.04', { refusal: why, extra });
    }
    const method = r.msg.code;
    const wanted = op === 'crts' ? '0.01' : '0.02';
    if (method !== wanted) return this.answer(r, ex, key, '4.05', { refusal: `${op} takes ${wanted === '0.01' ? 'GET' : 'POST'}, not ${method}`, extra });
    const denied = this.authorize(op, ex.auth);
    if (denied) return this.answer(r, ex, key, denied.code, { refusal: denied.reason, extra });
    const accept = ex.accept;
    if (accept !== undefined && accept !== EST_CF.PKCS7_CERTS && accept !== EST_CF.PKIX_CERT) {
      return this.answer(r, ex, key, '4.06', { refusal: `Accept ${accept} is neither 281 (PKCS#7 certs-only) nor 287 (pkix-cert)`, extra });
    }
    const cf = accept ?? EST_CF.PKCS7_CERTS; // RFC 9148 §4.3: no Accept, 281 (SHOULD)
    if (op === 'crts') {
      const policy = this.takePolicy('crts', r, ex, key, extra);
      if (!policy) return;
      const body = cf === EST_CF.PKIX_CERT ? this.ca.certDer : this.ca.caCertsPkcs7();
      return this.withPolicyDelay(policy, r, () => this.answer(r, ex, key, '2.05', { contentFormat: cf, payload: body, extra, requestedSzx }));
    }
    // sen / sren
    if (ex.contentFormat !== EST_CF.PKCS10) {
      return this.answer(r, ex, key, '4.15', { refusal: `${op} needs Content-Format 286 (application/pkcs10), got ${ex.contentFormat ?? 'none'}`, extra });
    }
    ex.csr = await inspectCsr(payload);
    if (!ex.csr.parsed) return this.answer(r, ex, key, '4.00', { refusal: `malformed CSR: ${ex.csr.error}`, extra });
    if (!ex.csr.signatureValid) return this.answer(r, ex, key, '4.00', { refusal: `the CSR's self-signature does not verify${ex.csr.signatureError ? ` (${ex.csr.signatureError})` : ''}: no proof the client holds the key`, extra });
    if (op === 'sren' && ex.auth.kind === 'certificate') {
      // RFC 7030 §4.2.2: subject and SAN must be those of the certificate being renewed.
      const same = sameIdentityAs(ex.csr, ex.auth.chainDer[0]!);
      if (!same.same) return this.answer(r, ex, key, '4.00', { refusal: `re-enrollment must keep the identity of the certificate it renews (RFC 7030 §4.2.2): ${same.detail}`, extra });
    }
    const policy = this.takePolicy(op, r, ex, key, extra);
    if (!policy) return;
    const issued = await this.ca.issue(payload);
    ex.issued = issued;
    const body = cf === EST_CF.PKIX_CERT ? issued.der : certsOnlyPkcs7([issued.der]);
    return this.withPolicyDelay(policy, r, () => this.answer(r, ex, key, '2.04', { contentFormat: cf, payload: body, extra, requestedSzx }));
  }

  /** RFC 9148 §3: every function needs a client certificate; sren needs the one we issued. */
  private authorize(op: 'crts' | 'sen' | 'sren', auth: PeerAuthentication): { code: string; reason: string } | undefined {
    if (auth.kind !== 'certificate') {
      return { code: '4.01', reason: `EST-coaps requires a client certificate in the DTLS handshake (RFC 9148 §3); the peer used ${describeAuthentication(auth)}` };
    }
    if (auth.anchor === null || auth.verifyResult !== 0) {
      return { code: '4.03', reason: `the client certificate is not trusted: ${describeAuthentication(auth)}` };
    }
    if (op === 'sren') {
      if (!this.ca.issuedCertificate(auth.chainDer[0]!)) {
        return { code: '4.03', reason: `re-enrollment needs the certificate this EST server issued; the peer presented ${auth.leaf.subject} (${auth.leaf.fingerprint}) chaining to ${auth.anchor}` };
      }
    }
    return undefined;
  }

  /** Applies the armed policy before the success answer; undefined when the policy already answered. */
  private takePolicy(op: 'crts' | 'sen' | 'sren', r: InboundRequest, ex: EstExchange, key: string, extra: CoapOption[]): EstAnswerPolicy | undefined {
    const policy = this.policies[op];
    switch (policy.kind) {
      case 'serve':
      case 'delay':
        return policy;
      case 'silent':
        ex.refusal = 'the case made the EST server silent';
        this.exchanges.push(ex);
        return undefined;
      case 'reject':
        this.answer(r, ex, key, policy.code, { refusal: policy.reason ?? `the case armed ${policy.code} for ${op}`, extra });
        return undefined;
      case 'retry-later': {
        if (policy.times <= 0) return SERVE;
        this.policies[op] = policy.times - 1 > 0 ? { ...policy, times: policy.times - 1 } : SERVE;
        ex.maxAgeSeconds = policy.maxAgeSeconds;
        this.answer(r, ex, key, '5.03', {
          refusal: `try again in ${policy.maxAgeSeconds} s (the case armed 5.03, RFC 9148 §4.7)`,
          extra: [...extra, { number: OPTION.MAX_AGE, value: encodeUint(policy.maxAgeSeconds) }],
        });
        return undefined;
      }
    }
  }

  private withPolicyDelay(policy: EstAnswerPolicy, r: InboundRequest, send: () => void): void {
    if (policy.kind !== 'delay') return send();
    r.acknowledge();
    setTimeout(send, policy.delayMs).unref();
  }

  // ---- discovery, blocks, answers -----------------------------------------------------

  private discovery(r: InboundRequest, path: string): void {
    const ex = this.newExchange(r, path, { operation: 'discovery' }, r.msg.payload, r.monoNs, undefined);
    if (r.msg.code !== '0.01') return this.answer(r, ex, path, '4.05', { refusal: 'discovery takes GET' });
    const filters = uriQuery(r.msg).map(parseFilter);
    const links = ['crts', 'sen', 'sren'].filter((op) => filters.every((f) => f.matches(op, this.shortRoot)));
    const body = this.discoveryLinks(links);
    this.answer(r, ex, `${peerKey(r.remote)}|${path}`, '2.05', { contentFormat: EST_CF.LINK_FORMAT, payload: Buffer.from(body), requestedSzx: blockNum0Szx(r.msg) });
  }

  private serveLaterBlock(r: InboundRequest, key: string, path: string, route: Route, num: number, szx: number): void {
    let rep = this.representations.get(key);
    if (!rep && route.operation === 'crts' && r.msg.code === '0.01') {
      // A GET for a later block needs no state: the CA certificates are the same each time.
      const accept = uintOption(r.msg, OPTION.ACCEPT);
      const cf = accept === EST_CF.PKIX_CERT ? EST_CF.PKIX_CERT : EST_CF.PKCS7_CERTS;
      const payload = cf === EST_CF.PKIX_CERT ? this.ca.certDer : this.ca.caCertsPkcs7();
      const ex = this.newExchange(r, path, route, r.msg.payload, r.monoNs, undefined);
      rep = { code: '2.05', contentFormat: cf, payload, szx, exchange: ex };
      this.exchanges.push(ex);
    }
    if (!rep) {
      r.respond('4.08', { payload: Buffer.from(`no response in progress for ${path} to continue from block ${num}`) });
      return;
    }
    // The client may only shrink the size after block 0 (RFC 7959 §2.4); num is in its units.
    const useSzx = Math.min(szx, rep.szx);
    const byteOffset = num * 2 ** (szx + 4);
    const slice = block2Slice(rep.payload, byteOffset / 2 ** (useSzx + 4), useSzx);
    if (!slice) {
      r.respond('4.02', { payload: Buffer.from(`block ${num} is past the end of the ${rep.payload.length}-byte representation`) });
      return;
    }
    r.respond(rep.code, { contentFormat: rep.contentFormat, options: [slice.option], payload: slice.bytes });
    const b2 = rep.exchange.block2;
    if (b2) b2.blocksServed += 1;
    if (!slice.more) this.representations.delete(key);
  }

  private answer(r: InboundRequest, ex: EstExchange, key: string, code: string, o: { contentFormat?: number; payload?: Buffer; extra?: CoapOption[]; refusal?: string; requestedSzx?: number | undefined }): void {
    if (!key.includes('|')) key = `${peerKey(r.remote)}|${key}`;
    const options = [...(o.extra ?? [])];
    let payload = o.payload ?? Buffer.alloc(0);
    if (o.refusal) ex.refusal = o.refusal;
    // A refusal carries its reason as a diagnostic payload (RFC 7252 §5.5.2) so a device log shows it.
    if (o.payload === undefined && o.refusal && code !== '5.03') payload = Buffer.from(o.refusal.slice(0, 200));
    const szx = Math.min(this.szx, o.requestedSzx ?? 6);
    const size = 2 ** (szx + 4);
    if (o.payload && (o.payload.length > size || o.requestedSzx !== undefined)) {
      const first = block2Slice(o.payload, 0, szx)!;
      const blocks = Math.max(1, Math.ceil(o.payload.length / size));
      ex.block2 = { blockSize: size, blocks, blocksServed: 1 };
      options.push(first.option, { number: OPTION.SIZE2, value: encodeUint(o.payload.length) });
      if (first.more) this.representations.set(key, { code, contentFormat: o.contentFormat!, payload: o.payload, szx, exchange: ex });
      payload = first.bytes;
    }
    ex.answeredWith = code;
    ex.answeredMonoNs = process.hrtime.bigint();
    if (o.contentFormat !== undefined) ex.responseContentFormat = o.contentFormat;
    if (o.payload) ex.responseBytes = o.payload.length;
    r.respond(code, { ...(o.contentFormat !== undefined ? { contentFormat: o.contentFormat } : {}), options, payload });
    this.exchanges.push(ex);
  }

  private record(r: InboundRequest, path: string, route: Route, payload: Buffer, monoNs: bigint, block1: EstExchange['block1'], code: string, reason: string, options?: CoapOption[]): void {
    const ex = this.newExchange(r, path, route, payload, monoNs, block1);
    this.answer(r, ex, path, code, { refusal: reason, ...(options ? { extra: options } : {}) });
  }

  private route(path: string): Route {
    for (const root of [WELL_KNOWN_ROOT, this.shortRoot]) {
      if (path !== root && !path.startsWith(root + '/')) continue;
      const rest = path.slice(root.length).split('/').filter(Boolean);
      const op = rest[rest.length - 1];
      if (rest.length >= 1 && rest.length <= 2 && op && OPERATIONS.has(op)) {
        return { operation: op as 'crts' | 'sen' | 'sren', root, ...(rest.length === 2 ? { label: rest[0]! } : {}) };
      }
      return { operation: 'other', root };
    }
    return { operation: 'other' };
  }

  private newExchange(r: InboundRequest, path: string, route: Route, payload: Buffer, monoNs: bigint, block1: EstExchange['block1']): EstExchange {
    const cf = uintOption(r.msg, OPTION.CONTENT_FORMAT);
    const accept = uintOption(r.msg, OPTION.ACCEPT);
    return {
      operation: route.operation,
      via: this.opts.via,
      local: this.opts.local(),
      remote: r.remote,
      monoNs,
      completeMonoNs: r.monoNs,
      method: r.msg.code,
      path,
      ...(route.root ? { root: route.root } : {}),
      ...(route.label ? { label: route.label } : {}),
      query: uriQuery(r.msg),
      type: r.msg.type,
      ...(cf !== undefined ? { contentFormat: cf } : {}),
      ...(accept !== undefined ? { accept } : {}),
      auth: this.opts.authOf(r.remote),
      requestBytes: payload.length,
      ...(block1 ? { block1 } : {}),
      answeredWith: null,
    };
  }
}

interface Route {
  operation: EstOperation;
  root?: string;
  label?: string;
}

function pathSegments(msg: CoapMessage): string[] {
  return optionValues(msg, OPTION.URI_PATH).map((v) => v.toString('utf8'));
}

function blockNum0Szx(msg: CoapMessage): number | undefined {
  const b = blockOption(msg, OPTION.BLOCK2);
  return b && b !== 'reserved-szx' && b.num === 0 ? b.szx : undefined;
}

/** RFC 6690 §4.1 query filtering, for the attributes our links carry (rt, ct, href); a trailing * is a prefix match. */
function parseFilter(q: string): { matches: (op: string, root: string) => boolean } {
  const eq = q.indexOf('=');
  const name = eq < 0 ? q : q.slice(0, eq);
  const value = eq < 0 ? '' : q.slice(eq + 1);
  const test = (candidate: string) => (value.endsWith('*') ? candidate.startsWith(value.slice(0, -1)) : candidate === value);
  return {
    matches: (op, root) => {
      if (name === 'rt') return test(RESOURCE_TYPES[op]!);
      if (name === 'ct') return ['281', '287'].some(test);
      if (name === 'href') return test(`${root}/${op}`);
      return false;
    },
  };
}
