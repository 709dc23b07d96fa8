/*
 * Expected sequence:
 *   device -> BS   CON POST /bs?ep=<endpoint>
 *   BS -> device   Bootstrap-Discover /        2.05: the Bootstrap-Server account </0/b> (no ssid), </3/0>, ...
 *   BS -> device   Bootstrap-Write /0/x, /1/y  2.04, 2.04 (a DM account, so the Delete has something to remove)
 *   BS -> device   Bootstrap-Delete /          2.02
 *   BS -> device   Bootstrap-Discover /        2.05: </0/b> and </3/0> still there; no other /0 instance, no /1 instance
 */
import { defineCase } from '../../harness/runner/case.js';
import { exchangesMs } from '../../harness/runner/budget.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { instancesFromDiscover, provisionServerAccount } from '../../harness/servers/bootstrap-plan.js';
import { describeResult, type OperationResult } from '../../harness/servers/operations.js';
import { expectBootstrapRequest, provisionAndStart, serverAccount, startupWindowMs } from '../steps.js';

/** Security instances a Bootstrap-Discover shows without ssid: the Bootstrap-Server account (Core §6.1.7.3). */
function bootstrapSecurityInstances(discover: OperationResult): number[] {
  return instancesFromDiscover(discover, 0).filter((iid) => !discover.links!.some((l) => l.target === `/0/${iid}` && l.attributes['ssid'] !== undefined));
}

function linkList(discover: OperationResult): string {
  return (discover.links ?? []).map((l) => `<${l.target}>`).join(',') || discover.text || '(empty)';
}

export default defineCase(
  {
    id: 'TC-BS-10',
    title: 'Bootstrap-Delete / removes every instance except the Bootstrap-Server account and /3/0',
    area: 'bootstrap',
    requirements: [
      {
        id: 'LWM2M-CORE-BS-09',
        section: 'LwM2M Core 1.2 §6.1.7.6 (Bootstrap-Delete)',
        quote:
          'the "Bootstrap-Delete" operation MAY target any Instance or all Instances of any Object including the Security Object (ID:0) ... The two exceptions are the LwM2M Bootstrap-Server Account ... and the single Instance of the mandatory Device Object (ID:3), which are not affected by any Delete operation',
      },
    ],
    // First request, Discover and two writes, the Delete, the Discover that shows what survived.
    budget: (k) => k.firstRequestMs + exchangesMs(k, 5),
    tags: ['bootstrap'],
  },
  async (t: CaseContext) => {
    const { before, written } = await t.precondition('bootstrap session with a DM account written', async () => {
      await provisionAndStart(t);
      const req = await expectBootstrapRequest(t, startupWindowMs(t), 'device start');
      const plan = await provisionServerAccount(t.bootstrapServer, req.remote, serverAccount(t), { skipFinish: true });
      for (const step of plan.steps) t.note(describeResult(step));
      if (plan.failedStep) t.fail('LWM2M-CORE-BS-09', `could not write a DM account before the Delete: ${describeResult(plan.failedStep)}`);
      return { before: plan.steps[0]!, written: { remote: req.remote, securityIid: plan.securityIid, serverIid: plan.serverIid } };
    });
    const bsIids = bootstrapSecurityInstances(before);
    if (bsIids.length === 0) t.inconclusive(`the first Bootstrap-Discover / (${linkList(before)}) shows no Security instance without ssid, so the Bootstrap-Server account cannot be told apart`);

    // BS -> device: Bootstrap-Delete /
    const del = await t.bootstrapServer.delete(written.remote, '/');
    t.check('LWM2M-CORE-BS-09', 'Bootstrap-Delete / is answered 2.02 Deleted', del.code === '2.02', { expected: '2.02', observed: describeResult(del) });

    // BS -> device: Bootstrap-Discover / shows what survived
    const after = await t.bootstrapServer.discover(written.remote, '/');
    if (after.code !== '2.05' || !after.links) {
      t.fail('LWM2M-CORE-BS-09', `Bootstrap-Discover / after the Delete: expected 2.05 with link-format, observed ${describeResult(after)}${after.payloadError ? ` (${after.payloadError})` : ''}`);
    }
    const shown = linkList(after);
    const security = instancesFromDiscover(after, 0);
    const servers = instancesFromDiscover(after, 1);
    const lostBs = bsIids.filter((iid) => !security.includes(iid));
    t.check('LWM2M-CORE-BS-09', 'the Bootstrap-Server account survives Bootstrap-Delete /', lostBs.length === 0, {
      expected: `${bsIids.map((i) => `</0/${i}>`).join(',')} still listed`,
      observed: lostBs.length ? `${lostBs.map((i) => `</0/${i}>`).join(',')} gone: ${shown}` : shown,
    });
    t.check('LWM2M-CORE-BS-09', 'the Device object instance /3/0 survives Bootstrap-Delete /', after.links.some((l) => l.target === '/3/0'), { expected: '</3/0> listed', observed: shown });
    const otherSecurity = security.filter((iid) => !bsIids.includes(iid));
    t.check('LWM2M-CORE-BS-09', 'no Security instance other than the Bootstrap-Server account remains', otherSecurity.length === 0, {
      expected: `only ${bsIids.map((i) => `</0/${i}>`).join(',')} in /0 (the DM account written at /0/${written.securityIid} deleted)`,
      observed: otherSecurity.length ? `${otherSecurity.map((i) => `</0/${i}>`).join(',')} still there: ${shown}` : shown,
    });
    t.check('LWM2M-CORE-BS-09', 'no Server instance remains', servers.length === 0, {
      expected: `no /1 instance (the one written at /1/${written.serverIid} deleted)`,
      observed: servers.length ? `${servers.map((i) => `</1/${i}>`).join(',')} still there: ${shown}` : shown,
    });
    t.pass(`${describeResult(del)}; Bootstrap-Discover / then showed ${shown}: the Bootstrap-Server account and /3/0 kept, the DM account written at /0/${written.securityIid} and /1/${written.serverIid} gone`);
  },
);
