/** Cases of the CoAP message layer, in the order a run takes them. */
import type { ConformanceCase } from '../../harness/runner/case.js';

export const COAP_CASES: readonly ConformanceCase[] = [];
