/*
 * Expected sequence (a freshly provisioned device: its only account is the Bootstrap-Server's):
 *   device -> BS   CON POST /bs?ep=<endpoint>                        2.04
 *   BS -> device   GET / (Accept 40)         -> 2.05, Content-Format 40,
 *                  </>;lwm2m="1.x",...,</0/b>[;uri=<this BS>]  (no Server instance bound to /0/b)
 *   BS -> device   GET /0 (Accept 40)        -> 2.05, links under /0 only
 *   BS -> device   Write /0/x (ssid 101), Write /1/y (ssid 101)     2.04, 2.04
 *   BS -> device   GET / (Accept 40)         -> 2.05, </0/x>;ssid=101[;uri=...], </1/y>;ssid=101
 *   BS -> device   GET /0/x (Accept 40)      -> 4.00 (inferred from Anjay: advisory only)
 *   BS -> device   Bootstrap-Finish          -> 2.04
 */
import { defineCase } from '../../harness/runner/case.js';
import { exchangesMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { contentFormat } from '../../harness/coap/message.js';
import { CF, contentFormatName } from '../../harness/lwm2m/index.js';
import { instancesFromDiscover, provisionServerAccount } from '../../harness/servers/bootstrap-plan.js';
import { describeResult, type OperationResult } from '../../harness/servers/operations.js';
import { bootstrapAccountIid, bootstrapRequested, describeRequest, serverAccount } from '../steps.js';

/** "1.x" as the catalog puts it; a patch level (1.2.1) is tolerated rather than failed. */
const LWM2M_1X = /^1\.\d+(\.\d+)?$/;

type Link = NonNullable<OperationResult['links']>[number];

function linksText(links: Link[] | undefined): string {
  if (!links) return 'no links';
  const shown = links.slice(0, 8).map(
    (l) =>
      `<${l.target}>${Object.entries(l.attributes)
        .map(([k, v]) => (v === true ? `;${k}` : `;${k}=${v}`))
        .join('')}`,
  );
  return shown.join(',') + (links.length > 8 ? `,... (${links.length} links)` : '');
}

export default defineCase(
  {
    id: 'TC-BS-04',
    title: 'Bootstrap-Discover answers link-format with the LwM2M version, the Bootstrap-Server account and ssid on server instances',
    area: 'bootstrap',
    requirements: [
      {
        id: 'LWM2M-CORE-BS-05',
        section: 'LwM2M Core 1.2 §6.1.7.3 (Bootstrap-Discover)',
        quote: 'Bootstrap-Discover on / or /{oid} is answered 2.05 with link-format starting with </>;lwm2m="1.x", Security instances with ssid, Server instances with ssid',
      },
    ],
    // First request, then Discover /, Discover /0, the account writes (with their Discover), Discover / and /0/x, Finish.
    budget: (k) => k.firstRequestMs + exchangesMs(k, 9),
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['bootstrap', 'discover'],
  },
  async (t: CaseContext) => {
    const req = await bootstrapRequested(t);
    const bs = t.bootstrapServer;
    const discoverOk = (r: OperationResult, what: string) => {
      t.check('LWM2M-CORE-BS-05', `${what} answered 2.05 Content`, r.code === '2.05', { expected: '2.05', observed: describeResult(r) });
      const cf = contentFormat(r.response.msg);
      t.check('LWM2M-CORE-BS-05', `${what} answer is link-format`, cf === CF.LINK_FORMAT, { expected: contentFormatName(CF.LINK_FORMAT), observed: contentFormatName(cf) });
      if (r.payloadError) t.fail('LWM2M-CORE-BS-05', `${what}: the link-format payload does not parse: ${r.payloadError}`);
      return r.code === '2.05' && r.links !== undefined;
    };

    // BS -> device: Discover / on the freshly provisioned device.
    const fresh = await bs.discover(req.remote, '/');
    t.note(`Bootstrap-Discover / listed: ${linksText(fresh.links)}`);
    if (!discoverOk(fresh, 'Bootstrap-Discover /')) t.fail('LWM2M-CORE-BS-05', `Bootstrap-Discover / after ${describeRequest(req)}: expected 2.05 with link-format, observed ${describeResult(fresh)}`);
    const first = fresh.links![0];
    const version = first?.attributes.lwm2m;
    t.check('LWM2M-CORE-BS-05', 'Bootstrap-Discover / begins with </>;lwm2m="1.x"', first?.target === '/' && typeof version === 'string' && LWM2M_1X.test(version), {
      expected: '</>;lwm2m="1.x" as the first link',
      observed: first ? linksText([first]) : 'an empty payload',
    });
    const bsIid = bootstrapAccountIid(fresh, bs.uri);
    t.check('LWM2M-CORE-BS-05', 'Bootstrap-Discover / lists the Bootstrap-Server Security instance, with no Server instance bound to it', bsIid !== undefined, {
      expected: `one </0/b> with uri="${bs.uri}", or the only /0 instance no </1/y> shares an ssid with`,
      observed: linksText(fresh.links),
    });

    // BS -> device: Discover /0 (object level).
    const securityOnly = await bs.discover(req.remote, '/0');
    t.note(`Bootstrap-Discover /0 listed: ${linksText(securityOnly.links)}`);
    if (discoverOk(securityOnly, 'Bootstrap-Discover /0')) {
      const outside = securityOnly.links!.filter((l) => l.target !== '/' && l.target !== '/0' && !l.target.startsWith('/0/'));
      t.check('LWM2M-CORE-BS-05', 'Bootstrap-Discover /0 lists only the Security object', outside.length === 0, { expected: 'links under /0 only', observed: outside.length ? linksText(outside) : 'only /0' });
    }

    // BS -> device: Write a Security and a Server instance (ssid 101), no Finish yet.
    const account = serverAccount(t);
    const plan = await t.precondition('Bootstrap-Write of a Security and a Server instance', async () => {
      const p = await provisionServerAccount(bs, req.remote, account, { skipFinish: true });
      if (p.failedStep) t.fail('LWM2M-CORE-BS-05', `bootstrap could not go on: ${describeResult(p.failedStep)}`);
      return p;
    });

    // BS -> device: Discover / again: both new instances carry the ssid.
    const written = await bs.discover(req.remote, '/');
    t.note(`Bootstrap-Discover / after the writes listed: ${linksText(written.links)}`);
    if (discoverOk(written, 'Bootstrap-Discover / after the writes')) {
      const link = (target: string) => written.links!.find((l) => l.target === target);
      const sec = link(`/0/${plan.securityIid}`);
      const srv = link(`/1/${plan.serverIid}`);
      t.check('LWM2M-CORE-BS-05', `Security instance /0/${plan.securityIid} is listed with ssid=${account.ssid}`, sec?.attributes.ssid === String(account.ssid), {
        expected: `</0/${plan.securityIid}>;ssid=${account.ssid}`,
        observed: sec ? linksText([sec]) : `no </0/${plan.securityIid}> in ${linksText(written.links)}`,
      });
      t.check('LWM2M-CORE-BS-05', `Server instance /1/${plan.serverIid} is listed with ssid=${account.ssid}`, srv?.attributes.ssid === String(account.ssid), {
        expected: `</1/${plan.serverIid}>;ssid=${account.ssid}`,
        observed: srv ? linksText([srv]) : `no </1/${plan.serverIid}> in ${linksText(written.links)}`,
      });
      // LwM2M 1.1+ adds uri on Security instances; the catalog has this as inferred.
      if (sec && sec.attributes.uri !== account.serverUri) {
        t.advisory(`</0/${plan.securityIid}> carries ${sec.attributes.uri === undefined ? 'no uri attribute' : `uri=${sec.attributes.uri}`}, where LwM2M 1.1+ lists uri="${account.serverUri}" (catalog LWM2M-CORE-BS-05, inferred)`);
      }
      if (instancesFromDiscover(written, 0).length < 2) t.note('after the writes Bootstrap-Discover lists fewer than two Security instances');
    }

    // BS -> device: Discover of an instance: Anjay answers 4.00; inferred, so advisory only.
    const instanceLevel = await bs.discover(req.remote, `/0/${plan.securityIid}`);
    if (instanceLevel.code !== '4.00') {
      t.advisory(`Bootstrap-Discover /0/${plan.securityIid} (an instance) answered ${instanceLevel.code}, where 4.00 is expected (catalog LWM2M-CORE-BS-05, inferred from Anjay)`);
    }

    await bs.finish(req.remote);
    t.pass(
      `Bootstrap-Discover / answered 2.05 link-format beginning </>;lwm2m="${version}" with the Bootstrap-Server account at /0/${bsIid}; after the writes it listed </0/${plan.securityIid}>;ssid=${account.ssid} and </1/${plan.serverIid}>;ssid=${account.ssid}`,
    );
  },
);
