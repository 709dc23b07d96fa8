/**
 * Case budgets. No fixed number decides how long a case may run: each case declares its
 * budget as a function of the device's own timers (the profile's IXIT), so a device whose
 * timers are long (spec-default CoAP parameters, a 120 s startup bound) gets the time it
 * is entitled to. The same timers are what the case's waits are computed from
 * (CaseContext.timers), so waits and budget cannot drift apart.
 */
import { estIxit, type Ixit } from '../profile/load.js';
import { exchangeLifetimeMs, maxTransmitSpanMs, maxTransmitWaitMs, type TransmissionParams } from '../coap/params.js';

/** Every device timer a case may wait on, in ms, from the IXIT. */
export interface DeviceTimers {
  /** IXIT startupBoundS: how long the device may take to speak or to act on what it was told. */
  startupMs: number;
  /** IXIT holdOffS: the Client Hold Off Time before a Client-Initiated Bootstrap. */
  holdOffMs: number;
  /** startupMs + holdOffMs: the window for a started device's first Bootstrap-Request. */
  firstRequestMs: number;
  /** RFC 7252 §4.8.2 with the IXIT CoAP parameters. */
  maxTransmitSpanMs: number;
  maxTransmitWaitMs: number;
  exchangeLifetimeMs: number;
  /** IXIT lifetimeS, the registration lifetime the Bootstrap-Server writes. */
  lifetimeMs: number;
  retryTimerMs: number;
  retryCount: number;
  sequenceDelayMs: number;
  sequenceRetryCount: number;
  /** IXIT est.certificateLifetimeS: the short-lived certificate a re-enrollment case issues. */
  estCertificateLifetimeMs: number;
  /** The CoAP parameters themselves, for waits that follow the retransmission schedule. */
  coap: CoapParams;
}

/** The device's CoAP transmission parameters (RFC 7252 §4.8) as the IXIT declares them. */
export interface CoapParams extends TransmissionParams {
  maxLatencyMs: number;
  /** MAX_TRANSMIT_WAIT (RFC 7252 §4.8.2): when the device gives up on a CON. */
  maxTransmitWaitMs: number;
  /** "ACK_TIMEOUT 2 s, ACK_RANDOM_FACTOR 1.5, MAX_RETRANSMIT 4 (IXIT ixit.coap)", for reasons. */
  text: string;
}

const RFC_MAX_LATENCY_S = 100;

export function deviceTimers(ixit: Ixit): DeviceTimers {
  const c = ixit.coap;
  const params = { ackTimeoutMs: c.ackTimeoutS * 1000, ackRandomFactor: c.ackRandomFactor, maxRetransmit: c.maxRetransmit, nstart: c.nstart };
  const coap: CoapParams = {
    ...params,
    maxLatencyMs: (c.maxLatencyS ?? RFC_MAX_LATENCY_S) * 1000,
    maxTransmitWaitMs: maxTransmitWaitMs(params),
    text: `ACK_TIMEOUT ${c.ackTimeoutS} s, ACK_RANDOM_FACTOR ${c.ackRandomFactor}, MAX_RETRANSMIT ${c.maxRetransmit} (IXIT ixit.coap)`,
  };
  return {
    startupMs: ixit.startupBoundS * 1000,
    holdOffMs: ixit.holdOffS * 1000,
    firstRequestMs: (ixit.startupBoundS + ixit.holdOffS) * 1000,
    maxTransmitSpanMs: maxTransmitSpanMs(coap),
    maxTransmitWaitMs: maxTransmitWaitMs(coap),
    exchangeLifetimeMs: exchangeLifetimeMs(coap, coap.maxLatencyMs),
    lifetimeMs: ixit.lifetimeS * 1000,
    retryTimerMs: ixit.retryTimerS * 1000,
    retryCount: ixit.retryCount,
    sequenceDelayMs: ixit.sequenceDelayTimerS * 1000,
    sequenceRetryCount: ixit.sequenceRetryCount,
    estCertificateLifetimeMs: estIxit(ixit).certificateLifetimeS * 1000,
    coap,
  };
}

/** A case's budget: what its waits add up to on the longest path, from the device's timers. */
export type Budget = (k: DeviceTimers) => number;

/**
 * Added to every budget (5 s + 10 %): harness start-up (servers, PKI, the adapter's actions) and
 * scheduling on a busy machine. Manual actions do not count: the budget is paused while
 * the operator acts.
 */
export function budgetMarginMs(budgetMs: number): number {
  return 5_000 + budgetMs * 0.1;
}

/** The bound the runner enforces for a case under a profile: its budget plus the margin. */
export function caseBudgetMs(budget: Budget, ixit: Ixit): number {
  const b = budget(deviceTimers(ixit));
  return Math.ceil(b + budgetMarginMs(b));
}

/**
 * One CON exchange of the harness with the device: answered within the device's own
 * bound for acting, or, for the one the device never answers, given up after
 * MAX_TRANSMIT_WAIT (a case stops at the first such).
 */
export function exchangesMs(k: DeviceTimers, exchanges: number): number {
  return k.maxTransmitWaitMs + exchanges * k.coap.ackTimeoutMs * k.coap.ackRandomFactor;
}

/**
 * The common opening of a case: the device starts and asks for bootstrap (startup +
 * hold-off), the Bootstrap-Server runs a session of up to `exchanges` CON exchanges,
 * and the device registers within the startup bound.
 */
export function bootstrapAndRegisterMs(k: DeviceTimers, exchanges = 8): number {
  return k.firstRequestMs + exchangesMs(k, exchanges) + k.startupMs;
}

/**
 * A case's floor: the least time a device that does everything the case checks (its SHOULDs
 * included) lets the case finish in, from the timers the case writes or waits out. A lower
 * bound, where the budget is an upper one: the runner orders parallel cases by it, and the
 * bench divides the suite's wall time by it.
 */
export type Floor = (k: DeviceTimers) => number;

/**
 * The floor of the common opening (bootstrapAndRegisterMs): a device may start, take the
 * session and register at once, but it waits its Client Hold Off Time before the
 * Bootstrap-Request.
 */
export function bootstrapAndRegisterFloorMs(k: DeviceTimers): number {
  return k.holdOffMs;
}

/**
 * The earliest a device gives up on a CON nobody acknowledges: every timeout at its least
 * (ACK_RANDOM_FACTOR 1), ACK_TIMEOUT × (2^(MAX_RETRANSMIT+1) − 1), as MAX_TRANSMIT_WAIT is
 * the latest.
 */
export function leastGiveUpMs(k: DeviceTimers): number {
  return k.coap.ackTimeoutMs * (2 ** (k.coap.maxRetransmit + 1) - 1);
}

/** The back-offs of `attempts` registration attempts each rejected at once: Retry Timer × 2^(n−1) after attempt n, the last excepted. */
export function retryBackoffsMs(retryTimerMs: number, attempts: number): number {
  return retryTimerMs * (2 ** Math.max(0, attempts - 1) - 1);
}

/**
 * The earliest heartbeat Update of a device that keeps GEISA's "should at 50 % of the
 * lifetime" (TC-REG-02 accepts 40–60 %): 40 % of the lifetime written.
 */
export function heartbeatFloorMs(lifetimeMs: number): number {
  return lifetimeMs * 0.4;
}
