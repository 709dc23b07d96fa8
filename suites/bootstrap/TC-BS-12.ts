/*
 * Expected sequence:
 *   device -> BS   CON POST /bs?ep=<endpoint>
 *   BS -> device   Bootstrap-Delete /          2.02 (only the Bootstrap-Server account is left)
 *   BS -> device   Bootstrap-Finish            4.06 Not Acceptable (no LwM2M Server account)
 * A 2.04 here is a successful bootstrap with no LwM2M Server account, which the MUST of
 * Core §6.1.4 forbids; whatever the device does next (a new Bootstrap-Request, or nothing)
 * does not undo it, so the case judges the Finish answer alone and waits for nothing more.
 */
import { defineCase } from '../../harness/runner/case.js';
import { exchangesMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { describeResult } from '../../harness/servers/operations.js';
import { bootstrapRequested, describeRequest, toolPrecondition } from '../steps.js';

export default defineCase(
  {
    id: 'TC-BS-12',
    title: 'Bootstrap-Finish with no LwM2M Server account after Bootstrap-Delete / is not accepted',
    area: 'bootstrap',
    requirements: [
      {
        id: 'LWM2M-CORE-BS-13',
        section: 'LwM2M Core 1.2 §6.1.4 (Bootstrap Sequence), §6.1.7.7 (Bootstrap-Finish)',
        quote: 'after a successful bootstrap the LwM2M Client MUST have at least one LwM2M Server Account',
      },
      {
        id: 'LWM2M-CORE-BS-12',
        section: 'LwM2M Core 1.2 §6.1.7.7 (Bootstrap-Finish)',
        quote: 'an inconsistent loaded configuration is answered 4.06 Not Acceptable',
      },
    ],
    // First request, the Delete, the Finish: the Finish answer is the verdict.
    budget: (k) => k.firstRequestMs + exchangesMs(k, 2),
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['bootstrap'],
  },
  async (t: CaseContext) => {
    const bs = t.bootstrapServer;
    const req = await bootstrapRequested(t);
    await toolPrecondition(t, 'bootstrap session with everything deleted', { feature: 'Bootstrap-Delete /', judgedBy: 'TC-BS-10' }, async () => {
      const del = await bs.delete(req.remote, '/');
      if (del.code !== '2.02') t.fail('LWM2M-CORE-BS-13', `Bootstrap-Delete /: expected 2.02, observed ${describeResult(del)} (TC-BS-10 judges Bootstrap-Delete)`);
    });

    // BS -> device: Bootstrap-Finish with only the Bootstrap-Server account left
    const finish = await bs.finish(req.remote);
    if (finish.code === '4.06') {
      t.pass(`after Bootstrap-Delete /, ${describeResult(finish)}: the device does not finish bootstrapping without an LwM2M Server account`);
      return;
    }
    if (finish.code === '2.04') {
      // Evidence only: what the device already did after its 2.04 changes nothing.
      const next = [
        ...bs.bootstrapRequests.all.filter((r) => r.monoNs > finish.response.monoNs).map((r) => `Bootstrap-Request ${describeRequest(r)}`),
        ...t.lwm2mServer.messages.all.filter((m) => m.kind === 'register').map((m) => `Register ${describeRequest(m)}`),
      ];
      t.fail(
        'LWM2M-CORE-BS-13',
        `Bootstrap-Finish with no LwM2M Server account (only the Bootstrap-Server account left after Bootstrap-Delete /): expected 4.06 Not Acceptable, observed ${describeResult(finish)}: ` +
          `the device reported a successful bootstrap without any LwM2M Server account${next.length ? ` (then ${next.join('; ')}, which does not undo the 2.04)` : ''}`,
      );
    }
    // Refused, but not with the code Core gives an inconsistent configuration.
    t.check('LWM2M-CORE-BS-12', 'Bootstrap-Finish with no LwM2M Server account is answered 4.06 Not Acceptable', false, {
      expected: '4.06 (Core §6.1.7.7 gives 4.06 for an inconsistent configuration; 4.00 is a bad request)',
      observed: describeResult(finish),
    });
    t.pass(`after Bootstrap-Delete /, ${describeResult(finish)}`);
  },
);
