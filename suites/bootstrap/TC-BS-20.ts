/*
 * Expected sequence (LwM2M 1.2 Bootstrap-Pack-Request; the device claims bootstrap.pack-request):
 *   BS arms a pack no device can use: Security /0/2 (the fake LwM2M Server's URI, Short
 *                     Server ID 202) + Server /1/2 (Short Server ID 101): the Server instance
 *                     has no Security instance, the Security instance no Server instance
 *   device -> BS   CON GET /bspack?ep=<endpoint>;  BS -> device  2.05 the pack
 *   device -> DM   nothing: no account, no Register (judged SHOULD: inferred, see the row)
 *   device -> BS   CON POST /bs?ep=<endpoint>  (the fallback: Core 1.2 leaves it open)
 */
import { defineCase } from '../../harness/runner/case.js';
import { exchangesMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { unusableBootstrapPackRecords } from '../../harness/servers/bootstrap-plan.js';
import { SSID, describeRequest, dtlsTrouble, firstOf, provisionAndStart, serverAccount, startupWindowMs } from '../steps.js';

/** The Short Server ID of the pack's Security instance, which no Server instance carries. */
const ORPHAN_SSID = 202;

export default defineCase(
  {
    id: 'TC-BS-20',
    title: 'A Bootstrap-Pack with no consistent account does not lead to a Register, and the device falls back to the Bootstrap-Request',
    area: 'bootstrap',
    requirements: [
      {
        id: 'LWM2M-CORE-BSPACK-03',
        section: 'LwM2M Core 1.2 §6.1.4 and §6.1.7.7, applied to the Bootstrap-Pack (inferred)',
        quote: 'after bootstrap the client MUST have at least one LwM2M Server account; a configuration that gives none is not accepted',
      },
      {
        id: 'LWM2M-CORE-BSPACK-04',
        section: 'LwM2M Core 1.2 §6.1.7 (open: what follows an unusable pack)',
        quote: 'after an unusable Bootstrap-Pack the client falls back to the Bootstrap-Request (implementations do; the text does not say)',
      },
    ],
    ics: 'bootstrap.pack-request',
    // The first request, the pack block by block, then a window for the Register or the fallback.
    budget: (k) => k.firstRequestMs + exchangesMs(k, 16) + k.firstRequestMs,
    floor: (k) => 2 * bootstrapAndRegisterFloorMs(k),
    tags: ['bootstrap', 'registration'],
  },
  async (t: CaseContext) => {
    const account = serverAccount(t);
    t.bootstrapServer.armBootstrapPack(unusableBootstrapPackRecords(account, ORPHAN_SSID));
    t.note(
      `Bootstrap-Pack armed: Security /0/2 for ${account.serverUri} with Short Server ID ${ORPHAN_SSID} and Server /1/2 with Short Server ID ${SSID}: ` +
        'no Server instance has a Security instance, so the pack holds no LwM2M Server account',
    );
    await provisionAndStart(t);

    const windowMs = startupWindowMs(t);
    const first = await t.bootstrapServer.expectBootstrapPackRequest(windowMs, t.signal);
    if (!first) {
      const classic = t.bootstrapServer.bootstrapRequests.all[0];
      t.inconclusive(
        `${classic ? `the device opened bootstrap with ${describeRequest(classic)}` : `no request reached ${t.bootstrapServer.uri} within ${windowMs / 1000} s of start${dtlsTrouble(t.bootstrapServer.dtls)}`}, ` +
          'never asking for the pack (GET /bspack), so what it does with an unusable pack could not be seen; TC-BS-19 judges the Bootstrap-Pack-Request',
      );
    }
    t.note(`Bootstrap-Pack-Request ${describeRequest(first)} answered ${first.answeredWith ?? 'nothing'}`);

    // device -> DM (wrong) or device -> BS (the fallback): whichever comes first, then a look at the other.
    const settleMs = exchangesMs(t.timers, 16) + windowMs;
    let [register, fallback] = await firstOf(
      t,
      (signal) => t.lwm2mServer.expectRegister(settleMs, signal),
      (signal) => t.bootstrapServer.expectBootstrapRequest(settleMs, signal),
    );
    // Whichever arrived first, a Register within the window is the finding: look again without waiting.
    register ??= t.lwm2mServer.messages.all.find((m) => m.kind === 'register' && m.monoNs > first.monoNs);
    fallback ??= t.bootstrapServer.bootstrapRequests.all.find((r) => r.monoNs > first.monoNs);
    if (register) {
      t.fail(
        'LWM2M-CORE-BSPACK-03',
        `after a pack with no consistent account (Server /1/2, ssid ${SSID}, has no Security instance), the device registered at ${t.lwm2mServer.uri} with ${describeRequest(register)} ` +
          `${fmtMs(CaseContext.elapsedMs(first.monoNs, register.monoNs))} after its Bootstrap-Pack-Request: it used a configuration that gives it no LwM2M Server account`,
      );
    }
    t.check('LWM2M-CORE-BSPACK-03', 'no Register with what the unusable pack carried', true, {
      expected: `no Register at ${t.lwm2mServer.uri}`,
      observed: fallback ? `none before the fallback ${describeRequest(fallback)}` : `none within ${fmtMs(settleMs)} of the pack`,
    });
    if (!fallback) {
      const again = t.bootstrapServer.bootstrapPackRequests.all.filter((r) => r.monoNs > first.monoNs && (r.block2?.num ?? 0) === 0).length;
      t.fail(
        'LWM2M-CORE-BSPACK-04',
        `no Bootstrap-Request (POST /bs) reached ${t.bootstrapServer.uri} within ${fmtMs(settleMs)} of the unusable pack` + (again ? ` (the device asked for the pack ${again} more time${again > 1 ? 's' : ''})` : ''),
      );
    }
    t.pass(`the device did not register with the unusable pack and fell back to ${describeRequest(fallback)} ${fmtMs(CaseContext.elapsedMs(first.monoNs, fallback.monoNs))} after its Bootstrap-Pack-Request ${describeRequest(first)}`);
  },
);
