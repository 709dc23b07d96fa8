/*
 * Expected sequence:
 *   device -> BS   CON POST /bs?ep=<endpoint>
 *   BS -> device   Bootstrap-Delete /          2.02 (only the Bootstrap-Server account is left)
 *   BS -> device   Bootstrap-Finish            4.06 Not Acceptable (no LwM2M Server account)
 * The catalog row also accepts a 2.04 followed by a new Bootstrap-Request (the device,
 * holding no Server account, bootstraps again): a Register can go nowhere, and a device
 * that neither rejects the Finish nor bootstraps again is stranded.
 */
import { defineCase } from '../../harness/runner/case.js';
import { exchangesMs } from '../../harness/runner/budget.js';
import { CaseContext } from '../../harness/runner/context.js';
import { describeResult } from '../../harness/servers/operations.js';
import { describeRequest, expectBootstrapRequest, provisionAndStart, startupWindowMs } from '../steps.js';

export default defineCase(
  {
    id: 'TC-BS-12',
    title: 'Bootstrap-Finish with no LwM2M Server account after Bootstrap-Delete / is not accepted',
    area: 'bootstrap',
    requirements: [
      {
        id: 'LWM2M-CORE-BS-13',
        section: 'LwM2M Core 1.2 §6.1.4 (Bootstrap Sequence)',
        quote: 'after a successful bootstrap the LwM2M Client MUST have at least one LwM2M Server Account',
      },
      {
        id: 'LWM2M-CORE-BS-12',
        section: 'LwM2M Core 1.2 §6.1.7.7 (Bootstrap-Finish)',
        quote: 'an inconsistent loaded configuration is answered 4.06 Not Acceptable',
      },
    ],
    // First request, Delete, Finish, then a window for what the device does next.
    budget: (k) => k.firstRequestMs + exchangesMs(k, 2) + k.firstRequestMs,
    tags: ['bootstrap'],
  },
  async (t: CaseContext) => {
    const req = await t.precondition('bootstrap session with everything deleted', async () => {
      await provisionAndStart(t);
      const request = await expectBootstrapRequest(t, startupWindowMs(t), 'device start');
      const del = await t.bootstrapServer.delete(request.remote, '/');
      t.note(describeResult(del));
      if (del.code !== '2.02') t.fail('LWM2M-CORE-BS-13', `Bootstrap-Delete /: expected 2.02, observed ${describeResult(del)}`);
      return request;
    });

    // BS -> device: Bootstrap-Finish with only the Bootstrap-Server account left
    const finish = await t.bootstrapServer.finish(req.remote);
    if (finish.code === '4.06') {
      t.pass(`after Bootstrap-Delete /, ${describeResult(finish)}: the device does not finish bootstrapping without an LwM2M Server account`);
      return;
    }
    if (finish.code !== '2.04') {
      t.fail('LWM2M-CORE-BS-13', `Bootstrap-Finish with no LwM2M Server account: expected 4.06 Not Acceptable, observed ${describeResult(finish)} (Core §6.1.7.7 gives 4.06 for an inconsistent configuration; 4.00 is a bad URI)`);
    }
    // 2.04: acceptable only if the device, holding no Server account, bootstraps again.
    const windowMs = startupWindowMs(t);
    const again = await t.bootstrapServer.expectBootstrapRequest(windowMs, t.signal);
    const registers = t.lwm2mServer.messages.all.filter((m) => m.kind === 'register');
    t.check('LWM2M-CORE-BS-13', 'no Register after a Finish that left no LwM2M Server account', registers.length === 0, {
      expected: 'no Register',
      observed: registers.length ? `Register ${describeRequest(registers[0]!)}` : 'none',
    });
    if (!again) {
      t.fail(
        'LWM2M-CORE-BS-13',
        `Bootstrap-Finish with no LwM2M Server account was answered ${finish.code}, and no new Bootstrap-Request followed within ${windowMs / 1000} s (IXIT startupBoundS + holdOffS): the device claims a successful bootstrap without any LwM2M Server account (expected 4.06)`,
      );
    }
    const afterMs = CaseContext.elapsedMs(finish.response.monoNs, again.monoNs);
    t.note('Bootstrap-Finish answered 2.04 although no LwM2M Server account exists; the catalog row accepts this when a new Bootstrap-Request follows');
    t.pass(`${describeResult(finish)} with no LwM2M Server account, then a new Bootstrap-Request ${describeRequest(again)} ${(afterMs / 1000).toFixed(3)} s later (the catalog row accepts 4.06 or a new bootstrap)`);
  },
);
