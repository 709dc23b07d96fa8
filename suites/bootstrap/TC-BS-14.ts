/*
 * Expected sequence (D = Initial Registration Delay Timer written into /1/y/14):
 *   device -> BS   CON POST /bs?ep=<endpoint>
 *   BS -> device   Discover /, Write /0/x (URI = the DM server), Write /1/y (14 = D), Finish
 *   device -> BS   2.05, 2.04, 2.04, 2.04
 *   device -> DM   CON POST /rd?ep=...   no sooner than D after the 2.04 to Finish, at the URI of /0/x/0
 */
import { defineCase } from '../../harness/runner/case.js';
import { exchangesMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { checkEndpointName, describeRequest, registered, serverAccount } from '../steps.js';

/** Long enough to tell from an immediate Register on a loaded machine, short enough for a quick case. */
const INITIAL_DELAY_S = 3;

export default defineCase(
  {
    id: 'TC-BS-14',
    title: 'After Bootstrap-Finish the device registers at the written URI, no sooner than the Initial Registration Delay',
    area: 'bootstrap',
    requirements: [
      {
        id: 'LWM2M-CORE-BS-15',
        section: 'LwM2M Core 1.2 §6.1.4, §6.2; OMA 1.xml res 14 (Initial Registration Delay Timer)',
        quote: 'after a successful Bootstrap-Finish the client registers with each LwM2M Server it was given; the Initial Registration Delay Timer is the delay, in seconds, before registration is attempted for this LwM2M Server',
      },
    ],
    // First request, the bootstrap session, then the Register: the written delay plus the device's bound for acting.
    budget: (k) => k.firstRequestMs + exchangesMs(k, 4) + INITIAL_DELAY_S * 1000 + k.startupMs,
    floor: (k) => bootstrapAndRegisterFloorMs(k) + INITIAL_DELAY_S * 1000,
    tags: ['bootstrap', 'registration', 'timing'],
  },
  async (t: CaseContext) => {
    const account = serverAccount(t, { initialRegistrationDelayS: INITIAL_DELAY_S });
    const plan = await registered(t, account, { until: 'finish', what: 'bootstrap with the Initial Registration Delay written' });

    // device -> DM: Register, not before D
    const delayMs = INITIAL_DELAY_S * 1000;
    const upperMs = delayMs + t.timers.startupMs;
    const toleranceMs = 100;
    const register = await t.lwm2mServer.expectRegister(upperMs + toleranceMs, t.signal);
    if (!register) {
      const misdirected = t.bootstrapServer.otherRequests.all[0];
      t.fail(
        'LWM2M-CORE-BS-15',
        `no Register (POST /rd) reached the LwM2M Server at ${account.serverUri} (the URI written to /0/${plan.securityIid}/0) within ${fmtMs(upperMs)} of the 2.04 to Bootstrap-Finish (Initial Registration Delay ${INITIAL_DELAY_S} s + IXIT startupBoundS ${t.ixit.startupBoundS} s)` +
          (misdirected ? `; the Bootstrap-Server received ${describeRequest(misdirected)} instead` : ''),
      );
    }
    const afterMs = CaseContext.elapsedMs(plan.finishMonoNs, register.monoNs);
    t.checkTiming({
      req: 'LWM2M-CORE-BS-15',
      name: 'first Register after Bootstrap-Finish',
      observedMs: afterMs,
      span: { fromNs: plan.finishMonoNs, toNs: register.monoNs },
      minMs: delayMs,
      maxMs: upperMs,
      window: `Initial Registration Delay Timer /1/${plan.serverIid}/14 = ${INITIAL_DELAY_S} s, at most IXIT startupBoundS ${t.ixit.startupBoundS} s more`,
      toleranceMs,
    });
    checkEndpointName(t, 'LWM2M-CORE-BS-15', 'Register', register);
    t.pass(
      `Register ${describeRequest(register)} reached ${account.serverUri} (the URI written to /0/${plan.securityIid}/0) ${fmtMs(afterMs)} after the 2.04 to Bootstrap-Finish, honouring the Initial Registration Delay of ${INITIAL_DELAY_S} s`,
    );
  },
);
