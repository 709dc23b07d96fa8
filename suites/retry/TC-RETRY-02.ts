/*
 * Expected sequence (Bootstrap on Registration Failure written true; the server rejects
 * every Register with 4.03):
 *   device -> DM   Register #1 (4.03) [ ... further attempts allowed ... ]
 *   device -> BS   CON POST /bs?ep=<endpoint>     after the first rejection or once the retries are used up
 * Resource 16 says "should re-bootstrap": a missing fallback is an advisory, not a fail.
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, type DeviceTimers, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { reject } from '../../harness/servers/policy.js';
import { describeRequest, expectBootstrapRequest, expectRegister, registered, serverAccount } from '../steps.js';
import { fallbackWindowMs, writtenSettings, type RetrySettingsMs } from './windows.js';

const ROW = 'LWM2M-CORE-RETRY-03';

const settingsOf = (k: DeviceTimers): RetrySettingsMs => ({ retryCount: k.retryCount, retryTimerMs: k.retryTimerMs, sequenceDelayMs: k.sequenceDelayMs, sequenceRetryCount: k.sequenceRetryCount });
/** Either alternative is allowed, so the window is the later one: every sequence used up (attempts fail at once), plus a startup bound to act. */
const windowOf = (k: DeviceTimers) => fallbackWindowMs(k, settingsOf(k), 0) + k.startupMs;

export default defineCase(
  {
    id: 'TC-RETRY-02',
    title: 'Fallback to bootstrap when registration is rejected and Bootstrap on Registration Failure is true',
    area: 'retry',
    requirements: [
      { id: ROW, section: 'OMA 1.xml res 16 (Bootstrap on Registration Failure)', quote: 'if true, the client should re-bootstrap when registration is explicitly rejected or considered failing as dictated by the other resource settings' },
    ],
    ics: 'server.communication-retry',
    budget: (k) => bootstrapAndRegisterMs(k) + windowOf(k),
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['retry', 'bootstrap'],
  },
  async (t: CaseContext) => {
    const k = t.timers;
    const account = serverAccount(t, { bootstrapOnRegistrationFailure: true, ...writtenSettings(settingsOf(k)) });
    t.lwm2mServer.registerPolicy = reject('4.03');
    await registered(t, account, { until: 'finish', what: 'device bootstrapped with Bootstrap on Registration Failure = true', tool: { feature: 'the bootstrap session', judgedBy: 'TC-BS-*' } });
    const first = await t.precondition('the device registers after Bootstrap-Finish (TC-REG-01 judges it)', () => expectRegister(t, k.startupMs, 'Bootstrap-Finish'));

    const windowMs = windowOf(k);
    const fallback = await expectBootstrapRequest(t, windowMs, `Register #1 ${describeRequest(first)} was rejected 4.03`, t.bootstrapServer, ROW);
    const attempts = t.lwm2mServer.messages.all.filter((m) => m.kind === 'register' && m.monoNs < fallback.monoNs).length;
    t.pass(
      `after ${attempts} rejected Register attempt(s) the device fell back to bootstrap: ${describeRequest(fallback)} ${fmtMs(CaseContext.elapsedMs(first.monoNs, fallback.monoNs))} after Register #1 (${attempts === 1 ? 'after the first rejection' : 'after the retries'})`,
    );
  },
);
