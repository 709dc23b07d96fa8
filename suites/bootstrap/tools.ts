/**
 * Bootstrap-area helpers for exchanges a case only uses to reach what it judges. A device
 * that never acknowledges such an exchange broke the requirement of that exchange, which
 * another case judges; here it leaves the case inconclusive, naming both.
 */
import { CoapTimeoutError } from '../../harness/coap/endpoint.js';
import type { CaseContext } from '../../harness/runner/context.js';

/**
 * Runs `step` (harness requests the case needs, not the one it judges): a request the
 * device never acknowledged makes the case inconclusive naming `feature` and `judgedBy`.
 */
export async function usingTool<T>(t: CaseContext, feature: string, judgedBy: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (e) {
    if (!(e instanceof CoapTimeoutError)) throw e;
    t.inconclusive(`${feature} was not acknowledged (${e.message}), so this case could not reach what it judges; ${judgedBy} judges ${feature}`);
  }
}

/** t.precondition whose step is a tool: an unacknowledged request is inconclusive, as a refused one is. */
export function toolPrecondition<T>(t: CaseContext, what: string, feature: string, judgedBy: string, step: () => Promise<T>): Promise<T> {
  return t.precondition(what, () => usingTool(t, feature, judgedBy, step));
}
