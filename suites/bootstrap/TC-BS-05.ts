/*
 * Expected sequence:
 *   device -> BS   CON POST /bs?ep=<endpoint>                              2.04
 *   BS -> device   Discover /, Write /0/x (ssid 101), Write /1/y (ssid 101, lifetime L)
 *   BS -> device   GET /1 (Bootstrap-Read, Accept <a claimed format>)  -> 2.05 with /1/y/0 = 101, /1/y/1 = L
 *   BS -> device   GET /0 (Bootstrap-Read of Security)                  -> 4.05 (4.00 or 4.01 accepted), no payload
 *   BS -> device   Bootstrap-Finish                                     -> 2.04
 */
import { defineCase } from '../../harness/runner/case.js';
import { exchangesMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { contentFormatName, formatPath } from '../../harness/lwm2m/index.js';
import { describeResult } from '../../harness/servers/operations.js';
import { bootstrapWrites, claimedRecordFormats, serverAccount } from '../steps.js';

const REJECTIONS = ['4.05', '4.00', '4.01'];

export default defineCase(
  {
    id: 'TC-BS-05',
    title: 'Bootstrap-Read answers the Server object and refuses the Security object',
    area: 'bootstrap',
    requirements: [
      {
        id: 'LWM2M-CORE-BS-06',
        section: 'LwM2M Core 1.2 §6.1.7.4 (Bootstrap-Read)',
        quote: 'Bootstrap-Read is allowed only on the Server object /1 and the Access Control object /2 (object or instance) → 2.05; other targets are rejected (4.05)',
      },
    ],
    // First request, then Discover and two writes, Bootstrap-Read /1 and /0, Finish.
    budget: (k) => k.firstRequestMs + exchangesMs(k, 6),
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['bootstrap', 'read'],
  },
  async (t: CaseContext) => {
    const account = serverAccount(t);
    const { formats } = claimedRecordFormats(t);
    const accept = formats[0]!;
    const { request: req, plan } = await bootstrapWrites(t, account, { what: 'device bootstraps up to the writes of a Security and a Server instance', format: accept });
    const bs = t.bootstrapServer;

    // BS -> device: Bootstrap-Read /1 -> 2.05 with what was written.
    const server = await bs.read(req.remote, '/1', accept);
    t.note(`Bootstrap-Read /1 asked for ${contentFormatName(accept)} (Accept)`);
    t.check('LWM2M-CORE-BS-06', 'Bootstrap-Read /1 answered 2.05 Content', server.code === '2.05', { expected: '2.05', observed: describeResult(server) });
    if (server.code === '2.05') {
      if (server.payloadError) t.fail('LWM2M-CORE-BS-06', `Bootstrap-Read /1 answered 2.05 but its payload does not decode: ${server.payloadError}`);
      const value = (rid: number) => server.records?.find((r) => r.path.objectId === 1 && r.path.instanceId === plan.serverIid && r.path.resourceId === rid)?.value;
      const seen = (server.records ?? []).map((r) => `${formatPath(r.path)}=${String(r.value)}`).join(', ') || 'no records';
      t.check('LWM2M-CORE-BS-06', `Bootstrap-Read /1 returns /1/${plan.serverIid}/0 (Short Server ID) as written`, Number(value(0)) === account.ssid, { expected: `/1/${plan.serverIid}/0=${account.ssid}`, observed: seen });
      t.check('LWM2M-CORE-BS-06', `Bootstrap-Read /1 returns /1/${plan.serverIid}/1 (Lifetime) as written`, Number(value(1)) === account.lifetimeS, { expected: `/1/${plan.serverIid}/1=${account.lifetimeS}`, observed: seen });
    }

    // BS -> device: Bootstrap-Read /0 -> refused; Security holds keys.
    const security = await bs.read(req.remote, '/0', accept);
    const leaked = (security.records ?? []).map((r) => formatPath(r.path));
    if (security.code === '2.05') {
      t.check('LWM2M-CORE-BS-06', 'Bootstrap-Read /0 (Security) is refused', false, {
        expected: `one of ${REJECTIONS.join(', ')}`,
        observed: `2.05 Content with ${leaked.length ? `${leaked.length} Security resources (${leaked.slice(0, 6).join(', ')}${leaked.length > 6 ? ', ...' : ''})` : `${security.response.msg.payload.length} payload bytes`}`,
      });
    } else {
      t.check('LWM2M-CORE-BS-06', 'Bootstrap-Read /0 (Security) is refused with an error code', security.code.startsWith('4.') || security.code.startsWith('5.'), {
        expected: `one of ${REJECTIONS.join(', ')}`,
        observed: describeResult(security),
      });
      t.check('LWM2M-CORE-BS-06', 'the refusal of Bootstrap-Read /0 carries no Security resources', leaked.length === 0, { expected: 'no records', observed: leaked.length ? leaked.join(', ') : 'none' });
      if (!REJECTIONS.includes(security.code)) {
        t.advisory(`Bootstrap-Read /0 was refused with ${security.code}, where ${REJECTIONS.join(', ')} is expected (4.05 Method Not Allowed preferred; catalog LWM2M-CORE-BS-06)`);
      }
    }

    await bs.finish(req.remote);
    t.pass(`Bootstrap-Read /1 answered 2.05 with /1/${plan.serverIid} as written; Bootstrap-Read /0 was refused with ${security.code}${security.code === '4.05' ? '' : ' (4.05 preferred, accepted)'}`);
  },
);
