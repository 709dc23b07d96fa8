/**
 * What the CoAP cases need beyond the fake servers' inboxes: every message the device
 * sends, retransmitted copies included (the servers deduplicate them before a case sees
 * them, the endpoints' 'message' events do not), and a judgement of how the device
 * answered one of the harness's CON requests (RFC 7252 §5.2).
 */
import { type CaseContext, type Req, fmtMs } from '../../harness/runner/context.js';
import type { Address, CoapEndpoint } from '../../harness/coap/endpoint.js';
import { CoapTimeoutError } from '../../harness/coap/endpoint.js';
import { type CoapMessage, codeName, describe, isRequestCode, uriPath } from '../../harness/coap/message.js';
import type { OperationResult } from '../../harness/servers/operations.js';
import { Inbox } from '../../harness/coap/inbox.js';

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

/**
 * Checks how the device answered one harness CON request: a piggy-backed response in an
 * ACK with the request's MID and token, or an empty ACK (matched by MID) and a separate
 * response echoing the token. Both are allowed (RFC 7252 §5.2.1, §5.2.2). Judged at
 * `judge` (COAP-01 in the case that owns it); where the request was only a tool, a wrong
 * answer makes the case inconclusive, naming TC-COAP-01 that judges it.
 */
export function checkAnswer(t: CaseContext, result: OperationResult, judge: Silence = 'COAP-01'): string {
  const { response } = result;
  const req = response.request;
  const what = result.what;
  if (req.type !== 'CON') return `${what}: sent ${req.type}, not judged`;
  const token = { expected: `token=${req.token.toString('hex')}`, observed: `token=${response.msg.token.toString('hex') || '(empty)'}` };
  const checks: { name: string; ok: boolean; expected: string; observed: string }[] = response.separate
    ? [
        // The endpoint took the separate response only after an empty ACK with the request's MID stopped its retransmissions.
        { name: `${what}: separate response echoes the token`, ok: response.msg.token.equals(req.token), ...token },
        { name: `${what}: separate response is CON or NON`, ok: response.msg.type === 'CON' || response.msg.type === 'NON', expected: 'CON or NON carrying the response', observed: describe(response.msg) },
      ]
    : [
        { name: `${what}: piggy-backed response is an ACK with the request's MID`, ok: response.msg.type === 'ACK' && response.msg.mid === req.mid, expected: `ACK mid=${req.mid}`, observed: describe(response.msg) },
        { name: `${what}: piggy-backed response echoes the token`, ok: response.msg.token.equals(req.token), ...token },
      ];
  if (typeof judge === 'object' && 'tool' in judge) {
    const miss = checks.find((c) => !c.ok);
    if (miss) t.inconclusive(`${miss.name}: expected ${miss.expected}, observed ${miss.observed}; ${judge.tool} was only the means of this case (TC-COAP-01 judges how a CON is answered)`);
  } else {
    for (const c of checks) t.check(judge, c.name, c.ok, { expected: c.expected, observed: c.observed });
  }
  return response.separate ? `${what}: empty ACK mid=${req.mid}, then separate ${response.msg.type} ${response.msg.code}` : `${what}: piggy-backed ${response.msg.code} in ACK mid=${response.msg.mid}`;
}

/**
 * What a harness CON the device never acknowledges (no ACK, no RST for the whole
 * MAX_TRANSMIT_WAIT) means in a case: in TC-COAP-01 the failure of COAP-01 itself; where
 * the request only served to reach what the case judges, `{ tool }` names that feature
 * and the case that judges the silence, and the verdict is inconclusive.
 */
export type Silence = Req | { tool: string };

/** Runs one harness request; a device that never acknowledges it is judged as `onSilence` says, with what it sent instead. */
export async function answered<T>(t: CaseContext, endpoint: CoapEndpoint, what: string, op: () => Promise<T>, onSilence: Silence = 'COAP-01'): Promise<T> {
  const unmatched: string[] = [];
  const onUnmatched = (m: { msg: CoapMessage; reason?: string }) => unmatched.push(`${describe(m.msg)}${m.reason ? ` (${m.reason})` : ''}`);
  // Empty ACKs seen: a request acknowledged whose separate response never came is not an unacknowledged CON.
  const emptyAcks = new Set<number>();
  const onMessage = (m: { msg: CoapMessage }) => {
    if (m.msg.type === 'ACK' && m.msg.code === '0.00') emptyAcks.add(m.msg.mid);
  };
  endpoint.on('unmatched', onUnmatched);
  endpoint.on('message', onMessage);
  try {
    return await op();
  } catch (e) {
    if (e instanceof CoapTimeoutError) {
      const seen =
        `${what}: ${emptyAcks.has(e.request.mid) ? `${describe(e.request)} was acknowledged with an empty ACK, but no separate response followed within ${fmtMs(e.waitedMs)}` : unansweredText(e, t.timers.maxTransmitWaitMs)}` +
        (unmatched.length ? `; the device sent ${unmatched.join(', ')}, which match neither the request's MID (${e.request.mid}) nor its token (${e.request.token.toString('hex')})` : '; nothing came back');
      if (typeof onSilence === 'object' && 'tool' in onSilence) {
        t.inconclusive(`${seen}; ${onSilence.tool} was only the means of this case, so nothing it judges was observed (TC-COAP-01 judges an unacknowledged CON)`);
      }
      t.fail(onSilence, seen);
    }
    throw e;
  } finally {
    endpoint.off('unmatched', onUnmatched);
    endpoint.off('message', onMessage);
  }
}

/** A CON the device never acknowledged: which, how many transmissions, over how long. */
export function unansweredText(e: CoapTimeoutError, maxTransmitWaitMs?: number): string {
  const bound = maxTransmitWaitMs === undefined ? "the harness's whole retransmission schedule" : `the harness's whole retransmission schedule (MAX_TRANSMIT_WAIT ${fmtMs(maxTransmitWaitMs)} at most)`;
  return `${describe(e.request)} sent ${e.transmissions} time(s) over ${fmtMs(e.waitedMs)}, ${bound}, got no ACK, no RST and no response (RFC 7252 §4.2: a Confirmable message always elicits an Acknowledgement or a Reset)`;
}

export function codeText(code: string): string {
  return `${code} ${codeName(code)}`;
}

/**
 * A lifetime long enough that no heartbeat Update falls inside a CoAP case: longer than
 * the case's own waits (a few startup bounds and one MAX_TRANSMIT_WAIT), at least 120 s.
 */
export function quietLifetimeS(t: CaseContext): number {
  return Math.max(t.ixit.lifetimeS, 120, Math.ceil((6 * t.timers.startupMs + 2 * t.timers.maxTransmitWaitMs) / 1000));
}

/** Row-free wording for the Registration Update Trigger, the tool TC-COAP-03/04/05 reach an Update with. */
export const UPDATE_TRIGGER = { tool: 'Execute /1/x/8 (Registration Update Trigger, judged by TC-REG-07)' } as const;
