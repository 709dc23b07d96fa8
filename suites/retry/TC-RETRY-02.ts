/*
 * Expected sequence (Bootstrap on Registration Failure written true; the server rejects
 * every Register with 4.03):
 *   device -> DM   Register #1 (4.03) [ ... further attempts allowed ... ]
 *   device -> BS   CON POST /bs?ep=<endpoint>     after the first rejection or once the retries are used up
 * Resource 16 says "should re-bootstrap": a missing fallback is an advisory, not a fail.
 */
import { defineCase } from '../../harness/runner/case.js';
import { fixedBudget } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { reject } from '../../harness/servers/policy.js';
import { bootstrapped, describeRequest, expectBootstrapRequest, expectRegister, serverAccount } from '../steps.js';

export default defineCase(
  {
    id: 'TC-RETRY-02',
    title: 'Fallback to bootstrap when registration is rejected and Bootstrap on Registration Failure is true',
    area: 'retry',
    requirements: [
      { id: 'LWM2M-CORE-RETRY-03', section: 'OMA 1.xml res 16 (Bootstrap on Registration Failure)', quote: 'if true, the client should re-bootstrap when registration is explicitly rejected or considered failing as dictated by the other resource settings' },
    ],
    ics: 'server.communication-retry',
    budget: fixedBudget(120_000),
    tags: ['retry', 'bootstrap'],
  },
  async (t: CaseContext) => {
    const account = serverAccount(t, {
      bootstrapOnRegistrationFailure: true,
      retryCount: t.ixit.retryCount,
      retryTimerS: t.ixit.retryTimerS,
      sequenceDelayTimerS: t.ixit.sequenceDelayTimerS,
      sequenceRetryCount: t.ixit.sequenceRetryCount,
    });
    t.lwm2mServer.registerPolicy = reject('4.03');
    await bootstrapped(t, account, 'device bootstrapped with Bootstrap on Registration Failure = true');
    const first = await expectRegister(t, t.ixit.startupBoundS * 1000, 'Bootstrap-Finish');

    // Either alternative is allowed: so wait for the later one, all retry sequences used up.
    const retriesMs = t.ixit.retryTimerS * 1000 * (2 ** (t.ixit.retryCount - 1) - 1);
    const sequencesMs = (t.ixit.sequenceRetryCount - 1) * (t.ixit.sequenceDelayTimerS * 1000 + retriesMs);
    const windowMs = (retriesMs + sequencesMs) * 1.5 + t.ixit.holdOffS * 1000 + t.ixit.startupBoundS * 1000;
    const fallback = await expectBootstrapRequest(t, windowMs, `Register #1 ${describeRequest(first)} was rejected 4.03`);
    const attempts = t.lwm2mServer.messages.all.filter((m) => m.kind === 'register' && m.monoNs < fallback.monoNs).length;
    t.pass(
      `after ${attempts} rejected Register attempt(s) the device fell back to bootstrap: ${describeRequest(fallback)} ${fmtMs(CaseContext.elapsedMs(first.monoNs, fallback.monoNs))} after Register #1 (${attempts === 1 ? 'after the first rejection' : 'after the retries'})`,
    );
  },
);
