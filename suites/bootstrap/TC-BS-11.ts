/*
 * Expected sequence (S = the SSID of the Security instance written):
 *   device -> BS   CON POST /bs?ep=<endpoint>
 *   BS -> device   Bootstrap-Discover /                      2.05
 *   BS -> device   Bootstrap-Write /0/x (URI of the DM, SSID S)     2.04
 *   BS -> device   Bootstrap-Write /1/y (SSID S+1: no Security instance matches)  2.04
 *   BS -> device   Bootstrap-Finish (POST /bs)               4.06 Not Acceptable
 *   and no Register reaches the DM server
 */
import { defineCase } from '../../harness/runner/case.js';
import { exchangesMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { CF } from '../../harness/lwm2m/index.js';
import { securityRecords, serverRecords } from '../../harness/servers/bootstrap-plan.js';
import { describeResult } from '../../harness/servers/operations.js';
import { bootstrapRequested, describeRequest, serverAccount, unusedInstanceId } from '../steps.js';

export default defineCase(
  {
    id: 'TC-BS-11',
    title: 'Bootstrap-Finish on a Server instance without a matching Security instance is answered 4.06',
    area: 'bootstrap',
    requirements: [
      {
        id: 'LWM2M-CORE-BS-12',
        section: 'LwM2M Core 1.2 §6.1.7.7 (Bootstrap-Finish), §6.1.4 step 3',
        quote:
          'Successful Bootstrapping means that the Bootstrap-Finish operation has been received by the LwM2M Client and the loaded configuration is considered consistent by the LwM2M Client. In this case the Bootstrap-Finish response code sent to the LwM2M Bootstrap-Server is 2.04 (Changed); an inconsistent loaded configuration is answered 4.06 Not Acceptable',
      },
    ],
    // First request, Discover, two writes, Finish.
    budget: (k) => k.firstRequestMs + exchangesMs(k, 4),
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['bootstrap'],
  },
  async (t: CaseContext) => {
    const account = serverAccount(t);
    const mismatched = { ...account, ssid: account.ssid + 1 };
    const { remote } = await bootstrapRequested(t);
    const { securityIid, serverIid } = await t.precondition('bootstrap session with an inconsistent account written', async () => {
      const discover = await t.bootstrapServer.discover(remote, '/');
      if (discover.code !== '2.05') t.fail('LWM2M-CORE-BS-12', `Bootstrap-Discover /: expected 2.05, observed ${describeResult(discover)}`);
      const sec = unusedInstanceId(discover, 0);
      const srv = unusedInstanceId(discover, 1);
      for (const [path, records] of [
        [`/0/${sec}`, securityRecords(sec, account)],
        [`/1/${srv}`, serverRecords(srv, mismatched)],
      ] as const) {
        const w = await t.bootstrapServer.write(remote, path, records, CF.TLV);
        if (w.code !== '2.04') t.fail('LWM2M-CORE-BS-12', `${describeResult(w)}${w.payloadError ? ` (${w.payloadError})` : ''}`);
      }
      return { securityIid: sec, serverIid: srv };
    });

    // BS -> device: Bootstrap-Finish on a configuration with no usable LwM2M Server account
    const finish = await t.bootstrapServer.finish(remote);
    const setup = `/0/${securityIid}/10 = ${account.ssid}, /1/${serverIid}/0 = ${mismatched.ssid}`;
    const reason =
      finish.code === '2.04'
        ? 'the device accepted a configuration in which no Security instance matches the Server instance'
        : `the device rejected the configuration, but Core §6.1.7.7 gives 4.06 for an inconsistent configuration (4.00 is a bad URI)`;
    t.check('LWM2M-CORE-BS-12', 'Bootstrap-Finish on an inconsistent configuration is answered 4.06 Not Acceptable', finish.code === '4.06', {
      expected: `4.06 (${setup})`,
      observed: finish.code === '4.06' ? describeResult(finish) : `${describeResult(finish)}: ${reason}`,
    });
    const registers = t.lwm2mServer.messages.all.filter((m) => m.kind === 'register');
    t.check('LWM2M-CORE-BS-12', 'no Register on the inconsistent configuration', registers.length === 0, {
      expected: 'no Register at the DM server',
      observed: registers.length ? `Register ${describeRequest(registers[0]!)}` : 'none',
    });
    t.pass(`with ${setup} (no Security instance for the Server instance), ${describeResult(finish)}`);
  },
);
