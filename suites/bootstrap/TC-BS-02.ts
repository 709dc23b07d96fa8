/*
 * Expected sequence (fresh values made by the harness for this run):
 *   provision(URI A = this harness, new port; PSK identity/key A); restart the device
 *   device -> BS A   DTLS handshake with identity A, then CON POST /bs?ep=<endpoint>
 *   provision(URI B = another new port; PSK identity/key B); restart the device
 *   device -> BS B   DTLS handshake with identity B, then CON POST /bs?ep=<endpoint>
 *   and nothing more to BS A
 * The endpoint name stays the profile's (many meters derive it from a hardware identity),
 * unless the ICS claims bootstrap.provisionable-endpoint-name: then each provisioning also
 * gives a fresh one, and the Bootstrap-Request must carry it.
 */
import { defineCase } from '../../harness/runner/case.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { freshPsk } from '../../harness/servers/security.js';
import { claims } from '../../harness/profile/ics-registry.js';
import { randomBytes } from 'node:crypto';
import type { BootstrapServer } from '../../harness/servers/bootstrap-server.js';
import type { PskCredentials } from '../../harness/servers/security.js';
import { describeRequest, expectBootstrapRequest, handshakeOf, startupWindowMs } from '../steps.js';
import { bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';

export default defineCase(
  {
    id: 'TC-BS-02',
    title: 'Out-of-band preprovisioning of the Bootstrap-Server URI and PSK credentials is followed',
    area: 'bootstrap',
    requirements: [
      {
        id: 'GEISA-ADM-BS-02',
        section: 'GEISA adm/bootstrap.rst',
        quote: 'an accessible out-of-band mechanism SHALL let the operator preprovision the Bootstrap-Server URI, the account credentials and other data',
      },
      { id: 'LWM2M-TRANS-DTLS-04', section: 'OMA 0.xml res 3, 5', quote: 'the PSK identity presented is /0/x/3 of the account' },
    ],
    ics: 'bootstrap.out-of-band-provisioning',
    // Two provision-and-restart cycles, each waiting out the device's first-request window.
    budget: (k) => 2 * k.firstRequestMs,
    floor: (k) => 2 * bootstrapAndRegisterFloorMs(k),
    tags: ['bootstrap', 'provisioning', 'dtls'],
    security: 'psk',
  },
  async (t: CaseContext) => {
    const freshEndpoint = claims(t.profile.ics, 'bootstrap.provisionable-endpoint-name');
    const endpointFor = () => (freshEndpoint ? { endpoint: `urn:dev:ops:geisa-oob-${randomBytes(4).toString('hex')}` } : {});
    const first: { bootstrapServer: BootstrapServer; psk: PskCredentials; endpoint?: string } = { bootstrapServer: t.bootstrapServer, psk: t.bootstrapPsk!, ...endpointFor() };
    const secondPsk = freshPsk('bs2');
    const second: { bootstrapServer: BootstrapServer; psk: PskCredentials; endpoint?: string } = { psk: secondPsk, bootstrapServer: await t.openBootstrapServer(secondPsk), ...endpointFor() };

    const followed = async (target: typeof first, label: string) => {
      const req = await expectBootstrapRequest(t, startupWindowMs(t), `${label} provisioning and restart`, target.bootstrapServer);
      const hs = handshakeOf(target.bootstrapServer.dtls, req.remote);
      t.check('LWM2M-TRANS-DTLS-04', `${label} provisioning: PSK identity in the handshake is the one provisioned`, hs?.pskIdentity === target.psk.identity, {
        expected: `"${target.psk.identity}" at ${target.bootstrapServer.uri}`,
        observed: hs ? `"${hs.pskIdentity}"` : 'no handshake on record',
      });
      const ep = target.endpoint ?? t.endpoint;
      t.check('GEISA-ADM-BS-02', `${label} provisioning: Bootstrap-Request carries the provisioned Endpoint Client Name`, req.query.get('ep')?.[0] === ep || !req.query.has('ep'), {
        expected: `ep=${ep} (or no ep over DTLS, which GEISA leaves open)`,
        observed: describeRequest(req),
      });
      return req;
    };

    await t.device.provision(first);
    await t.device.restart();
    const reqA = await followed(first, 'first');

    const before = process.hrtime.bigint();
    await t.device.stop();
    await t.device.provision(second);
    await t.device.start();
    const reqB = await followed(second, 'second');
    const stale = first.bootstrapServer.bootstrapRequests.all.filter((r) => r.monoNs > before);
    t.check('GEISA-ADM-BS-02', 'after re-provisioning nothing more goes to the first Bootstrap-Server', stale.length === 0, {
      expected: `no Bootstrap-Request at ${first.bootstrapServer.uri}`,
      observed: stale.length ? `${stale.length}: ${describeRequest(stale[0]!)}` : 'none',
    });
    t.pass(`the device followed both provisionings: ${describeRequest(reqA)} at ${first.bootstrapServer.uri}, then ${describeRequest(reqB)} at ${second.bootstrapServer.uri}, each with the PSK identity provisioned`);
  },
);
