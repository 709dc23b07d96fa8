/*
 * Expected sequence:
 *   device -> BS   CON POST /bs?ep=<endpoint>
 *   BS -> device   Bootstrap-Discover /        2.05: the Bootstrap-Server account </0/b> (no ssid), </3/0>, and whatever else the device holds (</4/0>, ...)
 *   BS -> device   Bootstrap-Write /0/x, /1/y  2.04, 2.04 (a DM account, so the Delete has something to remove)
 *   BS -> device   Bootstrap-Delete /          2.02
 *   BS -> device   Bootstrap-Discover /        2.05: </0/b> and </3/0> (and the OSCORE instance of the
 *                                              Bootstrap-Server account, if any) and no other instance of
 *                                              any object; object-level links without an instance (</4>) are fine
 */
import { defineCase } from '../../harness/runner/case.js';
import { exchangesMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { describeResult, type OperationResult } from '../../harness/servers/operations.js';
import { bootstrapAccountIid, bootstrapWrites, serverAccount, usingTool } from '../steps.js';

/** The OSCORE object: the Bootstrap-Server account's OSCORE instance (/0/b/17) is kept too. */
const OSCORE_OID = 21;

function linkList(discover: OperationResult): string {
  return (discover.links ?? []).map((l) => `<${l.target}>`).join(',') || discover.text || '(empty)';
}

/** The object instances a Discover lists, as "/oid/iid" (deeper links counted as their instance). */
function instancesListed(discover: OperationResult): string[] {
  const out = new Set<string>();
  for (const l of discover.links ?? []) {
    const m = /^\/(\d+)\/(\d+)(\/|$)/.exec(l.target);
    if (m) out.add(`/${m[1]}/${m[2]}`);
  }
  return [...out];
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
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['bootstrap'],
  },
  async (t: CaseContext) => {
    const bs = t.bootstrapServer;
    const opened = await bootstrapWrites(t, serverAccount(t), {
      what: 'bootstrap session with a DM account written',
      tool: { feature: 'the Bootstrap-Discover and -Writes before the Delete', judgedBy: 'TC-BS-04 and TC-BS-06' },
    });
    const before = opened.plan.steps[0]!;
    const written = { remote: opened.request.remote, securityIid: opened.securityIid, serverIid: opened.serverIid };
    const bsIid = bootstrapAccountIid(before, bs.uri);
    if (bsIid === undefined) {
      t.inconclusive(
        `the first Bootstrap-Discover / (${linkList(before)}) does not single out the Bootstrap-Server Security instance (by uri, or as the only /0 instance no Server instance shares an ssid with), so what must survive the Delete cannot be told apart`,
      );
    }
    const bsAccount = `/0/${bsIid}`;
    const heldBefore = instancesListed(before);
    t.note(`before the Delete the device held ${heldBefore.join(', ')}, then /0/${written.securityIid} and /1/${written.serverIid} were written`);

    // BS -> device: Bootstrap-Delete /
    const del = await bs.delete(written.remote, '/');
    t.check('LWM2M-CORE-BS-09', 'Bootstrap-Delete / is answered 2.02 Deleted', del.code === '2.02', { expected: '2.02', observed: describeResult(del) });

    // BS -> device: Bootstrap-Discover / shows what survived (Discover is only the window here: TC-BS-04 judges it).
    const after = await usingTool(t, { feature: 'the Bootstrap-Discover / after the Delete', judgedBy: 'TC-BS-04' }, () => bs.discover(written.remote, '/'));
    if (after.code !== '2.05' || !after.links) {
      t.inconclusive(`Bootstrap-Discover / after the Delete answered ${describeResult(after)}${after.payloadError ? ` (${after.payloadError})` : ''}, so what survived cannot be seen; TC-BS-04 judges Bootstrap-Discover`);
    }
    const shown = linkList(after);
    const survivors = instancesListed(after);
    t.check('LWM2M-CORE-BS-09', `the Bootstrap-Server account ${bsAccount} survives Bootstrap-Delete /`, survivors.includes(bsAccount), {
      expected: `<${bsAccount}> still listed`,
      observed: survivors.includes(bsAccount) ? shown : `<${bsAccount}> gone: ${shown}`,
    });
    t.check('LWM2M-CORE-BS-09', 'the Device object instance /3/0 survives Bootstrap-Delete /', survivors.includes('/3/0'), { expected: '</3/0> listed', observed: shown });
    // The Bootstrap-Server account may hold an OSCORE instance (/0/b/17), which Discover cannot show: one /21 instance is given the benefit.
    const oscore = survivors.filter((p) => p.startsWith(`/${OSCORE_OID}/`));
    if (oscore.length === 1) t.note(`<${oscore[0]}> survived: taken as the OSCORE instance of the Bootstrap-Server account, which the Delete keeps (Bootstrap-Discover does not show /0/${bsIid}/17 to confirm it)`);
    const kept = new Set([bsAccount, '/3/0', ...(oscore.length === 1 ? oscore : [])]);
    const others = survivors.filter((p) => !kept.has(p));
    t.check('LWM2M-CORE-BS-09', 'no instance of any object survives Bootstrap-Delete / but the Bootstrap-Server account and /3/0', others.length === 0, {
      expected: `only <${bsAccount}> and </3/0> (and at most one OSCORE instance of the Bootstrap-Server account); the DM account written at /0/${written.securityIid}, /1/${written.serverIid} and every other instance deleted`,
      observed: others.length ? `${others.map((p) => `<${p}>`).join(',')} still there after the 2.02: ${shown}` : shown,
    });
    const removed = heldBefore.filter((p) => !kept.has(p));
    t.pass(
      `${describeResult(del)}; Bootstrap-Discover / then showed ${shown}: the Bootstrap-Server account ${bsAccount} and /3/0 kept; /0/${written.securityIid}, /1/${written.serverIid}${removed.length ? ` and ${removed.join(', ')}` : ''} gone`,
    );
  },
);
