/*
 * Expected sequence (H = 3 s, written by the Bootstrap-Server; the LwM2M Server refuses every Register):
 *   device start   -> BS   CON POST /bs?ep=<endpoint>        no sooner than the provisioned hold-off (IXIT holdOffS)
 *   BS -> device   Discover /, Write /0/b/11 = H (the Bootstrap-Server account's Client Hold Off Time)
 *   BS -> device   Write /0/x, Write /1/y (Bootstrap on Registration Failure, one attempt, one sequence), Finish
 *   device -> DM   Register                                   4.03 Forbidden
 *   device -> BS   CON POST /bs?ep=<endpoint>                 no sooner than H after that 4.03
 * The written Bootstrap on Registration Failure is what makes the device decide to bootstrap
 * again (a SHOULD, TC-RETRY-02): if it never does, the hold-off cannot be seen (inconclusive).
 */
import { defineCase } from '../../harness/runner/case.js';
import { type DeviceTimers, exchangesMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { parsePath } from '../../harness/lwm2m/index.js';
import { reject } from '../../harness/servers/policy.js';
import { describeResult } from '../../harness/servers/operations.js';
import { bootstrapAccountIid, claimedRecordFormats, describeRequest, expectBootstrapRequest, expectRegister, runBootstrapPlan, serverAccount, startupWindowMs } from '../steps.js';

/** Long against the tolerance, short enough for a quick run. */
const WRITTEN_HOLD_OFF_S = 3;
/** The catalog's tolerance for the hold-off (±1 s), on top of which the loop monitor guards jitter. */
const TOLERANCE_MS = 1000;

/**
 * How long after the refused Register the fallback Bootstrap-Request may come: the written
 * hold-off, the device's bound for acting, and one Retry Timer (the device may wait it out
 * before it calls the single attempt failed).
 */
function fallbackWindowMs(k: DeviceTimers): number {
  return WRITTEN_HOLD_OFF_S * 1000 + k.startupMs + k.retryTimerMs;
}

export default defineCase(
  {
    id: 'TC-BS-03',
    title: 'The Bootstrap-Request waits the Client Hold Off Time /0/x/11',
    area: 'bootstrap',
    requirements: [
      {
        id: 'LWM2M-CORE-BS-04',
        section: 'OMA 0.xml res 11 (Client Hold Off Time)',
        quote:
          'The number of seconds to wait before initiating a Client Initiated Bootstrap once the LwM2M Client has determined it should initiate this bootstrap mode. In case client initiated bootstrap is supported by the LwM2M Client, this resource MUST be supported.',
      },
    ],
    ics: 'bootstrap.client-initiated',
    // First request; Discover, Write /0/b/11 and the bootstrap session; the refused Register;
    // then the fallback Bootstrap-Request (the same window the case waits, see windowMsOf).
    budget: (k) => k.firstRequestMs + exchangesMs(k, 8) + k.startupMs + fallbackWindowMs(k),
    floor: (k) => bootstrapAndRegisterFloorMs(k) + WRITTEN_HOLD_OFF_S * 1000,
    tags: ['bootstrap', 'timing'],
  },
  async (t: CaseContext) => {
    const bs = t.bootstrapServer;
    t.lwm2mServer.registerPolicy = reject('4.03');

    // device start -> BS: the provisioned hold-off, when the profile declares one. By hand: it is measured from the start action itself.
    const first = await t.precondition('device starts and sends its Bootstrap-Request', async () => {
      await t.device.provision();
      const startNs = process.hrtime.bigint();
      await t.device.start();
      const req = await expectBootstrapRequest(t, startupWindowMs(t), 'device start');
      return { req, startNs };
    });
    const provisioned = t.ixit.holdOffS;
    const sinceStart = CaseContext.elapsedMs(first.startNs, first.req.monoNs);
    if (provisioned > 0) {
      t.checkTiming({
        req: 'LWM2M-CORE-BS-04',
        name: 'first Bootstrap-Request after start waits the provisioned Client Hold Off Time',
        observedMs: sinceStart,
        span: { fromNs: first.startNs, toNs: first.req.monoNs },
        minMs: provisioned * 1000,
        maxMs: startupWindowMs(t),
        toleranceMs: TOLERANCE_MS,
        window: `IXIT holdOffS ${provisioned} s, measured from the start action (no upper bound judged)`,
      });
    } else {
      t.note(`IXIT holdOffS is 0: the provisioned hold-off is not judged; first Bootstrap-Request ${fmtMs(sinceStart)} after the start action`);
    }

    // BS -> device: find the Bootstrap-Server account and write its hold-off.
    const { formats } = claimedRecordFormats(t);
    const bsIid = await t.precondition('Bootstrap-Discover shows the Bootstrap-Server account and it takes a write of /0/b/11', async () => {
      const discover = await bs.discover(first.req.remote, '/');
      if (discover.code !== '2.05') t.fail('LWM2M-CORE-BS-04', describeResult(discover));
      const iid = bootstrapAccountIid(discover, bs.uri);
      if (iid === undefined) t.fail('LWM2M-CORE-BS-04', `Bootstrap-Discover / does not single out the Bootstrap-Server Security instance: ${(discover.links ?? []).map((l) => `<${l.target}>`).join(',')}`);
      const path = `/0/${iid}/11`;
      const w = await bs.write(first.req.remote, path, [{ path: parsePath(path), value: WRITTEN_HOLD_OFF_S }], formats[0]);
      if (w.code !== '2.04') t.fail('LWM2M-CORE-BS-04', `Bootstrap-Write ${path} = ${WRITTEN_HOLD_OFF_S} s: ${describeResult(w)}`);
      return iid;
    });

    const account = serverAccount(t, { bootstrapOnRegistrationFailure: true, retryCount: 1, sequenceRetryCount: 1, retryTimerS: t.ixit.retryTimerS, sequenceDelayTimerS: t.ixit.sequenceDelayTimerS });
    const register = await t.precondition('bootstrap completes and the device registers', async () => {
      await runBootstrapPlan(t, first.req, account);
      return expectRegister(t, t.timers.startupMs, 'Bootstrap-Finish');
    });
    t.note(`${describeRequest(register)} answered ${register.answeredWith}`);

    // device -> BS: the fallback Bootstrap-Request, H after the device decided to bootstrap.
    const windowMs = fallbackWindowMs(t.timers);
    const again = await bs.expectBootstrapRequest(windowMs, t.signal);
    if (!again) {
      t.inconclusive(
        `no Bootstrap-Request within ${fmtMs(windowMs)} of ${describeRequest(register)} answered 4.03 with Bootstrap on Registration Failure true: the device did not decide to bootstrap again, so the written Client Hold Off Time could not be observed`,
      );
    }
    // The device can only have decided after the last refusal it received.
    const lastRefused = t.lwm2mServer.messages.all.filter((m) => m.kind === 'register' && m.monoNs < again.monoNs).at(-1)!;
    const waitedMs = CaseContext.elapsedMs(lastRefused.monoNs, again.monoNs);
    t.checkTiming({
      req: 'LWM2M-CORE-BS-04',
      name: `Bootstrap-Request after the refused Register waits the written Client Hold Off Time /0/${bsIid}/11`,
      observedMs: waitedMs,
      span: { fromNs: lastRefused.monoNs, toNs: again.monoNs },
      minMs: WRITTEN_HOLD_OFF_S * 1000,
      maxMs: windowMs,
      toleranceMs: TOLERANCE_MS,
      window: `/0/${bsIid}/11 = ${WRITTEN_HOLD_OFF_S} s, measured from the ${lastRefused.answeredWith} to ${describeRequest(lastRefused)} (no upper bound judged)`,
    });
    t.pass(
      `${describeRequest(again)} came ${fmtMs(waitedMs)} after the refused ${describeRequest(lastRefused)}, with /0/${bsIid}/11 = ${WRITTEN_HOLD_OFF_S} s (window: no sooner than ${WRITTEN_HOLD_OFF_S} s, tolerance ${fmtMs(TOLERANCE_MS)})`,
    );
  },
);
