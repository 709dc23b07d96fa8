/*
 * Expected sequence (lifetime long enough that no heartbeat Update falls in the case):
 *   (precondition) bootstrap, Register accepted
 *   DM -> device   CON POST /1/y/8  mid=m token=k     (Registration Update Trigger)
 *   device -> DM   ACK 2.04 mid=m token=k             (or empty ACK mid=m + separate 2.04)
 *   device -> DM   CON POST /rd/a/b                   (the one Update)
 *   DM -> device   CON POST /1/y/8  mid=m token=k     the very same bytes again, as a
 *                                                     retransmission after a lost ACK
 *   device -> DM   the same ACK as before             (SHOULD acknowledge each copy alike)
 *   device -> DM   no second Update                   (SHOULD process the request once)
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, exchangesMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { type CoapMessage, describe } from '../../harness/coap/message.js';
import { describeRequest, registered, serverAccount } from '../steps.js';
import { UPDATE_TRIGGER, answered, checkAnswer, quietLifetimeS, watchDevice } from './wire.js';

const sameReply = (a: CoapMessage, b: CoapMessage) => a.type === b.type && a.code === b.code && a.mid === b.mid && a.token.equals(b.token) && a.payload.equals(b.payload);

export default defineCase(
  {
    id: 'TC-COAP-03',
    title: 'Deduplication: a duplicated CON Execute gets the same ACK and is executed once',
    area: 'coap',
    requirements: [
      {
        id: 'COAP-03',
        section: 'RFC 7252 §4.5',
        quote: 'The recipient SHOULD acknowledge each duplicate copy of a Confirmable message using the same Acknowledgement or Reset message but SHOULD process any request or response in the message only once',
      },
    ],
    // Bootstrap and Register; the Execute; its Update (startup bound); the duplicate's ACK;
    // then the window for a second Update (ACK wait + twice the first Update's delay).
    budget: (k) => bootstrapAndRegisterMs(k) + exchangesMs(k, 1) + k.startupMs + 2 * k.coap.ackTimeoutMs * k.coap.ackRandomFactor + Math.max(1000, 2 * k.startupMs),
    floor: (k) => bootstrapAndRegisterFloorMs(k) + k.coap.ackTimeoutMs * k.coap.ackRandomFactor + 1000,
    tags: ['coap', 'registration'],
  },
  async (t: CaseContext) => {
    const p = t.coap;
    const watch = watchDevice(t);
    const { register, serverIid } = await registered(t, serverAccount(t, { lifetimeS: quietLifetimeS(t) }));
    const dm = t.lwm2mServer;
    const path = `/1/${serverIid}/8`;

    // An Execute the device never acknowledges is TC-COAP-01's failure; here it leaves nothing to judge.
    const original = await answered(t, dm.endpoint, `Execute ${path}`, () => dm.execute(register.remote, path), UPDATE_TRIGGER);
    const how = checkAnswer(t, original, UPDATE_TRIGGER);
    if (original.code !== '2.04') t.inconclusive(`Execute ${path} (Registration Update Trigger, judged by TC-REG-07) was answered ${original.code}, so there is no action to see repeated`);
    const request = original.response.request;
    const firstAck = watch.all.find((m) => m.msg.type === 'ACK' && m.msg.mid === request.mid && m.server === dm.endpoint.name);
    if (!firstAck) t.inconclusive(`the ACK to Execute ${path} mid=${request.mid} was not seen on the wire`);
    const update = await dm.expect(['update', 'register'], t.timers.startupMs, t.signal);
    if (!update || update.kind !== 'update') {
      t.inconclusive(
        `after the 2.04 to Execute ${path} the device sent ${update ? describeRequest(update) : 'nothing'} within ${fmtMs(t.timers.startupMs)} (IXIT startupBoundS), not an Update: the Registration Update Trigger, this case's tool, did not work (TC-REG-07 judges it)`,
      );
    }
    const reactionMs = CaseContext.elapsedMs(original.response.monoNs, update.monoNs);

    // The retransmission a lost ACK would cause: same bytes, same MID and token.
    const replyWaitMs = p.ackTimeoutMs * p.ackRandomFactor;
    const dup = await dm.endpoint.resendDuplicate(register.remote, request, replyWaitMs);
    t.check('COAP-03', 'the duplicate gets the same ACK as the original', dup !== undefined && sameReply(dup.msg, firstAck.msg), {
      expected: `${describe(firstAck.msg)} again, within ACK_TIMEOUT·ACK_RANDOM_FACTOR ${fmtMs(replyWaitMs)}`,
      observed: dup ? describe(dup.msg) : 'no ACK or RST',
    });

    // A device that executed the copy would update as promptly as it did for the original.
    const windowMs = replyWaitMs + Math.max(1000, 2 * reactionMs);
    const second = await dm.expect(['update', 'register'], windowMs, t.signal);
    t.check('COAP-03', 'the duplicate is not executed again (no second Update)', second === undefined, {
      expected: `no request to ${dm.uri} within ${fmtMs(windowMs)} of the duplicate (ACK_TIMEOUT·ACK_RANDOM_FACTOR + 2 × the ${fmtMs(reactionMs)} the first Update took, at least 1 s)`,
      observed: second ? `${describeRequest(second)} ${fmtMs(CaseContext.elapsedMs(dup?.sentMonoNs ?? update.monoNs, second.monoNs))} after the duplicate` : 'none',
    });
    t.pass(`Execute ${path} mid=${request.mid} sent twice: ${how}; the copy got ${dup ? describe(dup.msg) : '-'} and the device sent one Update ${describeRequest(update)}, none after the copy within ${fmtMs(windowMs)}`);
  },
);
