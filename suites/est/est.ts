/**
 * What the EST cases share: the EST-coaps resources mounted on the case's Bootstrap-Server
 * (LwM2M Transport 1.2 §5.2.4: certificates provisioned "from the LwM2M Bootstrap-Server"),
 * with an EST CA over the run CA (so the LDevIDs it issues are what the fake LwM2M Server
 * trusts, and the anchor crts hands out is the one that validates that server), the
 * Security Mode 4 account, and the opening every case runs: bootstrap, crts, sen, Register.
 */
import { X509Certificate } from 'node:crypto';
import type { CaseContext, Req } from '../../harness/runner/context.js';
import { EstService, type EstExchange, type EstOperation } from '../../harness/est/est-service.js';
import { authenticationFromHandshake, describeAuthentication, type TrustAnchor } from '../../harness/est/peer-auth.js';
import { EstCa } from '../../harness/pki/est-ca.js';
import { describeCertificate } from '../../harness/pki/certificates.js';
import { estIxit, type EstIxit } from '../../harness/profile/load.js';
import type { ServerAccount } from '../../harness/servers/bootstrap-plan.js';
import type { DtlsTransport } from '../../harness/dtls/dtls-transport.js';
import { EST_COAPS_SERVICE } from '../../harness/est/dns-sd.js';
import type { EstRegistrationAuthority } from '../../harness/runner/context.js';
import type { RegistrationMessage } from '../../harness/servers/lwm2m-server.js';
import { dtlsTrouble, handshakeOf, type Opening, registered, serverAccount } from '../steps.js';

/** /0/x/15 the Bootstrap-Server writes: 2, trust anchor assertion (the EST CA is the anchor /0/x/4 holds). */
export const EST_CERTIFICATE_USAGE = 2;

/** The domain a device that finds its EST server by DNS-SD is told to search (RFC 6761 reserves .test). */
export const EST_DNS_SD_DOMAIN = 'geisa-adm.test';

export interface EstSetup {
  /** The EST resources the device is expected to enroll with (the RA's in dns-sd mode). */
  service: EstService;
  ca: EstCa;
  ixit: EstIxit;
  anchors: TrustAnchor[];
  /** Where that is, for reasons: "the Bootstrap-Server (coaps://…)" or "the RA found by DNS-SD (coaps://…)". */
  where: { text: string; dtls: DtlsTransport | undefined };
  /** dns-sd: the separate registration authority and its DNS-SD responder. */
  ra?: EstRegistrationAuthority;
  /**
   * dns-sd: EST on the Bootstrap-Server too, answering 4.04 as a Bootstrap-Server without
   * EST would, so a device that enrolls there although told to discover is recorded.
   */
  bootstrapService?: EstService;
}

/**
 * Mounts EST where the IXIT says the device finds it: on the Bootstrap-Server, or on a
 * separate registration authority named by the case's DNS-SD responder (`raDiscovery:
 * dns-sd`), whose address and domain provisioning then hands the device.
 */
export async function mountEst(t: CaseContext, opts: { lifetimeS?: number; blockSize?: number } = {}): Promise<EstSetup> {
  const pki = t.pki;
  if (!pki) throw new Error('EST cases run in certificate mode (security: certificate)');
  const ixit = estIxit(t.ixit);
  const ca = EstCa.fromCa(pki.runCa, { lifetimeSeconds: opts.lifetimeS ?? 86_400 });
  const anchors: TrustAnchor[] = [
    { label: 'manufacturer', pem: pki.manufacturerCaPem },
    { label: 'est-ca', pem: ca.certPem },
  ];
  const bs = t.bootstrapServer;
  const onBootstrapServer = new EstService({
    via: 'bootstrap-server',
    ca,
    authOf: (remote) => authenticationFromHandshake(handshakeOf(bs.dtls, remote), anchors),
    local: () => bs.endpoint.local,
    ...(opts.blockSize ? { blockSize: opts.blockSize } : {}),
  });
  bs.mountEst(onBootstrapServer);
  if (ixit.raDiscovery !== 'dns-sd') return { service: onBootstrapServer, ca, ixit, anchors, where: { text: `the Bootstrap-Server (${bs.uri})`, dtls: bs.dtls } };
  const why = `this case's EST server is the registration authority found by DNS-SD (${EST_COAPS_SERVICE}.${EST_DNS_SD_DOMAIN}), as the IXIT declares`;
  for (const op of ['crts', 'sen', 'sren'] as const) onBootstrapServer.policies[op] = { kind: 'reject', code: '4.04', reason: why };
  const ra = await t.openEstRegistrationAuthority({ ca, domain: EST_DNS_SD_DOMAIN, ...(opts.blockSize ? { blockSize: opts.blockSize } : {}) });
  t.note(`EST registration authority ${ra.server.uri}, named by the DNS-SD responder at ${ra.dnsServer} for ${ra.dns.serviceName} (SRV → ${ra.dns.targetHost}:${ra.server.port}); the device is provisioned with that DNS server and domain`);
  return { service: ra.server.service, ca, ixit, anchors, where: { text: `the RA found by DNS-SD (${ra.server.uri})`, dtls: ra.server.dtls }, ra, bootstrapService: onBootstrapServer };
}

/** What the DNS-SD responder was asked, and any EST request that went to the Bootstrap-Server instead ("" in bootstrap-server mode). */
export function discoveryTrace(est: EstSetup): string {
  if (!est.ra) return '';
  const queries = est.ra.dns.queries.all.map((q) => `${q.questions.map((x) => `${x.type} ${x.name}`).join(', ') || '(unreadable)'} → rcode ${q.rcode}, ${q.answers} answer(s)`);
  const astray = est.bootstrapService?.exchanges.all ?? [];
  return `; DNS queries at ${est.ra.dnsServer}: ${queries.length ? queries.join('; ') : 'none'}${astray.length ? `; EST requests sent to the Bootstrap-Server instead: ${astray.map((e) => `${e.path} → ${e.answeredWith ?? 'no answer'}`).join(', ')}` : ''}`;
}

/**
 * The first EST exchange at either place EST is served (dns-sd: the RA or, against the
 * IXIT, the Bootstrap-Server), so a case can say which path the device took.
 */
export async function expectFirstEst(t: CaseContext, est: EstSetup, op: EstOperation | EstOperation[], withinMs: number): Promise<EstExchange | undefined> {
  const services = [est.service, ...(est.bootstrapService ? [est.bootstrapService] : [])];
  const done = new AbortController();
  const signal = AbortSignal.any([t.signal, done.signal]);
  try {
    const all = services.map((s) => s.expect(op, withinMs, signal));
    const first = await Promise.race(all.map((p) => p.then((ex) => ex ?? Promise.all(all).then(() => undefined))));
    return first;
  } finally {
    done.abort();
  }
}

/** The Security Mode 4 account: /0/x/4 the EST CA (which signed the LwM2M Server's certificate), /0/x/15 = 2. */
export function estAccount(t: CaseContext, est: EstSetup, opts: { serverCertDer?: Buffer } = {}): ServerAccount {
  return { ...serverAccount(t), est: { serverCertDer: opts.serverCertDer ?? est.ca.certDer, usage: EST_CERTIFICATE_USAGE } };
}

/**
 * The opening of the EST cases: the Security Mode 4 bootstrap session (`account`, default
 * estAccount; a precondition `bootstrap` names, TC-EST-01 judges it), then the device's
 * first enrollment (sen), a precondition `enrolment` names. A missing sen is judged at
 * `row`; with `issued`, so is a refused one.
 */
export async function modeFourEnrolment(
  t: CaseContext,
  est: EstSetup,
  opts: { row: Req; account?: ServerAccount; bootstrap?: string; enrolment?: string; issued?: boolean },
): Promise<{ opening: Opening & { finishMonoNs: bigint }; sen: EstExchange }> {
  const opening = await registered(t, opts.account ?? estAccount(t, est), { until: 'finish', what: opts.bootstrap ?? 'Security Mode 4 bootstrap (TC-EST-01 judges it)' });
  const sen = await t.precondition(opts.enrolment ?? 'an EST enrollment (sen)', async () => {
    const ex = await expectEst(t, est, 'sen', estWindowMs(t), 'Bootstrap-Finish', opts.row);
    if (opts.issued && !ex.issued) t.fail(opts.row, `the enrollment was refused: ${ex.answeredWith} (${ex.refusal ?? ''})`);
    return ex;
  });
  return { opening, sen };
}

/** The window for the device's first EST request after Bootstrap-Finish, and for its Register after enrollment. */
export function estWindowMs(t: CaseContext): number {
  return t.ixit.startupBoundS * 1000;
}

/** Waits for an EST exchange; a missing one fails `row` with what the EST endpoint's DTLS layer (and DNS-SD) saw. */
export async function expectEst(t: CaseContext, est: EstSetup, op: EstOperation | EstOperation[], withinMs: number, after: string, row: Req): Promise<EstExchange> {
  const ex = await est.service.expect(op, withinMs, t.signal);
  if (!ex) {
    const seen = est.service.exchanges.all.map((e) => `${e.method} ${e.path} → ${e.answeredWith ?? 'no answer'}`);
    t.fail(
      row,
      `no EST ${[op].flat().join('/')} request reached the EST server on ${est.where.text} within ${withinMs / 1000} s of ${after}${seen.length ? `; EST requests seen: ${seen.join(', ')}` : ''}${discoveryTrace(est)}${dtlsTrouble(est.where.dtls)}`,
    );
  }
  t.note(describeExchange(ex));
  return ex;
}

export function describeExchange(e: EstExchange): string {
  const csr = e.csr?.parsed ? `, CSR ${e.csr.subject} ${e.csr.key.description}${e.csr.signatureValid ? '' : ' (self-signature invalid)'}` : '';
  return `EST ${e.type} ${e.method === '0.01' ? 'GET' : e.method === '0.02' ? 'POST' : e.method} ${e.path} via ${e.via} → ${e.answeredWith ?? 'no answer'}${e.refusal ? ` (${e.refusal})` : ''}; the peer: ${describeAuthentication(e.auth)}${csr}`;
}

/** The Register after enrollment, or a failure of `row` naming the DTLS trouble at the LwM2M Server. */
export async function expectRegisterAfterEnrollment(t: CaseContext, row: Req): Promise<RegistrationMessage> {
  const reg = await t.lwm2mServer.expectRegister(estWindowMs(t), t.signal);
  if (!reg) t.fail(row, `no Register (POST /rd) reached the LwM2M Server at ${t.lwm2mServer.uri} within ${estWindowMs(t) / 1000} s of the enrollment${dtlsTrouble(t.lwm2mServer.dtls)}`);
  return reg;
}

/** The client certificate of the handshake a request came through, as DER, or undefined. */
export function clientCertificateOf(t: CaseContext, remote: { address: string; port: number }): Buffer | undefined {
  return handshakeOf(t.lwm2mServer.dtls, remote)?.peerCertChainDer[0];
}

export function describeDer(der: Buffer | undefined): string {
  return der ? describeCertificate(der) : 'no client certificate';
}

export function sameCertificate(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a !== undefined && b !== undefined && a.equals(b);
}

/** The public key of a certificate (SPKI DER), for comparing keys across certificates and CSRs. */
export function spkiOf(der: Buffer): Buffer {
  return new X509Certificate(der).publicKey.export({ format: 'der', type: 'spki' });
}
