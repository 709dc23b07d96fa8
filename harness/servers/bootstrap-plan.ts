/**
 * The usual bootstrap session a case asks for: Discover what the device holds, write a
 * Security and a Server instance for the fake LwM2M Server, then Finish. Instance IDs are
 * chosen so they never collide with the device's own Bootstrap-Server account (some
 * clients keep it at /0/1, not /0/0).
 */
import type { Address } from '../coap/endpoint.js';
import { CF, parsePath, type ResourceRecord } from '../lwm2m/index.js';
import type { BootstrapServer } from './bootstrap-server.js';
import type { OperationResult } from './operations.js';
import type { PskCredentials } from './security.js';

export interface ServerAccount {
  serverUri: string;
  ssid: number;
  lifetimeS: number;
  binding?: string;
  /** Security Mode /0/x/2: 0 = PSK, 2 = Certificate, 3 = NoSec, 4 = Certificate mode with EST. Defaults from psk, certificate, est. */
  securityMode?: number;
  /** PSK identity /0/x/3 and key /0/x/5 (Security Mode 0). */
  psk?: PskCredentials;
  /** Certificate mode (Security Mode 2): /0/x/3 client certificate, /0/x/4 server certificate, /0/x/5 client key, /0/x/15 usage. */
  certificate?: { clientCertDer: Buffer; clientKeyDer: Buffer; serverCertDer: Buffer; usage?: number };
  /**
   * Certificate mode with EST (Security Mode 4, LwM2M Transport 1.2 §5.2.4): /0/x/4 holds the
   * certificate (or trust anchor) the device checks the server against; /0/x/3 and /0/x/5
   * are "not used by the Certificate mode with EST" and are written empty. The device makes
   * its own key and gets its certificate by EST-coaps.
   */
  est?: { serverCertDer: Buffer; usage?: number };
  /** /0/x/16 DTLS/TLS Ciphersuite: IANA numbers the client is to propose; absent when undefined. */
  ciphersuites?: number[];
  bootstrapOnRegistrationFailure?: boolean;
  /** /1/x/14 Initial Registration Delay Timer, seconds. */
  initialRegistrationDelayS?: number;
  retryCount?: number;
  retryTimerS?: number;
  sequenceDelayTimerS?: number;
  sequenceRetryCount?: number;
}

export interface PlanOptions {
  /** Content format of the Writes (TLV unless the case asks for another). */
  format?: number;
  /** Skip Bootstrap-Finish (a case that checks what happens without it). */
  skipFinish?: boolean;
}

export interface PlanOutcome {
  steps: OperationResult[];
  securityIid: number;
  serverIid: number;
  /** The first step not answered with its success code, if any. */
  failedStep?: OperationResult;
}

const SUCCESS: Record<string, string> = { Discover: '2.05', Write: '2.04', Finish: '2.04', Delete: '2.02' };

function successCode(step: OperationResult): string {
  const op = step.what.replace(/^Bootstrap-/, '').split(' ')[0]!;
  return SUCCESS[op] ?? '2.04';
}

/** Instance IDs in use for an object, from a Bootstrap-Discover answer. */
export function instancesFromDiscover(discover: OperationResult, objectId: number): number[] {
  const ids = new Set<number>();
  for (const link of discover.links ?? []) {
    const m = /^\/(\d+)\/(\d+)$/.exec(link.target);
    if (m && Number(m[1]) === objectId) ids.add(Number(m[2]));
  }
  return [...ids].sort((a, b) => a - b);
}

function freeInstanceId(used: number[]): number {
  let id = 1;
  while (used.includes(id)) id++;
  return id;
}

export function securityRecords(iid: number, a: ServerAccount): ResourceRecord[] {
  const p = (rid: number) => parsePath(`/0/${iid}/${rid}`);
  return [
    { path: p(0), value: a.serverUri },
    { path: p(1), value: false },
    { path: p(2), value: a.securityMode ?? (a.psk ? 0 : a.certificate ? 2 : a.est ? 4 : 3) },
    { path: p(3), value: a.psk ? Buffer.from(a.psk.identity, 'utf8') : (a.certificate?.clientCertDer ?? Buffer.alloc(0)) },
    { path: p(4), value: a.certificate?.serverCertDer ?? a.est?.serverCertDer ?? Buffer.alloc(0) },
    { path: p(5), value: a.psk ? a.psk.key : (a.certificate?.clientKeyDer ?? Buffer.alloc(0)) },
    { path: p(10), value: a.ssid },
    ...((a.certificate ?? a.est)?.usage !== undefined ? [{ path: p(15), value: (a.certificate ?? a.est)!.usage! }] : []),
    ...(a.ciphersuites ?? []).map((suite, i) => ({ path: parsePath(`/0/${iid}/16/${i}`), value: suite })),
  ];
}

export function serverRecords(iid: number, a: ServerAccount): ResourceRecord[] {
  const p = (rid: number) => parsePath(`/1/${iid}/${rid}`);
  const records: ResourceRecord[] = [
    { path: p(0), value: a.ssid },
    { path: p(1), value: a.lifetimeS },
    { path: p(6), value: false },
    { path: p(7), value: a.binding ?? 'U' },
  ];
  if (a.initialRegistrationDelayS !== undefined) records.push({ path: p(14), value: a.initialRegistrationDelayS });
  if (a.bootstrapOnRegistrationFailure !== undefined) records.push({ path: p(16), value: a.bootstrapOnRegistrationFailure });
  if (a.retryCount !== undefined) records.push({ path: p(17), value: a.retryCount });
  if (a.retryTimerS !== undefined) records.push({ path: p(18), value: a.retryTimerS });
  if (a.sequenceDelayTimerS !== undefined) records.push({ path: p(19), value: a.sequenceDelayTimerS });
  if (a.sequenceRetryCount !== undefined) records.push({ path: p(20), value: a.sequenceRetryCount });
  return records;
}

/**
 * Runs Discover, Write /0/x, Write /1/y, Finish and stops at the first step the device
 * does not answer with success. A CoAP timeout propagates (the device went silent).
 */
export async function provisionServerAccount(bs: BootstrapServer, device: Address, account: ServerAccount, opts: PlanOptions = {}): Promise<PlanOutcome> {
  const format = opts.format ?? CF.TLV;
  const steps: OperationResult[] = [];
  const outcome = (securityIid: number, serverIid: number): PlanOutcome => {
    const failedStep = steps.find((s) => s.code !== successCode(s));
    return failedStep ? { steps, securityIid, serverIid, failedStep } : { steps, securityIid, serverIid };
  };
  const discover = await bs.discover(device, '/');
  steps.push(discover);
  if (discover.code !== '2.05') return outcome(-1, -1);
  const securityIid = freeInstanceId(instancesFromDiscover(discover, 0));
  const serverIid = freeInstanceId(instancesFromDiscover(discover, 1));
  for (const [path, records] of [
    [`/0/${securityIid}`, securityRecords(securityIid, account)],
    [`/1/${serverIid}`, serverRecords(serverIid, account)],
  ] as const) {
    const step = await bs.write(device, path, records, format);
    steps.push(step);
    if (step.code !== '2.04') return outcome(securityIid, serverIid);
  }
  if (!opts.skipFinish) steps.push(await bs.finish(device));
  return outcome(securityIid, serverIid);
}

/**
 * Instance IDs a Bootstrap-Pack writes to. No Discover comes before a pack, so they are
 * chosen away from /0/0 and /0/1, where devices keep their Bootstrap-Server account.
 */
export const PACK_SECURITY_IID = 2;
export const PACK_SERVER_IID = 2;

/**
 * The Bootstrap-Pack (LwM2M 1.2) carrying the same account a classic bootstrap writes:
 * the Security and Server instances of `account`, as records under the root.
 */
export function bootstrapPackRecords(account: ServerAccount, iids: { securityIid?: number; serverIid?: number } = {}): ResourceRecord[] {
  return [...securityRecords(iids.securityIid ?? PACK_SECURITY_IID, account), ...serverRecords(iids.serverIid ?? PACK_SERVER_IID, account)];
}

/**
 * A pack no device can use: its Server instance (Short Server ID `account.ssid`) has no
 * Security instance, and its one Security instance (the LwM2M Server's URI) carries a
 * Short Server ID no Server instance has. Only a device that pairs the two by instance ID
 * instead of by Short Server ID finds an account in it.
 */
export function unusableBootstrapPackRecords(account: ServerAccount, orphanSsid: number): ResourceRecord[] {
  if (orphanSsid === account.ssid) throw new Error('the orphan Security instance needs a Short Server ID of its own');
  return [...securityRecords(PACK_SECURITY_IID, { ...account, ssid: orphanSsid }), ...serverRecords(PACK_SERVER_IID, account)];
}
