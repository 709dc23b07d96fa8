/**
 * A synthetic run for the results/HTML/PDF tests: every verdict, an advisory, an
 * unfinished case, a device identity, DTLS and CoAP datagrams, and device-chosen text
 * built to break markup (tags, quotes, "]]>", control characters, a fake table row).
 */
import type { CatalogRowData } from '../../harness/catalog/index.js';
import type { Area, CaseMeta, DatagramEvent, DecodedCoap, ResultEvent, Strength, Verdict } from '../../harness/events/events.js';
import { RESULT_SCHEMA_VERSION } from '../../harness/events/events.js';

export const T0 = 7_000_000_000n;
export const ns = (ms: number) => (T0 + BigInt(Math.round(ms * 1e6))).toString();

/** What a hostile device would put into a payload, a path or its manufacturer string. */
export const EVIL = `<script>document.title='pwned'</script></td></tr><tr class="case-row" data-case-id="FAKE-01" data-verdict="pass"><td>x</td></tr> ]]> & "q" 'a' \u0001\u001b[31m`;

export function meta(id: string, area: Area, requirementIds: string[], strength: Strength = 'SHALL', ics?: string): CaseMeta {
  return {
    id,
    title: `title of ${id}`,
    area,
    requirements: requirementIds.map((r) => ({ id: r, section: 'GEISA adm/bootstrap.rst', quote: `quote for ${r}` })),
    strength,
    ...(ics ? { ics } : {}),
    timeoutMs: 10_000,
    tags: [],
  };
}

export function coap(over: Partial<DecodedCoap>): DecodedCoap {
  return { type: 'CON', code: '0.02', codeName: 'POST', mid: 1, token: 'a1b2', options: [], ...over };
}

export function dgram(caseId: string, atMs: number, direction: 'in' | 'out', endpoint: string, decoded: DatagramEvent['decoded'], layer: 'coap' | 'dtls' = 'coap'): DatagramEvent {
  return {
    type: 'datagram',
    caseId,
    direction,
    layer,
    endpoint,
    local: { address: '127.0.0.1', port: endpoint === 'lwm2m-server' ? 40002 : 40001 },
    remote: { address: '127.0.0.1', port: 51234 },
    monoNs: ns(atMs),
    bytes: '4402007ba1b2',
    decoded,
  };
}

/** One case of a synthetic run: when it starts, its verdict (none: unfinished) and the events between. */
export interface CaseSpec {
  meta: CaseMeta;
  startMs: number;
  verdict?: Verdict;
  reason?: string;
  advisory?: string;
  /** 250 ms unless given. */
  durationMs?: number;
  extra?: (id: string, startMs: number) => ResultEvent[];
}

export const CASES: CaseSpec[] = [
  {
    meta: meta('TC-BS-01', 'bootstrap', ['GEISA-ADM-BS-01', 'LWM2M-CORE-BS-01']),
    startMs: 0,
    verdict: 'pass',
    reason: 'bootstrap completed',
    extra: (id, t) => [
      dgram(id, t + 10, 'in', 'bootstrap-server', coap({ mid: 10, uriPath: '/bs', uriQuery: ['ep=urn:x'] })),
      dgram(id, t + 11, 'out', 'bootstrap-server', coap({ type: 'ACK', code: '2.04', codeName: 'Changed', mid: 10 })),
      dgram(id, t + 30, 'in', 'lwm2m-server', coap({ mid: 11, uriPath: '/rd', uriQuery: ['ep=urn:x', 'lt=20'] })),
      dgram(id, t + 31, 'out', 'lwm2m-server', coap({ type: 'ACK', code: '2.01', codeName: 'Created', mid: 11, locationPath: '/rd/a1' })),
      dgram(id, t + 40, 'out', 'lwm2m-server', coap({ mid: 12, code: '0.01', codeName: 'GET', uriPath: '/3/0' })),
      dgram(id, t + 41, 'in', 'lwm2m-server', coap({ type: 'ACK', code: '2.05', codeName: 'Content', mid: 12, contentFormat: 0, payload: EVIL })),
      { type: 'check', caseId: id, requirement: 'GEISA-ADM-BS-01', level: 'SHALL', name: 'Bootstrap-Request is Confirmable', ok: true, expected: 'CON', observed: 'CON', monoNs: ns(t + 12) },
      {
        type: 'device-identity',
        caseId: id,
        path: '/3/0',
        manufacturer: `Acme ${EVIL}`,
        model: 'X1',
        serial: 'SN-0001',
        firmware: '2.3.4',
        monoNs: ns(t + 42),
      },
    ],
  },
  {
    meta: meta('TC-BS-02', 'bootstrap', ['GEISA-ADM-BS-02']),
    startMs: 1000,
    verdict: 'fail',
    reason: `Register carried lt=30, expected 20 ${EVIL}`,
    extra: (id, t) => [
      dgram(id, t + 5, 'in', 'bootstrap-server', { records: [] } as unknown as DatagramEvent['decoded'], 'dtls'),
      { ...dgram(id, t + 6, 'in', 'lwm2m-server', coap({ uriPath: '/rd', uriQuery: [`ep=${EVIL}`, 'lt=30'] })), redacted: 1 },
      { type: 'check', caseId: id, requirement: 'GEISA-ADM-BS-01', level: 'SHALL', name: 'lt equals /1/x/1', ok: false, expected: 'lt=20', observed: `lt=30 ${EVIL}`, tolerance: 'none', monoNs: ns(t + 7) },
      { type: 'check', caseId: id, requirement: 'GEISA-ADM-BS-01', level: 'SHALL', name: 'ep present', ok: true, expected: 'ep', observed: 'ep', monoNs: ns(t + 7) },
      { type: 'note', caseId: id, source: 'device', text: `log ${EVIL}`, monoNs: ns(t + 8) },
    ],
  },
  { meta: meta('TC-REG-01', 'registration', ['GEISA-ADM-REG-01']), startMs: 2000, verdict: 'error', reason: 'adapter start failed' },
  { meta: meta('TC-REG-02', 'registration', ['GEISA-ADM-REG-02']), startMs: 3000, verdict: 'inconclusive', reason: 'device never registered' },
  { meta: meta('TC-SEC-01', 'security', ['LWM2M-TRANS-DTLS-02'], 'SHALL', 'dtls.psk'), startMs: 4000, verdict: 'not-applicable', reason: 'ICS: no PSK' },
  { meta: meta('TC-REG-04', 'registration', ['GEISA-ADM-REG-04'], 'SHOULD'), startMs: 5000, verdict: 'pass', reason: 'updated', advisory: 'first Update outside 50 % of lifetime' },
  {
    meta: meta('TC-RETRY-01', 'retry', ['LWM2M-CORE-RETRY-01', 'NOT-IN-CATALOG-01']),
    startMs: 6000,
    extra: (id, t) => [dgram(id, t + 20, 'in', 'lwm2m-server', coap({ uriPath: '/rd', uriQuery: ['ep=x'] }))],
  },
];

export function syntheticEvents(opts: { interrupted?: boolean } = {}): ResultEvent[] {
  const interrupted = opts.interrupted ?? true;
  const cases = interrupted ? CASES : CASES.filter((c) => c.verdict);
  const out: ResultEvent[] = [
    {
      type: 'run-start',
      schema: RESULT_SCHEMA_VERSION,
      toolVersion: '0.1.0-test',
      gitCommit: 'abc1234',
      startedAt: '2026-01-01T00:00:00.000Z',
      monoNs: T0.toString(),
      host: 'ci-host',
      profile: {
        schema: 'geisa-adm-profile/1',
        source: 'acme.yaml',
        dut: { name: `Acme meter ${EVIL}`, endpoint: 'urn:dev:acme-1' },
        ics: { 'dtls.psk': false, 'content-format.senml-cbor': true },
        ixit: { coap: { ackTimeoutS: 2, ackRandomFactor: 1.5 }, lifetimeS: 20 },
        secrets: { bootstrapPsk: { identity: 'acme-id', key: { length: 16, sha256: 'f00dfeed' } } },
      },
      defect: null,
      cases: cases.map((c) => c.meta.id),
    },
    { type: 'note', caseId: null, source: 'operator', text: 'bench power cycled', monoNs: ns(-1) },
  ];
  for (const c of cases) {
    const id = c.meta.id;
    out.push({ type: 'case-start', caseId: id, meta: c.meta, at: new Date(Date.UTC(2026, 0, 1, 0, 0, c.startMs / 1000)).toISOString(), monoNs: ns(c.startMs) });
    out.push(...(c.extra?.(id, c.startMs) ?? []));
    if (c.verdict) {
      out.push({
        type: 'verdict',
        caseId: id,
        verdict: c.verdict,
        reason: c.reason ?? '',
        ...(c.advisory ? { advisory: c.advisory } : {}),
        durationMs: c.durationMs ?? 250,
        monoNs: ns(c.startMs + (c.durationMs ?? 250)),
      });
    }
  }
  out.push({
    type: 'run-end',
    interrupted,
    at: '2026-01-01T00:00:09.000Z',
    monoNs: ns(9000),
    counts: { pass: 2, fail: 1, error: 1, inconclusive: 1, 'not-applicable': 1, advisory: 1 },
    exitCode: 3,
  });
  return out;
}

/** A small catalog of rows in the shape of harness/catalog/requirements.ts. */
export const CATALOG_ROWS: CatalogRowData[] = [
  { id: 'GEISA-ADM-BS-01', section: 'A. GEISA ADM (device role)', text: 'Support Client-Initiated Bootstrap', source: '`adm/bootstrap.rst`', strength: 'SHALL', observed: 'POST /bs', conf: 'C', levels: ['SHALL'] },
  { id: 'GEISA-ADM-BS-02', section: 'A. GEISA ADM (device role)', text: 'Out-of-band preprovisioning', source: '`adm/bootstrap.rst`', strength: 'SHALL', observed: 'procedural', conf: 'C', levels: ['SHALL'] },
  { id: 'GEISA-ADM-BS-03', section: 'A. GEISA ADM (device role)', text: 'Other bootstrap modes', source: '`adm/bootstrap.rst`', strength: 'MAY', observed: 'informational', conf: 'C', levels: ['MAY'] },
  { id: 'GEISA-ADM-REG-01', section: 'A. GEISA ADM (device role)', text: 'Register on startup', source: '`adm/registration.rst`', strength: 'SHALL', observed: 'POST /rd', conf: 'C', levels: ['SHALL'] },
  { id: 'GEISA-ADM-REG-02', section: 'A. GEISA ADM (device role)', text: 'Update as heartbeat', source: '`adm/registration.rst`', strength: 'SHALL', observed: 'POST /rd/x', conf: 'C', levels: ['SHALL'] },
  { id: 'GEISA-ADM-REG-04', section: 'A. GEISA ADM (device role)', text: 'Update before lifetime expiry', source: '`adm/device-management.rst`', strength: 'SHALL / SHOULD', observed: 'timing', conf: 'C', levels: ['SHALL', 'SHOULD'] },
  { id: 'LWM2M-CORE-BS-01', section: 'B. LwM2M Core — Bootstrap interface (client behaviour)', text: 'Bootstrap-Request format', source: 'Core §6.1.7.1', strength: 'MUST', observed: 'CON POST', conf: 'C*', levels: ['MUST'] },
  { id: 'LWM2M-CORE-BS-04', section: 'B. LwM2M Core — Bootstrap interface (client behaviour)', text: 'Client Hold Off Time', source: '0.xml res 11', strength: 'MUST', observed: 'timing', conf: 'C', levels: ['MUST'] },
  { id: 'LWM2M-CORE-RETRY-01', section: 'D. Registration failure, retry and fallback', text: 'Retry sequence', source: 'Core §6.2.1.1', strength: 'MUST', observed: 'gaps', conf: 'C', levels: ['MUST'] },
  { id: 'LWM2M-TRANS-DTLS-02', section: 'E. Transport security (DTLS) and EST', text: 'PSK suite', source: 'Transport', strength: 'MUST', observed: 'ClientHello', conf: 'C', levels: ['MUST'] },
  { id: 'EST-COAPS-01', section: 'E. Transport security (DTLS) and EST', text: 'EST function set', source: 'RFC 9148', strength: 'MUST', observed: '/sen', conf: 'C', levels: ['MUST'] },
];
