/**
 * Windows and budgets of the Registration-interface cases, from the device's own timers
 * (harness/runner/budget.ts), so that what a case waits and the budget it declares are
 * computed by the same arithmetic and cannot drift apart.
 */
import { bootstrapAndRegisterMs, exchangesMs, type DeviceTimers } from '../../harness/runner/budget.js';
import { CoapTimeoutError } from '../../harness/coap/endpoint.js';
import type { CaseContext } from '../../harness/runner/context.js';

/** Scheduling slack on both ends of a window that is a registration lifetime (as steps.lifetimeToleranceMs). */
export function lifetimeSlackMs(lifetimeMs: number): number {
  return Math.max(200, lifetimeMs * 0.02);
}

/** The precondition every registration case shares: start, bootstrap (Discover, two Writes, Finish), first Register. */
export function registeredMs(k: DeviceTimers): number {
  return bootstrapAndRegisterMs(k, 4);
}

/** A lifetime window as the cases wait it: the lifetime plus its slack. */
export function lifetimeWindowMs(k: DeviceTimers): number {
  return k.lifetimeMs + lifetimeSlackMs(k.lifetimeMs);
}

/** One request of the harness the case uses as a tool, answered, or given up after MAX_TRANSMIT_WAIT. */
export function toolRequestMs(k: DeviceTimers): number {
  return exchangesMs(k, 1);
}

/**
 * Runs a request the case only uses as a tool (a Disable, a DM Write): when the device
 * never acknowledges it, the case cannot reach what it judges, so it ends inconclusive,
 * naming the feature and the case that judges it, rather than failing its own row.
 */
export async function toolRequest<T>(t: CaseContext, feature: string, judgedBy: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (e) {
    if (!(e instanceof CoapTimeoutError)) throw e;
    t.inconclusive(`the device did not answer ${feature} (${e.message}), which this case only uses to get to what it judges; ${judgedBy} judges that`);
  }
}
