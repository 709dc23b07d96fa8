/*
 * Expected sequence (LwM2M 1.2 Bootstrap-Pack-Request; the device claims bootstrap.pack-request):
 *   BS arms the pack: Security /0/2 + Server /1/2 for the fake LwM2M Server (lifetime L),
 *                     the same account TC-BS-01's Bootstrap-Writes carry
 *   device -> BS   CON GET /bspack?ep=<endpoint>   (Accept 112 or 110; none: SenML CBOR)
 *   BS -> device   2.05 the pack, block-wise (Block2) when larger than the block asked for
 *   device -> DM   CON POST /rd?ep=<endpoint>&lt=L...
 * No Bootstrap-Finish is sent: the pack stands for the writes and the Finish.
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, exchangesMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { bootstrapPackRecords } from '../../harness/servers/bootstrap-plan.js';
import { describePackRequest, type BootstrapPackRequest } from '../../harness/servers/bootstrap-server.js';
import { CF, contentFormatName } from '../../harness/lwm2m/index.js';
import { checkEndpointName, describeRequest, dtlsTrouble, expectRegister, noteDeviceIdentity, provisionAndStart, serverAccount, startupWindowMs } from '../steps.js';

const PACK_FORMATS: readonly number[] = [CF.SENML_CBOR, CF.SENML_JSON];
/** A PSK account's pack is under 256 bytes: 16 blocks covers it at the smallest block size a device may ask (16 bytes). */
const PACK_BLOCKS_BUDGETED = 16;

export default defineCase(
  {
    id: 'TC-BS-19',
    title: 'Bootstrap-Pack-Request: the device asks for the pack and registers with the account it carried, no Bootstrap-Finish',
    area: 'bootstrap',
    requirements: [
      {
        id: 'LWM2M-CORE-BSPACK-01',
        section: 'LwM2M Core 1.2 §6.1.7 (Bootstrap-Pack-Request)',
        quote: 'Bootstrap-Pack-Request: GET /bspack with Uri-Query ep={Endpoint Client Name}; the pack is returned 2.05 in SenML CBOR or SenML JSON',
      },
      {
        id: 'LWM2M-CORE-BSPACK-02',
        section: 'LwM2M Core 1.2 §6.1.7 (Bootstrap-Pack-Request); OMA ETS 1.2-int-12',
        quote: 'the client applies the Bootstrap-Pack and registers with the LwM2M Server account(s) it carries',
      },
    ],
    ics: 'bootstrap.pack-request',
    // The pack block by block, the Register, one DM-Read of /3/0.
    budget: (k) => bootstrapAndRegisterMs(k, PACK_BLOCKS_BUDGETED + 1),
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['bootstrap', 'registration'],
  },
  async (t: CaseContext) => {
    const account = serverAccount(t);
    t.bootstrapServer.armBootstrapPack(bootstrapPackRecords(account));
    if (account.psk) t.note(`the pack carries PSK identity "${account.psk.identity}" for ${account.serverUri}`);
    t.note(`Bootstrap-Pack armed: Security /0/2 and Server /1/2 for ${account.serverUri} (Short Server ID ${account.ssid}, lifetime ${account.lifetimeS} s), ${t.bootstrapServer.packBytes()!.length} bytes in SenML CBOR`);
    await provisionAndStart(t);

    // device -> BS: GET /bspack?ep=<endpoint>
    const windowMs = startupWindowMs(t);
    const first = await t.bootstrapServer.expectBootstrapPackRequest(windowMs, t.signal);
    if (!first) {
      const classic = t.bootstrapServer.bootstrapRequests.all[0];
      t.fail(
        'LWM2M-CORE-BSPACK-01',
        classic
          ? `the ICS claims bootstrap.pack-request, but the device opened bootstrap with the Bootstrap-Request ${describeRequest(classic)} and never asked for the pack (GET /bspack) within ${windowMs / 1000} s of start`
          : `no Bootstrap-Pack-Request (GET /bspack) reached the Bootstrap-Server at ${t.bootstrapServer.uri} within ${windowMs / 1000} s of device start (IXIT startupBoundS + holdOffS)${dtlsTrouble(t.bootstrapServer.dtls)}`,
      );
    }
    const seen = `${describeRequest(first)} (${describePackRequest(first)})`;
    checkEndpointName(t, 'LWM2M-CORE-BSPACK-01', 'Bootstrap-Pack-Request', first);
    t.check('LWM2M-CORE-BSPACK-01', 'Accept, when present, names a pack format', first.accept === undefined || PACK_FORMATS.includes(first.accept), {
      expected: `no Accept, or Accept ${PACK_FORMATS.map(contentFormatName).join(' or ')}`,
      observed: first.accept === undefined ? 'no Accept (served SenML CBOR)' : `Accept ${contentFormatName(first.accept)}, answered ${first.answeredWith ?? 'nothing'}`,
    });
    if (first.msg.type !== 'CON') t.note(`the Bootstrap-Pack-Request was ${first.msg.type}, not CON (not judged here)`);

    // BS -> device: the pack, then device -> DM: Register, with no Bootstrap-Finish in between.
    // The device's bound for acting, plus the block exchanges of a pack fetched in small blocks.
    const register = await expectRegister(t, t.timers.startupMs + exchangesMs(t.timers, PACK_BLOCKS_BUDGETED), 'the Bootstrap-Pack-Request', 'LWM2M-CORE-BSPACK-02');
    const transfer = packTransfer(t.bootstrapServer.bootstrapPackRequests.all, first, register.monoNs);
    t.note(transfer.text);
    t.check('LWM2M-CORE-BSPACK-02', 'the device fetched the whole pack before it registered', transfer.complete, {
      expected: 'every block of the pack served before the Register',
      observed: transfer.text,
    });
    const classic = t.bootstrapServer.bootstrapRequests.all.filter((r) => r.monoNs > first.monoNs && r.monoNs < register.monoNs);
    if (classic.length) t.note(`the device also sent ${describeRequest(classic[0]!)} after the pack; the Bootstrap-Server accepted it and sent nothing`);
    checkEndpointName(t, 'LWM2M-CORE-BSPACK-02', 'Register', register);
    t.check('LWM2M-CORE-BSPACK-02', 'Register carries lt = the Lifetime the pack carried in /1/2/1', register.query.get('lt')?.[0] === String(account.lifetimeS), {
      expected: `lt=${account.lifetimeS}`,
      observed: register.query.has('lt') ? `lt=${register.query.get('lt')![0]}` : 'no lt (defaults to 86400)',
    });
    if (register.answeredWith === '2.01') await noteDeviceIdentity(t, register);
    const afterMs = transfer.lastMonoNs === undefined ? undefined : CaseContext.elapsedMs(transfer.lastMonoNs, register.monoNs);
    t.pass(
      `the device asked ${seen}, took the pack (${transfer.summary}) and registered at ${t.lwm2mServer.uri} with ${describeRequest(register)}${afterMs === undefined ? '' : ` ${fmtMs(afterMs)} after the last block`}, with no Bootstrap-Finish`,
    );
  },
);

/** The blocks of the transfer that `first` opened, up to the Register: complete when the last one served had no more after it. */
function packTransfer(all: readonly BootstrapPackRequest[], first: BootstrapPackRequest, untilNs: bigint): { complete: boolean; text: string; summary: string; lastMonoNs: bigint | undefined } {
  const blocks = all.filter((r) => r.monoNs >= first.monoNs && r.monoNs <= untilNs && r.served);
  const last = blocks[blocks.length - 1];
  if (!last?.served) return { complete: false, text: `the pack was not served: the request was answered ${first.answeredWith ?? 'nothing'}`, summary: 'nothing', lastMonoNs: undefined };
  const { totalBytes, contentFormat } = last.served;
  const fetched = new Set(blocks.map((b) => b.served!.offset));
  const complete = !last.served.more;
  const summary =
    blocks.length === 1 && !first.block2 && !last.served.more && last.served.bytes === totalBytes
      ? `${totalBytes} bytes ${contentFormatName(contentFormat)} in one response`
      : `${totalBytes} bytes ${contentFormatName(contentFormat)} in ${fetched.size} Block2 block${fetched.size > 1 ? 's' : ''}`;
  const text = complete ? `pack served: ${summary}` : `pack transfer stopped after ${fetched.size} Block2 block(s) of ${totalBytes} bytes: the last block served said more were to come`;
  return { complete, text, summary, lastMonoNs: last.monoNs };
}
