/*
 * Expected sequence:
 *   device -> BS   CON POST /bs?ep=<endpoint>                                    2.04
 *   BS -> device   Discover /, Write /0/x and /1/y (a usable LwM2M Server account)  2.05, 2.04, 2.04
 *   BS -> device   Write /0/42 {0: this BS URI, 1: true, 2: NoSec}  (a second Bootstrap-Server account)
 *                    -> 4.00                                    then Finish -> 2.04
 *                 or -> 2.04 (accepted for now)                 then Finish -> 4.06 (the session is refused)
 * Either way the device never ends a bootstrap holding two Bootstrap-Server accounts.
 */
import { defineCase } from '../../harness/runner/case.js';
import { exchangesMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { parsePath, type ResourceRecord } from '../../harness/lwm2m/index.js';
import { instancesFromDiscover } from '../../harness/servers/bootstrap-plan.js';
import { describeResult } from '../../harness/servers/operations.js';
import { bootstrapWrites, serverAccount } from '../steps.js';

const SECOND_ACCOUNT_IID = 42;

export default defineCase(
  {
    id: 'TC-BS-07',
    title: 'A second Bootstrap-Server account is refused (Write 4.00, or Bootstrap-Finish 4.06)',
    area: 'bootstrap',
    requirements: [
      {
        id: 'LWM2M-CORE-BS-08',
        section: 'LwM2M Core 1.2 §6.1.7.5 / Security object 0.xml',
        quote: 'the LwM2M Client MUST have at most one LwM2M Bootstrap-Server Account; an attempt to create a second Bootstrap-Server Security instance is rejected (4.00)',
      },
    ],
    // First request, Discover and two writes, the second account, Discover /0, Finish.
    budget: (k) => k.firstRequestMs + exchangesMs(k, 6),
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['bootstrap', 'write'],
  },
  async (t: CaseContext) => {
    const bs = t.bootstrapServer;
    const account = serverAccount(t);
    const { request: req, plan } = await bootstrapWrites(t, account, { what: 'device bootstraps up to the writes of a usable LwM2M Server account' });
    const used = instancesFromDiscover(plan.steps[0]!, 0);
    let iid = SECOND_ACCOUNT_IID;
    while (used.includes(iid) || iid === plan.securityIid) iid++;

    // BS -> device: a complete second Bootstrap-Server account, valid in itself (this run's URI, NoSec as the run uses).
    const p = (rid: number) => parsePath(`/0/${iid}/${rid}`);
    const records: ResourceRecord[] = [
      { path: p(0), value: bs.uri },
      { path: p(1), value: true },
      { path: p(2), value: 3 },
      { path: p(3), value: Buffer.alloc(0) },
      { path: p(4), value: Buffer.alloc(0) },
      { path: p(5), value: Buffer.alloc(0) },
    ];
    const write = await bs.write(req.remote, `/0/${iid}`, records);

    if (write.code !== '2.04') {
      t.check('LWM2M-CORE-BS-08', `Bootstrap-Write /0/${iid} (a second Bootstrap-Server account) is refused`, write.code.startsWith('4.') || write.code.startsWith('5.'), { expected: '4.00', observed: describeResult(write) });
      if (write.code !== '4.00') t.advisory(`the second Bootstrap-Server account was refused with ${write.code}, where 4.00 Bad Request is expected (catalog LWM2M-CORE-BS-08)`);
      await bs.finish(req.remote);
      t.pass(`Bootstrap-Write /0/${iid} with /0/${iid}/1 = true (a second Bootstrap-Server account) was refused with ${write.code}`);
      return;
    }

    // Accepted for now: the session must not end with two Bootstrap-Server accounts.
    const discover = await bs.discover(req.remote, '/0');
    const finish = await bs.finish(req.remote);
    const listed = instancesFromDiscover(discover, 0);
    const keptBoth = listed.includes(iid) && listed.some((x) => x !== iid && x !== plan.securityIid);
    if (finish.code === '4.06') {
      t.pass(`Bootstrap-Write /0/${iid} (a second Bootstrap-Server account) was answered 2.04, and Bootstrap-Finish then refused the configuration with 4.06 Not Acceptable`);
      return;
    }
    if (finish.code === '2.04' && discover.code !== '2.05') {
      t.inconclusive(`Write /0/${iid} (a second Bootstrap-Server account) and Bootstrap-Finish were both answered 2.04, and ${describeResult(discover)} does not show whether the device kept both accounts`);
    }
    t.check('LWM2M-CORE-BS-08', 'Bootstrap-Finish refuses a configuration with two Bootstrap-Server accounts', finish.code !== '2.04' || !keptBoth, {
      expected: `Write /0/${iid} answered 4.00, or Bootstrap-Finish answered 4.06`,
      observed: `Write /0/${iid} answered 2.04; Bootstrap-Discover /0 then listed ${listed.map((x) => `/0/${x}`).join(', ')}; ${describeResult(finish)}`,
    });
    if (finish.code !== '2.04') t.advisory(`Bootstrap-Finish answered ${finish.code}, where 4.06 Not Acceptable is expected for an inconsistent configuration`);
    // A device that replaced its account by the new one still holds only one.
    t.pass(`Bootstrap-Write /0/${iid} was answered 2.04 but the device kept one Bootstrap-Server account (Discover /0: ${listed.map((x) => `/0/${x}`).join(', ')}); ${describeResult(finish)}`);
  },
);
