/*
 * Expected sequence (both servers coaps:// with PSK; written at bootstrap: Bootstrap on
 * Registration Failure false, Retry Count R, Retry Timer T; the LwM2M Server answers every
 * Register 4.03 inside the DTLS session):
 *   device -> DM   [DTLS ClientHello ... handshake] Register #1 (4.03)
 *   device -> DM   [new ClientHello?]               Register #2 (4.03)   T later: the error counts as a failed attempt
 *   ... R attempts
 * Whether a retry within a sequence re-handshakes is not specified (catalog LWM2M-CORE-RETRY-05,
 * inferred from Anjay, which re-handshakes only between sequences): each attempt's
 * handshake is reported, never judged. Only the retry itself is judged, at SHOULD level.
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, type DeviceTimers, bootstrapAndRegisterFloorMs, retryBackoffsMs } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { inspectClientHello } from '../../harness/dtls/records.js';
import type { DtlsRecordEvent } from '../../harness/dtls/types.js';
import type { RegistrationMessage } from '../../harness/servers/lwm2m-server.js';
import { reject } from '../../harness/servers/policy.js';
import { describeRequest, expectRegister, registered, serverAccount } from '../steps.js';
import { nextAttemptWaitMs, sequenceWaitsMs } from './windows.js';

const ROW = 'LWM2M-CORE-RETRY-05';
/** At least two attempts, so that one retry shows how the error response was counted. */
const retryCountOf = (k: DeviceTimers) => Math.max(2, k.retryCount);

export default defineCase(
  {
    id: 'TC-RETRY-08',
    title: 'An error response over DTLS counts as a failed Register attempt; whether each attempt re-handshakes is reported',
    area: 'retry',
    requirements: [
      {
        id: ROW,
        section: 'LwM2M Core 1.2 §6.2.1.1 (inferred: Anjay DtlsCommunicationSequenceTimers, AT-NetworkErrorHandling)',
        quote: 'a failed attempt is a CoAP timeout, a DTLS handshake failure or an error response; DTLS re-handshake between attempts is implementation behaviour, reported not judged',
      },
    ],
    ics: 'transport.dtls-psk',
    budget: (k) => bootstrapAndRegisterMs(k) + sequenceWaitsMs(k.retryTimerMs, retryCountOf(k)),
    floor: (k) => bootstrapAndRegisterFloorMs(k) + retryBackoffsMs(k.retryTimerMs, retryCountOf(k)),
    tags: ['retry', 'security', 'dtls'],
    security: 'psk',
  },
  async (t: CaseContext) => {
    const dtls = t.lwm2mServer.dtls!;
    // Every initial ClientHello toward the LwM2M Server, by arrival: a new client random is a new handshake
    // (the ClientHello answering a HelloVerifyRequest repeats the random, RFC 6347 §4.2.1).
    const hellos: { monoNs: bigint; random: string }[] = [];
    const onRecord = (r: DtlsRecordEvent) => {
      if (r.direction !== 'in') return;
      const hello = inspectClientHello(r.bytes);
      if (hello?.random && !hellos.some((h) => h.random === hello.random)) hellos.push({ monoNs: r.monoNs, random: hello.random });
    };
    dtls.server.on('record', onRecord);
    try {
      const k = t.timers;
      const retryCount = retryCountOf(k);
      const retryTimerMs = k.retryTimerMs;
      const account = serverAccount(t, { bootstrapOnRegistrationFailure: false, retryCount, retryTimerS: retryTimerMs / 1000, sequenceDelayTimerS: k.sequenceDelayMs / 1000, sequenceRetryCount: 1 });
      t.lwm2mServer.registerPolicy = reject('4.03');
      await registered(t, account, { until: 'finish', what: 'DTLS-PSK bootstrap with Bootstrap on Registration Failure false', tool: { feature: 'the bootstrap session over DTLS', judgedBy: 'TC-SEC-01 and TC-BS-*' } });

      const first = await t.precondition('the device registers over DTLS after Bootstrap-Finish (TC-SEC-02 judges it)', () => expectRegister(t, k.startupMs, 'Bootstrap-Finish'));
      const attempts: RegistrationMessage[] = [first];
      for (let n = 1; n < retryCount; n++) {
        const upper = nextAttemptWaitMs(retryTimerMs, n);
        const next = await t.lwm2mServer.expectRegister(upper, t.signal);
        if (!next) {
          if (n === 1) {
            t.fail(
              ROW,
              `after Register #1 ${describeRequest(attempts[0]!)} was answered 4.03 inside the DTLS session, no Register #2 within ${fmtMs(upper)}: the error response was not counted as a failed attempt to retry (Retry Count ${retryCount}, Bootstrap on Registration Failure false)`,
            );
          }
          t.note(`no Register #${n + 1} within ${fmtMs(upper)} (TC-RETRY-01 judges the attempt count and spacing)`);
          break;
        }
        attempts.push(next);
      }

      const perAttempt = attempts.map((a, i) => {
        const since = i === 0 ? 0n : attempts[i - 1]!.monoNs;
        const fresh = hellos.filter((h) => h.monoNs > since && h.monoNs <= a.monoNs);
        const what = fresh.length ? `new DTLS handshake (${fresh.length} ClientHello${fresh.length > 1 ? 's' : ''}, the last ${fmtMs(CaseContext.elapsedMs(fresh[fresh.length - 1]!.monoNs, a.monoNs))} before it)` : 'same DTLS session';
        return `Register #${i + 1}: ${what}`;
      });
      for (const line of perAttempt) t.note(line);
      const rehandshakes = perAttempt.slice(1).filter((l) => l.includes('new DTLS handshake')).length;
      t.pass(
        `each 4.03 over DTLS was counted as a failed attempt: ${attempts.length} Register attempts; ${rehandshakes} of the ${attempts.length - 1} retries began with a new DTLS handshake (${perAttempt.join('; ')}) — reported only, the spec does not say whether a retry re-handshakes`,
      );
    } finally {
      dtls.server.off('record', onRecord);
    }
  },
);
