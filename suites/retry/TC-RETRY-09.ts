/*
 * Expected sequence (the Bootstrap-Server writes no /1/x/16, so Bootstrap on Registration
 * Failure takes its default, true; Retry Count R, Retry Timer T, Sequence Retry Count 1
 * are written; the server rejects every Register with 4.03):
 *   device -> DM   Register #1 (4.03) [ ... further attempts allowed ... ]
 *   device -> BS   CON POST /bs?ep=<endpoint>     after the first rejection or once the retries are used up
 * Resource 16 says "should re-bootstrap": a missing fallback is an advisory, not a fail.
 */
import { defineCase } from '../../harness/runner/case.js';
import { fixedBudget } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { reject } from '../../harness/servers/policy.js';
import { bootstrapped, describeRequest, expectBootstrapRequest, expectRegister, registrationRetryBudgetMs, serverAccount } from '../steps.js';

export default defineCase(
  {
    id: 'TC-RETRY-09',
    title: 'Bootstrap on Registration Failure absent means true: a rejected registration falls back to bootstrap',
    area: 'retry',
    requirements: [
      { id: 'LWM2M-CORE-RETRY-04', section: 'LwM2M Core 1.2 Table 6.2.1.1-1 (Registration Procedures Default Values)', quote: 'Bootstrap on Registration Failure (/1/x/16) defaults to true' },
      {
        id: 'LWM2M-CORE-RETRY-03',
        section: 'OMA 1.xml res 16 (Bootstrap on Registration Failure)',
        quote: 'if true, the client should re-bootstrap when either registration is explicitly rejected by the LwM2M Server or registration is considered as failing as dictated by the other resource settings',
      },
    ],
    ics: 'server.communication-retry',
    budget: fixedBudget(120_000),
    tags: ['retry', 'bootstrap'],
  },
  async (t: CaseContext) => {
    const settings = { retryCount: t.ixit.retryCount, retryTimerS: t.ixit.retryTimerS, sequenceDelayTimerS: t.ixit.sequenceDelayTimerS, sequenceRetryCount: 1 };
    const account = serverAccount(t, settings);
    t.lwm2mServer.registerPolicy = reject('4.03');
    await bootstrapped(t, account, 'device bootstrapped without /1/x/16');
    const first = await expectRegister(t, t.ixit.startupBoundS * 1000, 'Bootstrap-Finish');

    // Either alternative is allowed, so wait for the later one: every attempt rejected at once, the back-offs run out.
    const windowMs = registrationRetryBudgetMs(settings, 0) * 1.5 + 1000 + t.ixit.holdOffS * 1000;
    const fallback = await expectBootstrapRequest(
      t,
      windowMs,
      `Register #1 ${describeRequest(first)} was rejected 4.03 with /1/x/16 absent (default true; the window covers ${settings.retryCount} attempts with Retry Timer ${settings.retryTimerS} s back-offs, +50 % +1 s)`,
    );
    const attempts = t.lwm2mServer.messages.all.filter((m) => m.kind === 'register' && m.monoNs < fallback.monoNs).length;
    t.pass(
      `with /1/x/16 absent, after ${attempts} rejected Register attempt(s) the device fell back to bootstrap: ${describeRequest(fallback)} ${fmtMs(CaseContext.elapsedMs(first.monoNs, fallback.monoNs))} after Register #1 (${attempts === 1 ? 'after the first rejection' : 'after the retries'})`,
    );
  },
);
