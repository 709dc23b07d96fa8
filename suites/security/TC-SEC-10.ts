/*
 * Expected sequence (the Bootstrap-Server is coaps:// with PSK; the harness leaves the
 * first two ClientHellos that would open a session unanswered, as if lost on the way:
 * they are recorded, never given to OpenSSL):
 *   device -> BS   DTLS ClientHello (message_seq 0, random R)      copy #1 at t0: withheld
 *   device -> BS   the same ClientHello (message_seq 0, random R)  copy #2 at t0 + T: withheld
 *                  (MUST: the flight is sent again when the timer expires; SHOULD: T = 1 s)
 *   device -> BS   the same ClientHello again                      copy #3 at t0 + T + 2T
 *                  (SHOULD: the timer doubles)
 *   BS -> device   HelloVerifyRequest; the handshake then completes
 *   device -> BS   (in DTLS) CON POST /bs?ep=...; bootstrap; Finish 2.04
 *
 * A new handshake (another random, maybe another port) instead of the same flight is not
 * a retransmission: the flight was never sent again, which fails the MUST.
 */
import { defineCase } from '../../harness/runner/case.js';
import { exchangesMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { inspectClientHello } from '../../harness/dtls/records.js';
import { Inbox } from '../../harness/coap/inbox.js';
import { describeRequest, expectBootstrapRequest, provisionAndStart, runBootstrapPlan, serverAccount, startupWindowMs } from '../steps.js';

/** RFC 6347 §4.2.4.1: the timer starts at 1 s and doubles "up to no less than the RFC 6298 maximum of 60 seconds". */
const INITIAL_TIMER_MS = 1000;
const MAX_TIMER_MS = 60_000;
/** Copies withheld: two, so that the second gap shows whether the timer doubles. */
const WITHHELD = 2;
/** Arrival times carry both ends' scheduling: 300 ms, or 20 % of a longer interval. */
const toleranceFor = (ms: number) => Math.max(300, ms * 0.2);

const ROW = 'LWM2M-TRANS-DTLS-07';
const TIMER_VALUES = { row: ROW, level: 'SHOULD' } as const;

interface Hello {
  monoNs: bigint;
  remote: { address: string; port: number };
  messageSeq: number;
  random: string | undefined;
}

export default defineCase(
  {
    id: 'TC-SEC-10',
    title: 'DTLS handshake retransmission: an unanswered ClientHello flight is sent again on the retransmission timer (1 s, doubling)',
    area: 'security',
    requirements: [
      {
        id: ROW,
        section: 'RFC 6347 §4.2.4, §4.2.4.1 (LwM2M Transport 1.2 §5.2: DTLS 1.2)',
        quote:
          'DTLS uses a simple timeout and retransmission scheme ... If the retransmit timer expires, the implementation transitions to the SENDING state, where it retransmits the flight, resets the retransmit timer, and returns to the WAITING state ... Implementations SHOULD use an initial timer value of 1 second (the minimum defined in RFC 6298) and double the value at each retransmission, up to no less than the RFC 6298 maximum of 60 seconds',
      },
    ],
    ics: 'transport.dtls-psk',
    // Start-up and hold-off to the first ClientHello; each withheld copy's retransmission
    // within the longest timer the RFC allows; then the handshake and the bootstrap session.
    budget: (k) => k.firstRequestMs + WITHHELD * MAX_TIMER_MS + k.startupMs + exchangesMs(k, 6),
    floor: (k) => bootstrapAndRegisterFloorMs(k) + INITIAL_TIMER_MS * (2 ** WITHHELD - 1),
    tags: ['security', 'dtls', 'bootstrap', 'timing'],
    security: 'psk',
  },
  async (t: CaseContext) => {
    const dtls = t.bootstrapServer.dtls;
    if (!dtls) t.inconclusive('the Bootstrap-Server of this case is not coaps://, so there is no DTLS handshake to withhold');
    const hellos = new Inbox<Hello>();
    dtls.server.on('record', (r) => {
      if (r.direction !== 'in') return;
      const h = inspectClientHello(r.bytes);
      if (h) hellos.push({ monoNs: r.monoNs, remote: r.remote, messageSeq: h.messageSeq, random: h.random });
    });
    dtls.server.withholdClientHellos(WITHHELD);
    const describeHello = (h: Hello) => `ClientHello message_seq ${h.messageSeq} random ${h.random ?? '(not in the first fragment)'} from port ${h.remote.port}`;

    await provisionAndStart(t);
    const first = await hellos.next(() => true, startupWindowMs(t), t.signal);
    if (!first) t.inconclusive(`no ClientHello reached ${t.bootstrapServer.uri} within ${fmtMs(startupWindowMs(t))} of device start (IXIT startupBoundS + holdOffS), so there was no flight to withhold; TC-SEC-01 judges the handshake`);
    t.note(`withheld ${describeHello(first)}: no answer, as if lost`);

    const copies: Hello[] = [first];
    const gaps: number[] = [];
    for (let n = 2; n <= WITHHELD + 1; n++) {
      const prev = copies[copies.length - 1]!;
      const next = await hellos.next(() => true, MAX_TIMER_MS + toleranceFor(MAX_TIMER_MS), t.signal);
      if (!next) {
        if (n === 2)
          t.fail(
            ROW,
            `${describeHello(first)} got no answer and was not sent again within ${fmtMs(MAX_TIMER_MS)} (the longest retransmission timer RFC 6347 §4.2.4.1 allows, tolerance ${fmtMs(toleranceFor(MAX_TIMER_MS))}): no ClientHello at all followed`,
          );
        t.fail(ROW, `${describeHello(first)} was sent again once, then no more within ${fmtMs(MAX_TIMER_MS)} of copy #${n - 1} although still unanswered (tolerance ${fmtMs(toleranceFor(MAX_TIMER_MS))})`);
      }
      const afterMs = CaseContext.elapsedMs(prev.monoNs, next.monoNs);
      const sameFlight = next.random !== undefined && next.random === first.random && next.messageSeq === first.messageSeq;
      t.check(ROW, `copy #${n}: the unanswered flight is sent again (same message_seq and random)`, sameFlight, {
        expected: `ClientHello message_seq ${first.messageSeq} random ${first.random ?? '?'} again, before any new handshake`,
        observed: `${describeHello(next)}, ${fmtMs(afterMs)} after copy #${n - 1}${sameFlight ? '' : ': a new handshake, not a retransmission'}`,
      });
      if (!sameFlight) break;
      copies.push(next);
      gaps.push(afterMs);
      if (n <= WITHHELD) t.note(`withheld ${describeHello(next)} (copy #${n}, ${fmtMs(afterMs)} after copy #${n - 1})`);
      const expectedMs = n === 2 ? INITIAL_TIMER_MS : 2 * gaps[gaps.length - 2]!;
      t.checkTiming({
        req: TIMER_VALUES,
        name: n === 2 ? 'first retransmission after the initial timer of 1 s' : `gap before copy #${n} doubles the gap before`,
        observedMs: afterMs,
        // a doubling compares this gap with the one before: both lie in the span
        span: { fromNs: (n === 2 ? prev : copies[copies.length - 3]!).monoNs, toNs: next.monoNs },
        minMs: expectedMs,
        maxMs: expectedMs,
        toleranceMs: toleranceFor(expectedMs),
        window: n === 2 ? 'initial timer 1 s (RFC 6347 §4.2.4.1)' : `2 × the previous gap of ${fmtMs(expectedMs / 2)} (RFC 6347 §4.2.4.1: double the value at each retransmission)`,
      });
    }
    const seen = `${copies.length} copies of ${describeHello(first)}, gaps ${gaps.map(fmtMs).join(', ')}`;
    if (t.hasFailed()) {
      t.note(seen);
      return;
    }

    // The copy after the withheld ones reached OpenSSL: the handshake completes and the device bootstraps.
    await t.precondition('DTLS handshake completed and bootstrap ran after the retransmitted flight', async () => {
      const req = await expectBootstrapRequest(t, t.timers.startupMs, `copy #${copies.length} of the ClientHello, given to the DTLS server`);
      const plan = await runBootstrapPlan(t, req, serverAccount(t));
      t.note(`bootstrap after the retransmitted flight: ${describeRequest(req)}, ${plan.steps.length} operations, Finish answered`);
    });
    const timing = t.advisories.length > 0 ? 'timer values off the RFC 6347 §4.2.4.1 recommendation (see the advisory)' : 'first after 1 s, then doubling';
    t.pass(`${seen}: the unanswered flight was sent again on the retransmission timer (${timing}; tolerance 300 ms or 20 % of the interval); once a copy was answered the handshake completed and the device bootstrapped`);
  },
);
