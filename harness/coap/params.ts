/**
 * CoAP transmission parameters (RFC 7252 §4.8) and the timers derived from them
 * (§4.8.2). The reference device and real devices may use other values, declared in the
 * profile's IXIT; every timing window a case waits for is computed here from them.
 */

export interface TransmissionParams {
  ackTimeoutMs: number;
  ackRandomFactor: number;
  maxRetransmit: number;
  nstart: number;
}

export const RFC7252_DEFAULTS: TransmissionParams = {
  ackTimeoutMs: 2000,
  ackRandomFactor: 1.5,
  maxRetransmit: 4,
  nstart: 1,
};

const MAX_LATENCY_MS = 100_000;
const PROCESSING_DELAY_MS_DEFAULT = 2000;

/** Time from the first transmission of a CON to its last retransmission. */
export function maxTransmitSpanMs(p: TransmissionParams): number {
  return p.ackTimeoutMs * (2 ** p.maxRetransmit - 1) * p.ackRandomFactor;
}

/** Time from the first transmission of a CON until the sender gives up waiting for an ACK. */
export function maxTransmitWaitMs(p: TransmissionParams): number {
  return p.ackTimeoutMs * (2 ** (p.maxRetransmit + 1) - 1) * p.ackRandomFactor;
}

/**
 * EXCHANGE_LIFETIME. MAX_LATENCY is a property of the network, not of the device, so it
 * stays at RFC 7252's 100 s unless the caller (a test on loopback) passes a smaller one.
 */
export function exchangeLifetimeMs(p: TransmissionParams, maxLatencyMs = MAX_LATENCY_MS): number {
  const processingDelay = Math.min(p.ackTimeoutMs, PROCESSING_DELAY_MS_DEFAULT);
  return maxTransmitSpanMs(p) + 2 * maxLatencyMs + processingDelay;
}

/** Timeouts between successive transmissions: initial in [T, T*factor], doubling (§4.2). */
export function retransmitTimeoutsMs(p: TransmissionParams, random: () => number = Math.random): number[] {
  const first = p.ackTimeoutMs * (1 + (p.ackRandomFactor - 1) * random());
  return Array.from({ length: p.maxRetransmit + 1 }, (_v, i) => first * 2 ** i);
}
