/**
 * What the CoAP cases need beyond the fake servers' inboxes: every message the device
 * sends, retransmitted copies included (the servers deduplicate them before a case sees
 * them, the endpoints' 'message' events do not), and a judgement of how the device
 * answered one of the harness's CON requests (RFC 7252 §5.2).
 */
import type { CaseContext } from '../../harness/runner/context.js';
import type { Address, CoapEndpoint } from '../../harness/coap/endpoint.js';
import { CoapTimeoutError } from '../../harness/coap/endpoint.js';
import { type CoapMessage, codeName, describe, isRequestCode, uriPath } from '../../harness/coap/message.js';
import { type TransmissionParams } from '../../harness/coap/params.js';
import type { OperationResult } from '../../harness/servers/operations.js';
import { Inbox } from '../../harness/servers/inbox.js';
import type { ServerAccount } from '../../harness/servers/bootstrap-plan.js';
import type { RegistrationMessage } from '../../harness/servers/lwm2m-server.js';
import { expectBootstrapRequest, expectRegister, provisionAndStart, runBootstrapPlan, startupWindowMs } from '../steps.js';

export interface WireMessage {
  msg: CoapMessage;
  remote: Address;
  monoNs: bigint;
  /** Which fake server received it. */
  server: string;
}

/** Every datagram the device sends to the case's servers, decoded, in arrival order (copies included). */
export function watchDevice(t: CaseContext): Inbox<WireMessage> {
  const inbox = new Inbox<WireMessage>();
  for (const endpoint of [t.bootstrapServer.endpoint, t.lwm2mServer.endpoint]) {
    endpoint.on('message', (m: { msg: CoapMessage; remote: Address; monoNs: bigint }) => inbox.push({ ...m, server: endpoint.name }));
  }
  return inbox;
}

/** A new message from the device (a request or a separate response): not an ACK or RST, which reuse the peer's MID. */
export function isNewMessage(m: WireMessage): boolean {
  return m.msg.type === 'CON' || m.msg.type === 'NON';
}

export function isRequestTo(m: WireMessage, code: string, path: string | ((p: string) => boolean)): boolean {
  if (m.msg.code !== code || !isRequestCode(m.msg.code)) return false;
  const p = uriPath(m.msg);
  return typeof path === 'string' ? p === path : path(p);
}

export function describeWire(m: WireMessage): string {
  return `${describe(m.msg)} to ${m.server}`;
}

/** The transmission parameters the profile declares for the DUT (RFC 7252 §4.8). */
export function declaredParams(t: CaseContext): TransmissionParams & { maxLatencyMs: number; text: string } {
  const c = t.ixit.coap;
  return {
    ackTimeoutMs: c.ackTimeoutS * 1000,
    ackRandomFactor: c.ackRandomFactor,
    maxRetransmit: c.maxRetransmit,
    nstart: c.nstart,
    // MAX_LATENCY is the network's; RFC 7252's 100 s unless the profile declares another.
    maxLatencyMs: (c.maxLatencyS ?? 100) * 1000,
    text: `ACK_TIMEOUT ${c.ackTimeoutS} s, ACK_RANDOM_FACTOR ${c.ackRandomFactor}, MAX_RETRANSMIT ${c.maxRetransmit} (IXIT ixit.coap)`,
  };
}

/**
 * Checks how the device answered one harness CON request: a piggy-backed response in an
 * ACK with the request's MID and token, or an empty ACK (matched by MID) and a separate
 * response echoing the token. Both are allowed (RFC 7252 §5.2.1, §5.2.2).
 */
export function checkAnswer(t: CaseContext, result: OperationResult): string {
  const { response } = result;
  const req = response.request;
  const what = result.what;
  if (req.type !== 'CON') return `${what}: sent ${req.type}, not judged`;
  if (!response.separate) {
    t.check(`${what}: piggy-backed response is an ACK with the request's MID`, response.msg.type === 'ACK' && response.msg.mid === req.mid, {
      expected: `ACK mid=${req.mid}`,
      observed: describe(response.msg),
    });
    t.check(`${what}: piggy-backed response echoes the token`, response.msg.token.equals(req.token), {
      expected: `token=${req.token.toString('hex')}`,
      observed: `token=${response.msg.token.toString('hex') || '(empty)'}`,
    });
    return `${what}: piggy-backed ${response.msg.code} in ACK mid=${response.msg.mid}`;
  }
  // The endpoint took the separate response only after an empty ACK with the request's MID stopped its retransmissions.
  t.check(`${what}: separate response echoes the token`, response.msg.token.equals(req.token), {
    expected: `token=${req.token.toString('hex')}`,
    observed: `token=${response.msg.token.toString('hex') || '(empty)'}`,
  });
  t.check(`${what}: separate response is CON or NON`, response.msg.type === 'CON' || response.msg.type === 'NON', {
    expected: 'CON or NON carrying the response',
    observed: describe(response.msg),
  });
  return `${what}: empty ACK mid=${req.mid}, then separate ${response.msg.type} ${response.msg.code}`;
}

/** Runs one harness request; a device that never acknowledges it fails the case with what it sent instead. */
export async function answered<T>(t: CaseContext, endpoint: CoapEndpoint, what: string, op: () => Promise<T>): Promise<T> {
  const unmatched: string[] = [];
  const onUnmatched = (m: { msg: CoapMessage; reason?: string }) => unmatched.push(`${describe(m.msg)}${m.reason ? ` (${m.reason})` : ''}`);
  endpoint.on('unmatched', onUnmatched);
  try {
    return await op();
  } catch (e) {
    if (e instanceof CoapTimeoutError) {
      t.fail(
        `${what}: ${e.message}` +
          (unmatched.length ? `; the device sent ${unmatched.join(', ')}, which match neither the request's MID (${e.request.mid}) nor its token (${e.request.token.toString('hex')})` : '; nothing came back'),
      );
    }
    throw e;
  } finally {
    endpoint.off('unmatched', onUnmatched);
  }
}

export function codeText(code: string): string {
  return `${code} ${codeName(code)}`;
}

/**
 * The shared precondition: bootstrap onto the fake LwM2M Server with `account` and see
 * its Register accepted; returns the Register and the Server instance written (/1/y).
 */
export async function registeredAt(t: CaseContext, account: ServerAccount): Promise<{ register: RegistrationMessage; serverIid: number }> {
  return t.precondition('device bootstrapped and registered', async () => {
    await provisionAndStart(t);
    const req = await expectBootstrapRequest(t, startupWindowMs(t), 'device start');
    const plan = await runBootstrapPlan(t, req, account);
    const register = await expectRegister(t, t.ixit.startupBoundS * 1000, 'Bootstrap-Finish');
    if (register.answeredWith !== '2.01') t.inconclusive(`the Register was answered ${register.answeredWith ?? 'not at all'}, so there is no registration to work with`);
    return { register, serverIid: plan.serverIid };
  });
}

/** A lifetime long enough that no heartbeat Update falls inside a CoAP case (they last seconds). */
export function quietLifetimeS(t: CaseContext): number {
  return Math.max(t.ixit.lifetimeS, 120);
}
