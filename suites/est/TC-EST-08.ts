/*
 * Expected sequence (Certificate mode with EST; the EST server answers the first sen 5.03):
 *   (precondition) Security Mode 4 bootstrap; Finish 2.04
 *   device -> BS   POST /.well-known/est/sen
 *   BS -> device   5.03 Service Unavailable, Max-Age N
 *   device -> BS   POST …/sen again, no sooner than N s later -> 2.04
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { estAccount, estWindowMs, expectEst, mountEst } from './est.js';
import { registered } from '../steps.js';

/** Max-Age of the 5.03: long enough to tell "waited" from "asked again at once", short enough for a quick case. */
const MAX_AGE_S = 4;

export default defineCase(
  {
    id: 'TC-EST-08',
    title: 'An EST 5.03 with Max-Age: the device waits that long before asking again',
    area: 'security',
    requirements: [{ id: 'EST-COAPS-04', section: 'RFC 7252 §5.9.3.4; RFC 9148 §4.7', quote: '5.03 uses the Max-Age Option in place of the Retry-After header field to indicate the number of seconds after which to retry' }],
    ics: 'transport.est',
    budget: (k) => bootstrapAndRegisterMs(k) + 2 * k.startupMs + MAX_AGE_S * 1000,
    floor: (k) => bootstrapAndRegisterFloorMs(k) + MAX_AGE_S * 1000,
    tags: ['security', 'dtls', 'certificate', 'est', 'timing'],
    security: 'certificate',
  },
  async (t: CaseContext) => {
    const est = await mountEst(t);
    est.service.policies.sen = { kind: 'retry-later', maxAgeSeconds: MAX_AGE_S, times: 1 };
    await registered(t, estAccount(t, est), { until: 'finish', what: 'Security Mode 4 bootstrap (TC-EST-01 judges it)' });
    const busy = await t.precondition('a first sen, answered 5.03', () => expectEst(t, est, 'sen', estWindowMs(t), 'Bootstrap-Finish', 'EST-COAPS-04'));
    if (busy.answeredWith !== '5.03') t.inconclusive(`the first sen was answered ${busy.answeredWith} (${busy.refusal ?? ''}), not the armed 5.03`);
    const again = await expectEst(t, est, 'sen', MAX_AGE_S * 1000 + estWindowMs(t), 'the 5.03', 'EST-COAPS-04');
    const gapMs = Number(again.monoNs - (busy.answeredMonoNs ?? busy.completeMonoNs)) / 1e6;
    t.checkTiming({
      req: 'EST-COAPS-04',
      name: 'the sen after a 5.03 comes no sooner than its Max-Age',
      observedMs: gapMs,
      span: { fromNs: busy.answeredMonoNs ?? busy.completeMonoNs, toNs: again.monoNs },
      minMs: MAX_AGE_S * 1000,
      maxMs: MAX_AGE_S * 1000 + estWindowMs(t),
      toleranceMs: 250,
      window: `Max-Age ${MAX_AGE_S} s of the 5.03, up to the IXIT start-up bound after it`,
    });
    t.pass(`the device asked again ${(gapMs / 1000).toFixed(2)} s after the 5.03 with Max-Age ${MAX_AGE_S}; answered ${again.answeredWith}`);
  },
);
