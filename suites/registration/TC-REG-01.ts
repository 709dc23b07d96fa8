/*
 * Expected sequence:
 *   (precondition) device bootstrapped onto the fake LwM2M Server and registered once
 *   operator/adapter: restart the device
 *   device -> DM   CON POST /rd?ep=<endpoint>...            (a fresh Register)
 *              or  CON POST /<location>                     (a device that persisted its registration; GEISA O-3)
 *   and no Bootstrap-Request first: it holds a server account (LwM2M Core §6.1.4)
 */
import { defineCase } from '../../harness/runner/case.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { bootstrapAndRegister, describeRequest, serverAccount } from '../steps.js';
import { registeredMs } from './timers.js';

export default defineCase(
  {
    id: 'TC-REG-01',
    title: 'Registration on startup of a device that holds a server account',
    area: 'registration',
    requirements: [
      { id: 'GEISA-ADM-REG-01', section: 'GEISA adm/registration.rst', quote: 'the device SHALL attempt to register with the EMS on startup' },
      { id: 'LWM2M-CORE-BS-03', section: 'LwM2M Core 1.2 §6.1.4', quote: 'a client holding LwM2M Server accounts first tries to register before bootstrapping' },
      { id: 'GEISA-ADM-REG-05', section: 'GEISA adm/device-management.rst', quote: 'devices that persist registration state need not re-register after reboot' },
    ],
    budget: (k) => 2 * registeredMs(k),
    tags: ['registration', 'restart'],
  },
  async (t: CaseContext) => {
    await t.precondition('device bootstrapped and registered once', () => bootstrapAndRegister(t, serverAccount(t)));
    t.lwm2mServer.messages.drain();
    t.bootstrapServer.bootstrapRequests.drain();

    const restartedAt = process.hrtime.bigint();
    await t.device.restart();
    const windowMs = t.ixit.startupBoundS * 1000;
    const first = await t.lwm2mServer.expect(['register', 'update'], windowMs, t.signal);
    const bsFirst = t.bootstrapServer.bootstrapRequests.all.find((r) => r.monoNs > restartedAt && (!first || r.monoNs < first.monoNs));
    if (bsFirst) {
      t.fail('LWM2M-CORE-BS-03', `after restart the device sent a Bootstrap-Request ${describeRequest(bsFirst)} instead of registering with the server account it holds`);
    }
    if (!first) t.fail('GEISA-ADM-REG-01', `after restart the device sent neither Register nor Update to ${t.lwm2mServer.uri} within ${windowMs / 1000} s (IXIT startupBoundS)`);

    if (first.kind === 'register') {
      t.check('GEISA-ADM-REG-01', 'Register after restart carries ep = the provisioned Endpoint Client Name', first.query.get('ep')?.[0] === t.endpoint, {
        expected: `ep=${t.endpoint}`,
        observed: describeRequest(first),
      });
      t.pass(`after restart the device registered afresh: ${describeRequest(first)}`);
    } else {
      t.check('GEISA-ADM-REG-05', 'Update after restart targets a location this server handed out', first.knownLocation, {
        expected: `one of ${t.lwm2mServer.locations.join(', ') || '(none)'}`,
        observed: describeRequest(first),
      });
      t.pass(`after restart the device resumed its persisted registration with an Update: ${describeRequest(first)}`);
    }
  },
);
