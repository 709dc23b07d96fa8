/*
 * Expected sequence (any device; no pack is armed, as on a Bootstrap-Server without packs):
 *   device -> BS   CON GET /bspack?ep=<endpoint>     BS -> device  4.04 Not Found
 *   device -> BS   CON POST /bs?ep=<endpoint>        within IXIT startupBoundS + holdOffS
 * A device that opens bootstrap with POST /bs and never asks for a pack has nothing to
 * recover from here: not applicable (TC-BS-01 judges its Bootstrap-Request).
 */
import { defineCase } from '../../harness/runner/case.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { claims } from '../../harness/profile/ics-registry.js';
import { describeRequest, dtlsTrouble, firstOf, packRequestsSeen, provisionAndStart, startupWindowMs } from '../steps.js';
import { bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';

export default defineCase(
  {
    id: 'TC-BS-21',
    title: 'A Bootstrap-Pack-Request answered 4.04 is followed by the Bootstrap-Request',
    area: 'bootstrap',
    requirements: [
      { id: 'GEISA-ADM-BS-01', section: 'GEISA adm/bootstrap.rst', quote: 'GEISA ADM conformant devices SHALL support Client Initiated bootstrapping' },
      {
        id: 'LWM2M-CORE-BSPACK-04',
        section: 'LwM2M Core 1.2 §6.1.7 (open: what follows a refused pack)',
        quote: 'after a refused Bootstrap-Pack-Request the client falls back to the Bootstrap-Request (implementations do; the text does not say)',
      },
    ],
    // The first request, then the fallback in the same window again.
    budget: (k) => 2 * k.firstRequestMs,
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['bootstrap'],
  },
  async (t: CaseContext) => {
    t.bootstrapServer.disarmBootstrapPack();
    await provisionAndStart(t);

    // device -> BS: GET /bspack (answered 4.04) or POST /bs; whichever comes first.
    const windowMs = startupWindowMs(t);
    let [pack, classic] = await firstOf(
      t,
      (signal) => t.bootstrapServer.expectBootstrapPackRequest(windowMs, signal),
      (signal) => t.bootstrapServer.expectBootstrapRequest(windowMs, signal),
    );
    // Arrival times decide the order, not which waiter woke first.
    pack ??= t.bootstrapServer.bootstrapPackRequests.all[0];
    classic ??= t.bootstrapServer.bootstrapRequests.all[0];
    const claimed = claims(t.profile.ics, 'bootstrap.pack-request');
    if (!pack) {
      if (!classic) {
        t.fail(
          'GEISA-ADM-BS-01',
          `neither a Bootstrap-Pack-Request (GET /bspack) nor a Bootstrap-Request (POST /bs) reached ${t.bootstrapServer.uri} within ${windowMs / 1000} s of device start (IXIT startupBoundS + holdOffS)${dtlsTrouble(t.bootstrapServer.dtls)}`,
        );
      }
      t.notApplicable(
        `the device opened bootstrap with the Bootstrap-Request ${describeRequest(classic)} and never asked for a pack, so there was no refused pack to recover from${claimed ? ' (although the ICS claims bootstrap.pack-request: TC-BS-19 judges that)' : ''}`,
      );
    }
    if (classic && classic.monoNs < pack.monoNs) {
      t.notApplicable(`the device opened bootstrap with the Bootstrap-Request ${describeRequest(classic)}; its Bootstrap-Pack-Request ${describeRequest(pack)} came later, so it did not depend on the pack`);
    }
    t.note(`Bootstrap-Pack-Request ${describeRequest(pack)} answered ${pack.answeredWith ?? 'nothing'} (no pack armed${claimed ? '' : '; the ICS does not claim bootstrap.pack-request'})`);

    // device -> BS: POST /bs after the 4.04
    classic ??= await t.bootstrapServer.expectBootstrapRequest(windowMs, t.signal);
    if (!classic) {
      t.fail(
        'GEISA-ADM-BS-01',
        `after its Bootstrap-Pack-Request ${describeRequest(pack)} was answered 4.04, no Bootstrap-Request (POST /bs) reached ${t.bootstrapServer.uri} within ${windowMs / 1000} s (IXIT startupBoundS + holdOffS)` +
          `${packRequestsSeen(t.bootstrapServer)}: the device cannot bootstrap from a Bootstrap-Server that serves no pack`,
      );
    }
    const afterMs = CaseContext.elapsedMs(pack.monoNs, classic.monoNs);
    t.check('GEISA-ADM-BS-01', 'Bootstrap-Request (POST /bs) after the refused Bootstrap-Pack-Request', true, {
      expected: `POST /bs within ${windowMs / 1000} s of the 4.04`,
      observed: `${describeRequest(classic)} ${fmtMs(afterMs)} after the Bootstrap-Pack-Request`,
    });
    t.pass(`the Bootstrap-Pack-Request ${describeRequest(pack)} was answered 4.04 and the device sent the Bootstrap-Request ${describeRequest(classic)} ${fmtMs(afterMs)} later`);
  },
);
