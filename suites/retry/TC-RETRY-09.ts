/*
 * Expected sequence (the Bootstrap-Server writes no /1/x/16, so Bootstrap on Registration
 * Failure takes its default, true; Retry Count R, Retry Timer T, Sequence Retry Count 1
 * are written; the server rejects every Register with 4.03):
 *   device -> DM   Register #1 (4.03) [ ... further attempts allowed ... ]
 *   device -> BS   CON POST /bs?ep=<endpoint>     after the first rejection or once the retries are used up
 * The default (Table 6.2.1.1-1, a MUST) is only visible through what "true" asks of the
 * client, and resource 16 says "should re-bootstrap": a device that takes the default as
 * false and one that takes it as true but does not re-bootstrap look the same on the wire.
 * So the one check is judged at LWM2M-CORE-RETRY-03 (SHOULD): a missing fallback is an
 * advisory, not a fail, and the case does not cite the MUST row of the defaults
 * (LWM2M-CORE-RETRY-04, judged by TC-RETRY-07 on the Retry Timer default it can observe).
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, type DeviceTimers, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { reject } from '../../harness/servers/policy.js';
import { describeRequest, expectBootstrapRequest, expectRegister, registered, serverAccount } from '../steps.js';
import { fallbackWindowMs, writtenSettings, type RetrySettingsMs } from './windows.js';

const ROW = 'LWM2M-CORE-RETRY-03';

const settingsOf = (k: DeviceTimers): RetrySettingsMs => ({ retryCount: k.retryCount, retryTimerMs: k.retryTimerMs, sequenceDelayMs: k.sequenceDelayMs, sequenceRetryCount: 1 });
/** Either alternative is allowed, so wait for the later one: every attempt rejected at once, the back-offs run out. */
const windowOf = (k: DeviceTimers) => fallbackWindowMs(k, settingsOf(k), 0);

export default defineCase(
  {
    id: 'TC-RETRY-09',
    title: 'Bootstrap on Registration Failure absent means true: a rejected registration falls back to bootstrap',
    area: 'retry',
    requirements: [
      {
        id: ROW,
        section: 'OMA 1.xml res 16 (Bootstrap on Registration Failure); default true by LwM2M Core 1.2 Table 6.2.1.1-1',
        quote: 'if true, the client should re-bootstrap when either registration is explicitly rejected by the LwM2M Server or registration is considered as failing as dictated by the other resource settings',
      },
    ],
    ics: 'server.communication-retry',
    budget: (k) => bootstrapAndRegisterMs(k) + windowOf(k),
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['retry', 'bootstrap'],
  },
  async (t: CaseContext) => {
    const k = t.timers;
    const settings = writtenSettings(settingsOf(k));
    const account = serverAccount(t, settings);
    t.lwm2mServer.registerPolicy = reject('4.03');
    await registered(t, account, { until: 'finish', what: 'device bootstrapped without /1/x/16', tool: { feature: 'the bootstrap session', judgedBy: 'TC-BS-*' } });
    const first = await t.precondition('the device registers after Bootstrap-Finish (TC-REG-01 judges it)', () => expectRegister(t, k.startupMs, 'Bootstrap-Finish'));

    const windowMs = windowOf(k);
    const fallback = await expectBootstrapRequest(
      t,
      windowMs,
      `Register #1 ${describeRequest(first)} was rejected 4.03 with /1/x/16 absent (default true; the window covers ${settings.retryCount} attempts with Retry Timer ${settings.retryTimerS} s back-offs, +50 % +1 s)`,
      t.bootstrapServer,
      ROW,
    );
    const attempts = t.lwm2mServer.messages.all.filter((m) => m.kind === 'register' && m.monoNs < fallback.monoNs).length;
    t.pass(
      `with /1/x/16 absent, after ${attempts} rejected Register attempt(s) the device fell back to bootstrap: ${describeRequest(fallback)} ${fmtMs(CaseContext.elapsedMs(first.monoNs, fallback.monoNs))} after Register #1 (${attempts === 1 ? 'after the first rejection' : 'after the retries'})`,
    );
  },
);
