/*
 * Expected sequence (the Bootstrap-Server stays silent: no ACK, no response; A, F, M are
 * ACK_TIMEOUT, ACK_RANDOM_FACTOR and MAX_RETRANSMIT the profile declares in ixit.coap):
 *   device -> BS   CON POST /bs?ep=...  mid=m token=k           copy #1 at t0
 *   device -> BS   the same message (mid=m, token=k)            copy #2 at t0 + T,   T in [A, A·F]
 *   device -> BS   the same message                             copy #3 at + 2T
 *   ...                                                         copy #i+1 at + 2^(i-1)·T
 *   at most M retransmissions (M+1 copies) before MAX_TRANSMIT_WAIT = A·(2^(M+1)−1)·F
 *
 * Judged (RFC 7252 §4.2), each at its level (row COAP-02 carries MUST and SHOULD):
 *   MUST   every copy is the same message (same MID and token): a retransmission is the
 *          message the endpoint MUST keep a timeout and a retransmission counter for, and
 *          a new MID would be a new message (§4.4);
 *   MUST   no more than M retransmissions: on reaching MAX_RETRANSMIT "the attempt to
 *          transmit the message is canceled";
 *   SHOULD each gap double the one before, and at least one retransmission: the back-off is
 *          described without a keyword, and §4.2 lets a sender give up early ("MAY give up
 *          in attempting to obtain an ACK even before the MAX_RETRANSMIT counter value is
 *          reached"), so a device that does otherwise gets the advisory, not a fail.
 * A first timeout outside [A, A·F], or fewer retransmissions than M, fits none of the
 * declared parameters: inconclusive (the IXIT may be wrong), not fail.
 *
 * Not tagged 'slow': the case lasts one MAX_TRANSMIT_WAIT of the declared parameters
 * (93 s at RFC 7252's defaults, ~47 s with the reference device's 1 s ACK_TIMEOUT),
 * about as long as the registration cases that run by default, and it is the only case
 * that checks this MUST; 'slow' is kept for cases that need EXCHANGE_LIFETIME or
 * spec-default LwM2M timers. A profile with short CoAP parameters makes it short.
 */
import { defineCase } from '../../harness/runner/case.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { SILENT } from '../../harness/servers/policy.js';
import { provisionAndStart, startupWindowMs } from '../steps.js';
import { describeWire, isRequestTo, watchDevice, type WireMessage } from './wire.js';
import { bootstrapAndRegisterFloorMs, leastGiveUpMs } from '../../harness/runner/budget.js';

/**
 * Each gap is the difference of two arrival times, so it carries the scheduling of both
 * ends and the link's latency jitter on two copies: 100 ms, or 10 % of a longer gap.
 * Doubling versus not doubling (a constant interval is 50 % off) stays far outside it.
 */
/** The back-off and the retransmitting at all: the SHOULD part of row COAP-02. */
const SHOULD = { row: 'COAP-02', level: 'SHOULD' } as const;

const toleranceFor = (expectedMs: number) => Math.max(100, expectedMs * 0.1);

export default defineCase(
  {
    id: 'TC-COAP-02',
    title: 'CON retransmission: same MID and token, first timeout in [ACK_TIMEOUT, ACK_TIMEOUT·ACK_RANDOM_FACTOR], doubling, at most MAX_RETRANSMIT',
    area: 'coap',
    requirements: [
      {
        id: 'COAP-02',
        section: 'RFC 7252 §4.2, §4.8, §4.8.2',
        quote:
          'Retransmission is controlled by two things that a CoAP endpoint MUST keep track of for each Confirmable message it sends while waiting for an acknowledgement (or reset): a timeout and a retransmission counter ... the initial timeout is set to a random duration between ACK_TIMEOUT and (ACK_TIMEOUT * ACK_RANDOM_FACTOR) ... When the timeout is triggered and the retransmission counter is less than MAX_RETRANSMIT, the message is retransmitted, the retransmission counter is incremented, and the timeout is doubled. If the retransmission counter reaches MAX_RETRANSMIT on a timeout ... the attempt to transmit the message is canceled ... A CoAP endpoint that sent a Confirmable message MAY give up in attempting to obtain an ACK even before the MAX_RETRANSMIT counter value is reached',
      },
    ],
    // Start-up, then the device's whole retransmission schedule, then a quiet MAX_TRANSMIT_WAIT
    // in which no sixth copy may come.
    budget: (k) => k.firstRequestMs + 2 * (k.maxTransmitWaitMs * 1.25),
    floor: (k) => bootstrapAndRegisterFloorMs(k) + leastGiveUpMs(k),
    tags: ['coap', 'timing'],
  },
  async (t: CaseContext) => {
    const p = t.coap;
    const wait = t.timers.maxTransmitWaitMs;
    const watch = watchDevice(t);
    // No ACK, no response: every copy the device sends is a retransmission.
    t.bootstrapServer.bootstrapRequestPolicy = SILENT;
    await provisionAndStart(t);

    const isBootstrapRequest = (m: WireMessage) => m.server === t.bootstrapServer.endpoint.name && isRequestTo(m, '0.02', '/bs');
    const first = await watch.next(isBootstrapRequest, startupWindowMs(t), t.signal);
    if (!first) t.inconclusive(`no Bootstrap-Request (POST /bs) reached ${t.bootstrapServer.uri} within ${startupWindowMs(t) / 1000} s of device start, so there was nothing to see retransmitted`);
    if (first.msg.type !== 'CON') t.inconclusive(`the Bootstrap-Request was ${first.msg.type} (${describeWire(first)}): retransmission applies to CON only; TC-COAP-01 judges the message type`);

    const copies: WireMessage[] = [first];
    const mismatches: string[] = [];
    const deadlineNs = first.monoNs + BigInt(Math.round((wait + toleranceFor(wait)) * 1e6));
    let laterExchange: WireMessage | undefined;
    const gaps: number[] = [];
    while (!t.hasFailed()) {
      const leftMs = Number(deadlineNs - process.hrtime.bigint()) / 1e6;
      if (leftMs <= 0) break;
      const next = await watch.next(isBootstrapRequest, leftMs, t.signal);
      if (!next) break;
      const sameMid = next.msg.mid === first.msg.mid;
      const sameToken = next.msg.token.equals(first.msg.token);
      if (!sameMid && !sameToken) {
        // A new exchange: the device gave up on the first one.
        laterExchange = next;
        break;
      }
      const n = copies.length + 1;
      t.check('COAP-02', `copy #${n} keeps the MID and token of copy #1`, sameMid && sameToken, {
        expected: `mid=${first.msg.mid} token=${first.msg.token.toString('hex')}`,
        observed: `mid=${next.msg.mid} token=${next.msg.token.toString('hex')}`,
      });
      const gap = CaseContext.elapsedMs(copies[copies.length - 1]!.monoNs, next.monoNs);
      copies.push(next);
      gaps.push(gap);
      if (n === 2) {
        const lo = p.ackTimeoutMs;
        const hi = p.ackTimeoutMs * p.ackRandomFactor;
        const tol = toleranceFor(hi);
        const fits = gap >= lo - tol && gap <= hi + tol;
        t.note(`first timeout (copy #1 to #2) ${fmtMs(gap)}; declared window ${fmtMs(lo)} to ${fmtMs(hi)} (tolerance ±${fmtMs(tol)})`);
        if (!fits) mismatches.push(`the first timeout was ${fmtMs(gap)}, outside [ACK_TIMEOUT, ACK_TIMEOUT·ACK_RANDOM_FACTOR] = [${fmtMs(lo)}, ${fmtMs(hi)}] ±${fmtMs(tol)}`);
      } else {
        const expected = 2 * gaps[gaps.length - 2]!;
        t.checkTiming({
          req: SHOULD,
          name: `gap between copy #${n - 1} and #${n} doubles the gap before`,
          observedMs: gap,
          // the doubling compares this gap with the one before: both lie in the span
          span: { fromNs: copies[copies.length - 3]!.monoNs, toNs: next.monoNs },
          minMs: expected,
          maxMs: expected,
          toleranceMs: toleranceFor(expected),
          window: `2 × the previous gap of ${fmtMs(expected / 2)} (RFC 7252 §4.2: the timeout is doubled)`,
        });
      }
      t.check('COAP-02', `no more than MAX_RETRANSMIT = ${p.maxRetransmit} retransmissions`, n - 1 <= p.maxRetransmit, {
        expected: `at most ${p.maxRetransmit + 1} copies within MAX_TRANSMIT_WAIT ${fmtMs(wait)}`,
        observed: `copy #${n} ${fmtMs(CaseContext.elapsedMs(first.monoNs, next.monoNs))} after copy #1`,
      });
    }
    const seen = `${copies.length} copies of ${describeWire(first)}, gaps ${gaps.map(fmtMs).join(', ') || 'none'}`;
    if (t.hasFailed()) {
      // The first failed check is the verdict's reason; the note keeps the whole series.
      t.note(seen);
      return;
    }

    const retransmissions = copies.length - 1;
    const after = laterExchange ? `; then a new exchange ${describeWire(laterExchange)}` : '';
    if (retransmissions === 0) {
      t.fail(SHOULD, `the unacknowledged Bootstrap-Request ${describeWire(first)} was never retransmitted within MAX_TRANSMIT_WAIT ${fmtMs(wait)} (${p.text})${after}`);
    }
    if (retransmissions < p.maxRetransmit) mismatches.push(`${retransmissions} retransmission(s) before giving up, fewer than the declared MAX_RETRANSMIT ${p.maxRetransmit} (RFC 7252 §4.2 lets a sender give up early)`);
    if (mismatches.length > 0) {
      t.inconclusive(`retransmissions keep MID and token and double, but the timing fits none of the declared parameters (${p.text}): ${mismatches.join('; ')} (${seen}${after})`);
    }
    const backoff = t.advisories.length > 0 ? 'not every gap double the one before (SHOULD, see the advisory)' : 'each gap double the one before';
    t.pass(
      `${seen}: MID and token kept, first timeout within [${fmtMs(p.ackTimeoutMs)}, ${fmtMs(p.ackTimeoutMs * p.ackRandomFactor)}], ${backoff}, ${retransmissions} retransmissions = MAX_RETRANSMIT, nothing more within MAX_TRANSMIT_WAIT ${fmtMs(wait)} (tolerance 100 ms or 10 % of the gap; ${p.text})`,
    );
  },
);
