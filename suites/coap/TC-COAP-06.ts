/*
 * Expected sequence (ICS coap.block1; a Security instance whose /0/x/4 holds a 3 KB
 * trust-anchor bundle, about 3.1 KB of TLV):
 *   device -> BS   CON POST /bs?ep=...
 *   BS -> device   GET / (Discover)
 *   BS -> device   PUT /0/x  Block1 0/M=1/512 (Size1), then Block1 N-1/M=0   (block 1..N-2 missing)
 *   device -> BS   2.31 (Block1 0), then 4.08 Request Entity Incomplete
 *   BS -> device   PUT /0/x  Block1 0..N-1 of 512 bytes
 *   device -> BS   2.31 Continue with Block1 k for k < N-1 (it may ask for smaller blocks), then 2.04
 *   BS -> device   PUT /0/x  the whole body in one datagram
 *   device -> BS   2.04, or 4.13 (Size1 / Block1 size) and then 2.31 ... 2.04 block-wise
 *   BS -> device   PUT /1/y, POST /bs (Finish)
 *   device -> DM   CON POST /rd?ep=...   (the URI it registers at came in the block-wise body)
 */
import { randomBytes } from 'node:crypto';
import { defineCase } from '../../harness/runner/case.js';
import { exchangesMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { OPTION, encodeUint, uintOption } from '../../harness/coap/message.js';
import { CF, encodeContent, parsePath } from '../../harness/lwm2m/index.js';
import { securityRecords, serverRecords } from '../../harness/servers/bootstrap-plan.js';
import { describeResult } from '../../harness/servers/operations.js';
import { bootstrapRequested, describeRequest, expectRegister, serverAccount, unusedInstanceId } from '../steps.js';
import { answered, codeText } from './wire.js';

const BUNDLE_BYTES = 3072;
/** RFC 7959's own recommendations (the 4.08 code, the Block1 echo in 2.31): the SHOULD part of row COAP-06. */
const SHOULD = { row: 'COAP-06', level: 'SHOULD' } as const;
const BLOCK_SZX = 5; // 512 bytes

const block1 = (num: number, more: boolean, szx: number) => ({ number: OPTION.BLOCK1, value: encodeUint((num << 4) | (more ? 8 : 0) | szx) });
const describeBlock1 = (raw: number | undefined) => (raw === undefined ? 'no Block1' : `Block1 ${raw >> 4}/${raw & 8 ? 'M=1' : 'M=0'}/${2 ** ((raw & 7) + 4)}`);

export default defineCase(
  {
    id: 'TC-COAP-06',
    title: 'Block-wise Bootstrap-Write (Block1) of a 3 KB trust-anchor bundle: 2.31 Continue, 4.08 on a missing block, size negotiation',
    area: 'coap',
    requirements: [
      {
        id: 'COAP-06',
        section: 'RFC 7959 §2.3, §2.9',
        quote:
          'A 2.31 (Continue) response indicates that the transfer of this block of the request body was successful and that the server encourages sending further blocks ... 4.08 (Request Entity Incomplete) ... the server has not received the blocks of the request body that it needs to proceed',
      },
      { id: 'GEISA-ADM-DM-01', section: 'GEISA adm/device-management.rst (Write responses)', quote: 'Write responses may include 2.31 Continue, 4.08 Request Entity Incomplete and 4.13 Request Entity Too Large' },
    ],
    ics: 'coap.block1',
    // Start-up; Discover, two probes, the block-wise write (down to 128-byte blocks if the
    // device asks: 25), the unblocked write and its fallback, /1/y and Finish; the Register.
    budget: (k) => k.firstRequestMs + exchangesMs(k, 60) + k.startupMs,
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['coap', 'bootstrap', 'blockwise'],
  },
  async (t: CaseContext) => {
    const req = await bootstrapRequested(t);
    const bs = t.bootstrapServer;
    const peer = req.remote;
    const discover = await answered(t, bs.endpoint, 'Bootstrap-Discover /', () => bs.discover(peer, '/'), { tool: 'Bootstrap-Discover / (judged by the bootstrap cases)' });
    if (discover.code !== '2.05') t.inconclusive(`Bootstrap-Discover / answered ${codeText(discover.code)}: no free Security instance to write to`);
    const securityIid = unusedInstanceId(discover, 0);
    const serverIid = unusedInstanceId(discover, 1);
    const account = serverAccount(t);
    const path = `/0/${securityIid}`;
    const records = securityRecords(securityIid, account).map((r) => (r.path.resourceId === 4 ? { ...r, value: randomBytes(BUNDLE_BYTES) } : r));
    const body = encodeContent(CF.TLV, records, parsePath(path));
    const put = (payload: Buffer, options: { number: number; value: Buffer }[]) =>
      answered(t, bs.endpoint, `Bootstrap-Write ${path}`, () => bs.endpoint.request(peer, { method: 'PUT', path, contentFormat: CF.TLV, payload, options }), 'COAP-06');

    // A transfer with a gap: block 0, then the last block.
    let size = 2 ** (BLOCK_SZX + 4);
    const lastNum = Math.ceil(body.length / size) - 1;
    const probe0 = await put(body.subarray(0, size), [block1(0, true, BLOCK_SZX), { number: OPTION.SIZE1, value: encodeUint(body.length) }]);
    t.check('COAP-06', 'block 0 of the incomplete transfer answered 2.31 Continue', probe0.msg.code === '2.31', {
      expected: '2.31 Continue',
      observed: `${codeText(probe0.msg.code)} ${describeBlock1(uintOption(probe0.msg, OPTION.BLOCK1))}`,
    });
    const probeLast = await put(body.subarray(lastNum * size), [block1(lastNum, false, BLOCK_SZX)]);
    // Taking the incomplete body is the failure; RFC 7959 §2.9.2 names 4.08 for the refusal, another error is only advised against.
    t.check('COAP-06', `last block ${lastNum} after a gap is not taken as the whole body`, !probeLast.msg.code.startsWith('2.'), {
      expected: `4.08 Request Entity Incomplete (blocks 1..${lastNum - 1} never sent)`,
      observed: codeText(probeLast.msg.code),
    });
    if (!probeLast.msg.code.startsWith('2.')) {
      t.check(SHOULD, 'a Block1 transfer with missing blocks is refused with 4.08', probeLast.msg.code === '4.08', {
        expected: '4.08 Request Entity Incomplete (RFC 7959 §2.9.2)',
        observed: codeText(probeLast.msg.code),
      });
    }

    // The whole transfer, following any smaller block size the device asks for.
    let offset = 0;
    let blocks = 0;
    let finalCode = '';
    for (;;) {
      const szx = Math.log2(size) - 4;
      const num = offset / size;
      const chunk = body.subarray(offset, offset + size);
      const more = offset + chunk.length < body.length;
      const options = [block1(num, more, szx), ...(num === 0 ? [{ number: OPTION.SIZE1, value: encodeUint(body.length) }] : [])];
      const res = await put(chunk, options);
      blocks++;
      const echo = uintOption(res.msg, OPTION.BLOCK1);
      if (!more) {
        finalCode = res.msg.code;
        break;
      }
      if (
        !t.check('COAP-06', `block ${num} (${size} bytes) answered 2.31 Continue`, res.msg.code === '2.31', {
          expected: `2.31 with Block1 ${num}/M=1`,
          observed: `${codeText(res.msg.code)} ${describeBlock1(echo)}`,
        })
      )
        break;
      t.check(SHOULD, `the 2.31 to block ${num} names the block acknowledged (RFC 7959 §2.3)`, echo !== undefined && echo >> 4 === num, { expected: `Block1 ${num}/…`, observed: describeBlock1(echo) });
      offset += chunk.length;
      const asked = echo === undefined ? size : 2 ** ((echo & 7) + 4);
      if (asked < size && offset % asked === 0) size = asked;
    }
    if (!t.hasFailed()) {
      t.check('COAP-06', `last block of ${path} answered 2.04 Changed`, finalCode === '2.04', { expected: '2.04 for the reassembled write', observed: codeText(finalCode) });
    }

    // The same body in one datagram: taken whole, or refused 4.13 with a size and then sent block-wise.
    const whole = await answered(t, bs.endpoint, `Bootstrap-Write ${path} (unblocked)`, () => bs.writeRaw(peer, path, body, CF.TLV), 'COAP-06');
    t.check('COAP-06', `unblocked ${body.length}-byte Bootstrap-Write ${path} ends 2.04 (directly or after 4.13 and Block1)`, whole.code === '2.04', { expected: '2.04', observed: describeResult(whole) });

    const server = await answered(t, bs.endpoint, `Bootstrap-Write /1/${serverIid}`, () => bs.write(peer, `/1/${serverIid}`, serverRecords(serverIid, account)), { tool: `Bootstrap-Write /1/${serverIid} (judged by the bootstrap cases)` });
    const finish = await answered(t, bs.endpoint, 'Bootstrap-Finish', () => bs.finish(peer), { tool: 'Bootstrap-Finish (judged by the bootstrap cases)' });
    if (server.code !== '2.04' || finish.code !== '2.04') t.inconclusive(`${describeResult(server)}, ${describeResult(finish)}: the bootstrap did not complete, so the written account was not put to use`);
    // Registering with the URI from the block-wise body is the proof the device kept it.
    const register = await expectRegister(t, t.timers.startupMs, 'Bootstrap-Finish', 'COAP-06');
    t.pass(
      `${body.length}-byte Bootstrap-Write ${path} (/0/${securityIid}/4 of ${BUNDLE_BYTES} bytes): a gap answered ${codeText(probeLast.msg.code)}; ${blocks} Block1 blocks answered 2.31 … ${codeText(finalCode)}; ` +
        `unblocked: ${describeResult(whole)}; the device then registered at the URI from that body: ${describeRequest(register)}`,
    );
  },
);
