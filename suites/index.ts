/** The suite: every case, area by area, in the order a run takes them. */
import type { ConformanceCase } from '../harness/runner/case.js';
import { BOOTSTRAP_CASES } from './bootstrap/index.js';
import { COAP_CASES } from './coap/index.js';
import { EST_CASES } from './est/index.js';
import { REGISTRATION_CASES } from './registration/index.js';
import { RETRY_CASES } from './retry/index.js';
import { SECURITY_CASES } from './security/index.js';

export const ALL_CASES: readonly ConformanceCase[] = [...BOOTSTRAP_CASES, ...REGISTRATION_CASES, ...RETRY_CASES, ...COAP_CASES, ...SECURITY_CASES, ...EST_CASES];

export function findCase(id: string): ConformanceCase | undefined {
  return ALL_CASES.find((c) => c.meta.id === id);
}
