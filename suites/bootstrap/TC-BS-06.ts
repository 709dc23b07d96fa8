/*
 * Expected sequence (F1..Fn: the record formats the ICS claims; TLV when it claims none):
 *   device -> BS   CON POST /bs?ep=<endpoint>                               2.04
 *   BS -> device   Discover /                                            -> 2.05
 *   for each Fi:   Write /0/x (Security, Fi), Write /1/y (Server, Fi)    -> 2.04, 2.04
 *   BS -> device   Write /1/y with Content-Format 9999 (unassigned)      -> 4.15
 *   BS -> device   Write /1/y in F1, payload cut short (malformed)       -> 4.00
 *   BS -> device   Bootstrap-Finish                                      -> 2.04
 *   device -> DM   Register with lt = the Lifetime of the last good Write (Fn)
 */
import { defineCase } from '../../harness/runner/case.js';
import { exchangesMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { contentFormatName, decodeContent, encodeContent, parsePath } from '../../harness/lwm2m/index.js';
import { securityRecords, serverRecords } from '../../harness/servers/bootstrap-plan.js';
import { describeResult } from '../../harness/servers/operations.js';
import { bootstrapRequested, claimedRecordFormats, describeRequest, expectRegister, serverAccount, unusedInstanceId } from '../steps.js';

/** Not assigned in the CoAP Content-Formats registry, so no device can take it. */
const UNASSIGNED_CONTENT_FORMAT = 9999;

export default defineCase(
  {
    id: 'TC-BS-06',
    title: 'Bootstrap-Write in every claimed content format, 4.15 for an unsupported one, 4.00 for a malformed payload',
    area: 'bootstrap',
    requirements: [
      {
        id: 'LWM2M-CORE-BS-07',
        section: 'LwM2M Core 1.2 §6.1.7.5 (Bootstrap-Write)',
        quote: 'Bootstrap-Write: 2.04 Changed on success; 4.00 Bad Request for bad data; 4.15 Unsupported Content-Format',
      },
    ],
    // First request, Discover, two writes per claimed format (four at most), the 4.15 and 4.00 writes, Finish, then the Register.
    budget: (k) => k.firstRequestMs + exchangesMs(k, 12) + k.startupMs,
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['bootstrap', 'write', 'content-format'],
  },
  async (t: CaseContext) => {
    const { formats, assumed } = claimedRecordFormats(t);
    if (assumed) t.note('the ICS claims no content-format.* key: writing TLV, the format every bootstrap session of this suite uses');
    const names = formats.map(contentFormatName).join(', ');
    const account = serverAccount(t);
    const bs = t.bootstrapServer;

    const req = await bootstrapRequested(t);
    const discover = await t.precondition('device answers Bootstrap-Discover', async () => {
      const answer = await bs.discover(req.remote, '/');
      if (answer.code !== '2.05') t.fail('LWM2M-CORE-BS-07', `${describeResult(answer)}: no instance ids to write to`);
      return answer;
    });
    const secIid = unusedInstanceId(discover, 0);
    const srvIid = unusedInstanceId(discover, 1);
    const secPath = `/0/${secIid}`;
    const srvPath = `/1/${srvIid}`;

    // Each claimed format writes a different Lifetime, the last one the IXIT's: the Register tells which write took.
    const lifetimeOf = (i: number) => account.lifetimeS + (formats.length - 1 - i);
    for (const [i, cf] of formats.entries()) {
      for (const [path, records] of [
        [secPath, securityRecords(secIid, account)],
        [srvPath, serverRecords(srvIid, { ...account, lifetimeS: lifetimeOf(i) })],
      ] as const) {
        const w = await bs.write(req.remote, path, records, cf);
        t.check('LWM2M-CORE-BS-07', `Bootstrap-Write ${path} in ${contentFormatName(cf)} answered 2.04 Changed`, w.code === '2.04', { expected: '2.04', observed: describeResult(w) });
      }
    }

    // BS -> device: a Content-Format nobody supports -> 4.15.
    const good = encodeContent(formats[0]!, serverRecords(srvIid, account), parsePath(srvPath));
    const unsupported = await bs.writeRaw(req.remote, srvPath, good, UNASSIGNED_CONTENT_FORMAT);
    t.check('LWM2M-CORE-BS-07', `Bootstrap-Write ${srvPath} with Content-Format ${UNASSIGNED_CONTENT_FORMAT} (unassigned) answered 4.15 Unsupported Content-Format`, unsupported.code === '4.15', {
      expected: '4.15',
      observed: `${describeResult(unsupported)} (payload: a valid ${contentFormatName(formats[0])} encoding)`,
    });

    // BS -> device: a payload cut short in a claimed format -> 4.00.
    let malformed = good.subarray(0, good.length - 1);
    if (decodeContent(formats[0], malformed, parsePath(srvPath)).ok) malformed = good.subarray(0, Math.ceil(good.length / 2));
    if (decodeContent(formats[0], malformed, parsePath(srvPath)).ok) t.inconclusive(`the harness could not make a malformed ${contentFormatName(formats[0])} payload for ${srvPath}`);
    const bad = await bs.writeRaw(req.remote, srvPath, malformed, formats[0]!);
    t.check('LWM2M-CORE-BS-07', `Bootstrap-Write ${srvPath} with a malformed ${contentFormatName(formats[0])} payload answered 4.00 Bad Request`, bad.code === '4.00', {
      expected: '4.00',
      observed: `${describeResult(bad)} (payload: ${malformed.length} of the ${good.length} bytes of a valid encoding)`,
    });

    // The account must still be usable: Finish, then the Register shows the last good write took effect.
    const register = await t.precondition('Bootstrap-Finish and a Register after the writes', async () => {
      const finish = await bs.finish(req.remote);
      if (finish.code !== '2.04') t.fail('LWM2M-CORE-BS-07', `${describeResult(finish)} after the writes`);
      return expectRegister(t, t.timers.startupMs, 'Bootstrap-Finish');
    });
    const last = lifetimeOf(formats.length - 1);
    t.check('LWM2M-CORE-BS-07', `Register carries lt = the Lifetime written last (${contentFormatName(formats[formats.length - 1])})`, register.query.get('lt')?.[0] === String(last), {
      expected: `lt=${last}`,
      observed: describeRequest(register),
    });
    t.pass(
      `Bootstrap-Writes in ${names} were answered 2.04 and taken (${describeRequest(register)}); Content-Format ${UNASSIGNED_CONTENT_FORMAT} was answered 4.15 and a malformed payload 4.00` +
        (assumed ? ' (ICS claims no format: TLV used)' : ''),
    );
  },
);
