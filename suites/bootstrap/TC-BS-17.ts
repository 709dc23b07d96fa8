/*
 * Expected sequence (T = Bootstrap-Server Account Timeout written into /0/b/12 of the device's
 * own Bootstrap-Server account; the device claims the Bootstrap-Request Trigger /1/x/9, the
 * only way to see the account is gone):
 *   device -> BS   CON POST /bs?ep=<endpoint>
 *   BS -> device   Discover /, Write /0/b/12 = T, Discover /, Write /0/x, Write /1/y, Finish
 *   device -> DM   CON POST /rd?ep=...                2.01
 *   ... T (+1 s) passes
 *   DM -> device   Execute /1/y/9                     4.xx (no Bootstrap-Server account left), or 2.04
 *   and no Bootstrap-Request within IXIT startupBoundS + holdOffS: the account was purged
 */
import { defineCase } from '../../harness/runner/case.js';
import { exchangesMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { CF, parsePath } from '../../harness/lwm2m/index.js';
import { claims } from '../../harness/profile/ics-registry.js';
import { instancesFromDiscover } from '../../harness/servers/bootstrap-plan.js';
import { describeResult } from '../../harness/servers/operations.js';
import { bootstrapRequested, describeRequest, registered, serverAccount, startupWindowMs, toolPrecondition, usingTool } from '../steps.js';

const ACCOUNT_TIMEOUT_S = 2;

export default defineCase(
  {
    id: 'TC-BS-17',
    title: 'The Bootstrap-Server account is purged once its Bootstrap-Server Account Timeout /0/x/12 has run',
    area: 'bootstrap',
    requirements: [
      {
        id: 'LWM2M-CORE-BS-16',
        section: 'OMA 0.xml res 12 (Bootstrap-Server Account Timeout)',
        quote: 'The LwM2M Client MUST purge the LwM2M Bootstrap-Server Account after the timeout value given by this resource',
      },
    ],
    // First request, Discover, Write /0/b/12 and the session, the Register, the account timeout, the Execute, then the window for a Bootstrap-Request.
    budget: (k) => k.firstRequestMs + exchangesMs(k, 8) + k.startupMs + ACCOUNT_TIMEOUT_S * 1000 + 1000 + k.firstRequestMs,
    floor: (k) => bootstrapAndRegisterFloorMs(k) + ACCOUNT_TIMEOUT_S * 1000 + 1000 + k.firstRequestMs,
    tags: ['bootstrap', 'timing'],
  },
  async (t: CaseContext) => {
    if (!claims(t.profile.ics, 'server.bootstrap-request-trigger')) {
      t.inconclusive('the purge of the Bootstrap-Server account is seen only through the Bootstrap-Request Trigger /1/x/9, which the ICS does not claim (server.bootstrap-request-trigger)');
    }
    const opening = { what: 'device bootstrapped with a Bootstrap-Server Account Timeout, and registered', tool: { feature: 'the bootstrap session and the Register', judgedBy: 'TC-BS-01' } };
    const req = await bootstrapRequested(t, opening);
    const bsIid = await toolPrecondition(t, opening.what, opening.tool, async () => {
      const discover = await t.bootstrapServer.discover(req.remote, '/');
      const bsIids = instancesFromDiscover(discover, 0).filter((iid) => !discover.links?.some((l) => l.target === `/0/${iid}` && l.attributes['ssid'] !== undefined));
      if (bsIids.length !== 1) t.fail('LWM2M-CORE-BS-16', `Bootstrap-Discover / must show exactly one Security instance without ssid (the Bootstrap-Server account): ${describeResult(discover)}`);
      const path = `/0/${bsIids[0]}/12`;
      const write = await t.bootstrapServer.write(req.remote, path, [{ path: parsePath(path), value: ACCOUNT_TIMEOUT_S }], CF.TLV);
      if (write.code !== '2.04') t.fail('LWM2M-CORE-BS-16', `${describeResult(write)}: the device does not take the optional resource /0/x/12`);
      return bsIids[0]!;
    });
    const { register, serverIid } = await registered(t, serverAccount(t), { ...opening, request: req });

    // ... T passes (counted from the Register, which follows the Finish), plus 1 s for the device's timer
    const purgeByNs = register.monoNs + BigInt((ACCOUNT_TIMEOUT_S * 1000 + 1000) * 1e6);
    const waitMs = CaseContext.elapsedMs(process.hrtime.bigint(), purgeByNs);
    const early = waitMs > 0 ? await t.bootstrapServer.expectBootstrapRequest(waitMs, t.signal) : undefined;
    if (early) t.note(`unexpected Bootstrap-Request ${describeRequest(early)} while the account timeout ran`);

    // DM -> device: Execute /1/y/9 — with no Bootstrap-Server account there is nothing to bootstrap from
    const exec = await usingTool(t, { feature: `Execute /1/${serverIid}/9 (Bootstrap-Request Trigger)`, judgedBy: 'TC-BS-15' }, () => t.lwm2mServer.execute(register.remote, `/1/${serverIid}/9`));
    if (exec.code.startsWith('4.')) {
      t.pass(`/0/${bsIid}/12 = ${ACCOUNT_TIMEOUT_S} s written; ${fmtMs(ACCOUNT_TIMEOUT_S * 1000 + 1000)} after the Register, ${describeResult(exec)}: no Bootstrap-Server account left to bootstrap from`);
      return;
    }
    const windowMs = startupWindowMs(t);
    const bs = await t.bootstrapServer.expectBootstrapRequest(windowMs, t.signal);
    t.check('LWM2M-CORE-BS-16', 'no Bootstrap-Request once the Bootstrap-Server account has timed out', bs === undefined, {
      expected: `no POST /bs within ${windowMs / 1000} s (IXIT startupBoundS + holdOffS) of ${describeResult(exec)}: /0/${bsIid} purged ${ACCOUNT_TIMEOUT_S} s after bootstrap`,
      observed: bs ? `Bootstrap-Request ${describeRequest(bs)} ${fmtMs(CaseContext.elapsedMs(exec.response.monoNs, bs.monoNs))} after the Execute` : 'none',
    });
    t.pass(`/0/${bsIid}/12 = ${ACCOUNT_TIMEOUT_S} s written; after it ran, ${describeResult(exec)} and no Bootstrap-Request followed within ${windowMs / 1000} s: the Bootstrap-Server account was purged`);
  },
);
