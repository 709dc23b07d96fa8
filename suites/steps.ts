/**
 * Steps several cases share, each named for the exchange it waits for. A step that does
 * not see the device act fails with a sentence naming the exchange and the window; a case
 * that only needs the step as a precondition wraps it in t.precondition().
 */
import type { CaseContext } from '../harness/runner/context.js';
import type { DeviceRequest } from '../harness/servers/bootstrap-server.js';
import type { RegistrationMessage } from '../harness/servers/lwm2m-server.js';
import { type ServerAccount, provisionServerAccount, type PlanOutcome } from '../harness/servers/bootstrap-plan.js';
import { describeResult } from '../harness/servers/operations.js';
import type { BootstrapServer } from '../harness/servers/bootstrap-server.js';
import type { DtlsTransport } from '../harness/dtls/dtls-transport.js';
import { cipherSuiteName } from '../harness/recorder/dtls-records.js';
import { decodeCoap, describe } from '../harness/coap/message.js';
import { derOfCertificate } from '../harness/pki/case-pki.js';
import { X509Certificate } from 'node:crypto';

export const SSID = 101;

/** Window in which a started device must send its first message (IXIT startupBoundS plus its hold-off). */
export function startupWindowMs(t: CaseContext): number {
  return (t.ixit.startupBoundS + t.ixit.holdOffS) * 1000;
}

/**
 * The account the Bootstrap-Server writes for the fake LwM2M Server, timers from the IXIT;
 * for a coaps:// server, with fresh PSK credentials (Security Mode 0).
 */
export function serverAccount(t: CaseContext, extra: Partial<ServerAccount> = {}): ServerAccount {
  const psk = t.lwm2mServer.security?.mode === 'psk' ? { psk: t.freshServerPsk() } : {};
  return { serverUri: t.lwm2mServer.uri, ssid: SSID, lifetimeS: t.ixit.lifetimeS, binding: 'U', ...psk, ...extra };
}

export async function provisionAndStart(t: CaseContext): Promise<void> {
  await t.device.provision();
  await t.device.start();
}

export async function expectBootstrapRequest(t: CaseContext, withinMs: number, after: string, bs: BootstrapServer = t.bootstrapServer): Promise<DeviceRequest> {
  const req = await bs.expectBootstrapRequest(withinMs, t.signal);
  if (!req) t.fail(`no Bootstrap-Request (POST /bs) reached the Bootstrap-Server at ${bs.uri} within ${withinMs / 1000} s of ${after}${dtlsTrouble(bs.dtls)}`);
  return req;
}

/** What the DTLS layer saw go wrong, appended to a "nothing arrived" reason; repeats are counted, not listed. */
export function dtlsTrouble(dtls: DtlsTransport | undefined): string {
  if (!dtls) return '';
  const seen = new Map<string, number>();
  for (const f of dtls.handshakeFailures.all) {
    const offered = f.clientOfferedCiphers.length ? `; ClientHello offered ${f.clientOfferedCiphers.map(cipherSuiteName).join(', ')}` : '';
    const identity = f.pskIdentity !== null ? `; PSK identity presented "${f.pskIdentity}"` : '';
    const line = `DTLS handshake failed: ${f.error}${identity}${offered}`;
    seen.set(line, (seen.get(line) ?? 0) + 1);
  }
  for (const d of dtls.dropped.all) {
    const line = `a datagram from ${d.remote.address} was not DTLS (${describePlaintext(d.bytes)})`;
    seen.set(line, (seen.get(line) ?? 0) + 1);
  }
  const parts = [...seen].map(([line, n]) => (n > 1 ? `${line} (${n} times)` : line));
  return parts.length ? ` — ${parts.join('; ')}` : ' (no DTLS handshake was attempted)';
}

/** A datagram that reached a coaps:// port: plaintext CoAP shown as such. */
export function describePlaintext(bytes: Buffer | undefined): string {
  if (!bytes) return 'contents not kept';
  try {
    return `plaintext CoAP ${describe(decodeCoap(bytes))}`;
  } catch {
    return `${bytes.length} bytes, neither DTLS nor CoAP`;
  }
}

export async function runBootstrapPlan(t: CaseContext, req: DeviceRequest, account: ServerAccount, opts: { format?: number } = {}): Promise<PlanOutcome & { finishMonoNs: bigint }> {
  const plan = await provisionServerAccount(t.bootstrapServer, req.remote, account, opts);
  if (account.psk) t.note(`Bootstrap-Server wrote PSK identity "${account.psk.identity}" for ${account.serverUri}`);
  for (const step of plan.steps) t.note(describeResult(step));
  if (plan.failedStep) t.fail(`bootstrap could not complete: ${describeResult(plan.failedStep)}${plan.failedStep.payloadError ? ` (${plan.failedStep.payloadError})` : ''}`);
  const finish = plan.steps[plan.steps.length - 1]!;
  return { ...plan, finishMonoNs: finish.response.monoNs };
}

export async function expectRegister(t: CaseContext, withinMs: number, after: string): Promise<RegistrationMessage> {
  const reg = await t.lwm2mServer.expectRegister(withinMs, t.signal);
  if (!reg) t.fail(`no Register (POST /rd) reached the LwM2M Server at ${t.lwm2mServer.uri} within ${withinMs / 1000} s of ${after}${dtlsTrouble(t.lwm2mServer.dtls)}`);
  return reg;
}

/** Provision, start, bootstrap onto the fake LwM2M Server and see the first Register. */
export async function bootstrapAndRegister(t: CaseContext, account: ServerAccount): Promise<{ register: RegistrationMessage; finishMonoNs: bigint }> {
  await provisionAndStart(t);
  const req = await expectBootstrapRequest(t, startupWindowMs(t), 'device start');
  const plan = await runBootstrapPlan(t, req, account);
  const register = await expectRegister(t, t.ixit.startupBoundS * 1000, 'Bootstrap-Finish');
  return { register, finishMonoNs: plan.finishMonoNs };
}

export function describeRequest(m: DeviceRequest): string {
  const q = [...m.query.entries()].flatMap(([k, vs]) => vs.map((v) => (v === '' ? k : `${k}=${v}`)));
  return `${m.msg.type} ${m.msg.code === '0.02' ? 'POST' : m.msg.code} ${m.path}${q.length ? '?' + q.join('&') : ''} (mid ${m.msg.mid})`;
}

/**
 * Reads /3/0 from a registered device and notes who it says it is. Evidence for the
 * report only: a device that will not answer is noted, never failed, here.
 */
export async function noteDeviceIdentity(t: CaseContext, register: RegistrationMessage): Promise<void> {
  try {
    const r = await t.lwm2mServer.read(register.remote, '/3/0');
    if (r.code !== '2.05' || !r.records) {
      t.note(`DM-Read /3/0 answered ${r.code}${r.payloadError ? ` (${r.payloadError})` : ''}: device identity not recorded`);
      return;
    }
    const byId = new Map(r.records.map((rec) => [rec.path.resourceId, rec.value]));
    const field = (id: number) => (byId.has(id) ? String(byId.get(id)) : '?');
    t.note(`device identity (/3/0): manufacturer ${field(0)}, model ${field(1)}, serial ${field(2)}, firmware ${field(3)}`);
  } catch (e) {
    t.note(`DM-Read /3/0 not answered: ${(e as Error).message}`);
  }
}

/** The DTLS handshake a request arrived through, if its server is coaps://. */
export function handshakeOf(dtls: DtlsTransport | undefined, remote: { address: string; port: number }) {
  const all = dtls?.handshakes.all ?? [];
  for (let i = all.length - 1; i >= 0; i--) {
    const h = all[i]!;
    if (h.remote.address === remote.address && h.remote.port === remote.port) return h;
  }
  return undefined;
}

/**
 * Certificate mode: the account the Bootstrap-Server writes for the fake LwM2M Server —
 * a fresh operational certificate and key from the run CA (/0/x/3, /0/x/5) and the
 * server's certificate to pin (/0/x/4, Certificate Usage 3 = domain-issued certificate).
 */
export async function certificateServerAccount(t: CaseContext, opts: { serverCertPem?: string } = {}): Promise<{ account: ServerAccount; clientCertPem: string }> {
  const device = await t.freshDeviceCertificate();
  const serverCertPem = opts.serverCertPem ?? t.pki!.lwm2mServerCert.certPem;
  const account: ServerAccount = {
    ...serverAccount(t),
    certificate: { clientCertDer: device.certDer, clientKeyDer: device.keyDer, serverCertDer: derOfCertificate(serverCertPem), usage: 3 },
  };
  return { account, clientCertPem: device.certPem };
}

export function fingerprintOf(der: Buffer | undefined): string {
  return der ? new X509Certificate(der).fingerprint256 : '(no certificate)';
}

/** Provision, start and bootstrap the device with `account`: the precondition most cases share. */
export async function bootstrapped(t: CaseContext, account: ServerAccount, what: string): Promise<void> {
  await t.precondition(what, async () => {
    await provisionAndStart(t);
    const req = await expectBootstrapRequest(t, startupWindowMs(t), 'device start');
    await runBootstrapPlan(t, req, account);
  });
}
