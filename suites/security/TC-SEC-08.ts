/*
 * Expected sequence (both servers coaps:// with PSK; the Bootstrap-Server writes for the
 * LwM2M Server a PSK identity the server knows with a key it does not hold, and Bootstrap
 * on Registration Failure true, Retry Count R = 1, Retry Timer T, Sequence Retry Count 1):
 *   (precondition) DTLS-PSK bootstrap completes with Finish 2.04
 *   device -> DM   DTLS handshake with the written identity: fails (the keys differ)
 *   device -> BS   CON POST /bs?ep=<endpoint>   the failed handshake counted as a failed Register
 *                  attempt: within R × MAX_TRANSMIT_WAIT + T × (2^R − 1) (IXIT CoAP), +50 % +1 s
 *   BS -> device   Bootstrap-Read /1/x/11 (TLS-DTLS Alert Code, optional resource): reported only
 * Catalog row LWM2M-TRANS-DTLS-06 is inferred and resource 16 says "should": judged at SHOULD level.
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, exchangesMs, type DeviceTimers, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { describeRequest, dtlsTrouble, registered, registrationRetryBudgetMs, serverAccount } from '../steps.js';
import { fallbackWindowMs, writtenSettings, type RetrySettingsMs } from '../retry/windows.js';

const RETRY_COUNT = 1;
const COUNTS_AS_FAILURE = 'LWM2M-TRANS-DTLS-06';

const settingsOf = (k: DeviceTimers): RetrySettingsMs => ({ retryCount: RETRY_COUNT, retryTimerMs: k.retryTimerMs, sequenceDelayMs: k.sequenceDelayMs, sequenceRetryCount: 1 });
/** A failed handshake is one failed attempt; it is given MAX_TRANSMIT_WAIT, as a CoAP attempt would be. */
const windowOf = (k: DeviceTimers) => fallbackWindowMs(k, settingsOf(k), k.maxTransmitWaitMs);

export default defineCase(
  {
    id: 'TC-SEC-08',
    title: 'A DTLS handshake failure toward the LwM2M Server counts as a registration failure: fallback to bootstrap',
    area: 'security',
    requirements: [
      {
        id: COUNTS_AS_FAILURE,
        section: 'OMA 1.xml res 11 (TLS-DTLS Alert Code), res 16; Anjay DtlsTlsConnectionFailedSetsAlertCode',
        quote: 'a DTLS handshake failure toward the LwM2M Server counts as a failed registration; /1/x/11, if defined, holds the most recent alert received from that server',
      },
      {
        id: 'LWM2M-CORE-RETRY-03',
        section: 'OMA 1.xml res 16 (Bootstrap on Registration Failure)',
        quote: 'the client should re-bootstrap when registration is considered as failing as dictated by the other resource settings',
      },
    ],
    ics: 'transport.dtls-psk',
    // Bootstrap, the fallback window, then one Bootstrap-Read of /1/x/11 (MAX_TRANSMIT_WAIT if unanswered).
    budget: (k) => bootstrapAndRegisterMs(k) - k.startupMs + windowOf(k) + exchangesMs(k, 1),
    floor: (k) => bootstrapAndRegisterFloorMs(k) + k.holdOffMs,
    tags: ['security', 'dtls', 'retry', 'negative'],
    security: 'psk',
  },
  async (t: CaseContext) => {
    const written = t.freshServerPsk();
    // The server knows the identity but holds another key: the handshake fails at Finished, as with a mistyped PSK.
    const serverSide = t.freshServerPsk();
    const security = t.lwm2mServer.security;
    if (security?.mode !== 'psk') throw new Error('TC-SEC-08 needs the PSK-mode LwM2M Server');
    security.table.set(written.identity, serverSide.key);
    const k = t.timers;
    const settings = writtenSettings(settingsOf(k));
    const account = serverAccount(t, { psk: written, bootstrapOnRegistrationFailure: true, ...settings });
    const plan = await registered(t, account, {
      until: 'finish',
      what: 'DTLS-PSK bootstrap completed with a PSK the LwM2M Server does not accept',
      tool: { feature: 'the bootstrap session over DTLS', judgedBy: 'TC-SEC-01' },
    });

    const dtls = t.lwm2mServer.dtls!;
    const mtwMs = k.maxTransmitWaitMs;
    const budgetMs = registrationRetryBudgetMs(settings, mtwMs);
    const windowMs = windowOf(k);
    const fallback = await t.bootstrapServer.expectBootstrapRequest(windowMs, t.signal);
    const failures = dtls.handshakeFailures.all.filter((f) => f.pskIdentity === written.identity);
    const register = t.lwm2mServer.messages.all.find((m) => m.kind === 'register');
    // The server cannot complete a handshake with a key it does not hold: a Register means the harness is broken, not the device.
    if (register) throw new Error(`a Register reached the LwM2M Server (${describeRequest(register)}) although its PSK for "${written.identity}" is not the one written: the harness's key setup did not hold`);
    if (!fallback) {
      if (failures.length === 0 && dtls.handshakes.all.length === 0) {
        t.inconclusive(`the device never started a DTLS handshake with the LwM2M Server within ${fmtMs(windowMs)} of Bootstrap-Finish, so how it counts a handshake failure was not observed${dtlsTrouble(dtls)}`);
      }
      // Both rows are SHOULD: the handshake failure counted as a registration failure (DTLS-06), and "should re-bootstrap" (res 16).
      t.fail(
        COUNTS_AS_FAILURE,
        `after ${failures.length} failed DTLS handshake(s) with the LwM2M Server (PSK identity "${written.identity}"), no Bootstrap-Request within ${fmtMs(windowMs)} of Bootstrap-Finish: retry budget ${RETRY_COUNT} × MAX_TRANSMIT_WAIT ${fmtMs(mtwMs)} + Retry Timer back-off, +50 % +1 s, Bootstrap on Registration Failure true${dtlsTrouble(dtls)}`,
      );
    }
    if (failures.length === 0) {
      t.inconclusive(`the device went back to bootstrap (${describeRequest(fallback)}) without a failed DTLS handshake with the LwM2M Server on record, so this run shows nothing about how it counts one${dtlsTrouble(dtls)}`);
    }
    const afterMs = CaseContext.elapsedMs(plan.finishMonoNs, fallback.monoNs);
    const firstFailure = failures[0];
    t.note(`${failures.length} failed DTLS handshake(s) with the LwM2M Server before the fallback${firstFailure ? `, the first: ${dtls.explainFailure(firstFailure).outcome}` : ''}`);

    // Optional resource: report what the device says the last alert was, never judge it.
    try {
      const read = await t.bootstrapServer.read(fallback.remote, `/1/${plan.serverIid}/11`);
      if (read.records?.length) t.note(`/1/${plan.serverIid}/11 (optional, reported only): TLS-DTLS Alert Code ${String(read.records[0]!.value)}`);
    } catch (e) {
      t.note(`Bootstrap-Read /1/${plan.serverIid}/11 not answered: ${(e as Error).message} (optional resource, reported only)`);
    }
    t.pass(
      `the DTLS handshake with the LwM2M Server failed ${failures.length} time(s) and counted as a registration failure: ${fmtMs(afterMs)} after Bootstrap-Finish (retry budget ${fmtMs(budgetMs)}, window ${fmtMs(windowMs)}) the device fell back: ${describeRequest(fallback)}`,
    );
  },
);
