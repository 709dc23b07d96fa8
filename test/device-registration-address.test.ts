/**
 * The reference device when its own address changes while it is registered (what the DUT
 * action changeAddress does to it, TC-REG-13): a new socket on a new port, then an Update
 * to its location from there over plain CoAP; over DTLS the session went with the old
 * address, so the new handshake is followed by a Register (LwM2M Transport §6.4.3). The
 * defect no-update-on-address-change sends nothing.
 */
import type { DefectName } from '../fixtures/device/defects.js';
import { PROMPT_MS, benchPerTest } from './support/device-bench.js';
import { type SeenRequest, isDeregister, isRegister, isUpdate } from './support/scripted-peers.js';

/** Long enough that no heartbeat falls inside a test. */
const LIFETIME_S = 3600;

const openBench = benchPerTest();

const isRegistrationMessage = (r: SeenRequest) => isRegister(r) || isUpdate(r) || isDeregister(r);

async function registered(opts: { defect?: DefectName; dtls?: boolean } = {}) {
  const b = await openBench(opts);
  await b.provisionAndStart();
  expect(await b.bootstrapOnto({ lifetimeS: LIFETIME_S })).toEqual(['2.04', '2.04', '2.04']);
  const register = await b.must(b.server, isRegister, 3 * PROMPT_MS, 'Register');
  await b.waitForLog(/registered at \/rd\//, PROMPT_MS);
  return { b, register, location: b.desk.locations[b.desk.locations.length - 1]! };
}

describe('the device address changes while registered', () => {
  test('plain CoAP: the socket moves to a new port and the next message is an Update to the location, from that port', async () => {
    const { b, register, location } = await registered();
    const before = b.deviceAddress;
    expect(register.remote).toEqual(before);
    const after = await b.device!.changeAddress();
    expect(after.port).not.toBe(before.port);
    expect(b.deviceAddress).toEqual(after);
    const next = await b.must(b.server, isRegistrationMessage, PROMPT_MS, 'the first message after the address change');
    expect(isUpdate(next)).toBe(true);
    expect(next.path).toBe(location);
    expect(next.remote).toEqual(after);
    await b.waitForLog(/Update answered 2\.04/, PROMPT_MS);
  });

  test('DTLS: the session goes with the old address and the next message, over a new handshake from a new port, is a Register', async () => {
    const { b, register } = await registered({ dtls: true });
    await b.device!.changeAddress();
    await b.waitForLog(/source address changed .* \(DTLS sessions with .* ended\)/, PROMPT_MS);
    const next = await b.must(b.server, isRegistrationMessage, 3 * PROMPT_MS, 'the first message after the address change');
    expect(isRegister(next)).toBe(true);
    expect(next.remote.port).not.toBe(register.remote.port);
  });

  test('no-update-on-address-change: the device moves to a new port and tells the server nothing', async () => {
    const { b } = await registered({ defect: 'no-update-on-address-change' });
    await b.device!.changeAddress();
    await b.waitForLog(/source address changed .*: the server is not told until the next heartbeat/, PROMPT_MS);
    // Bounded: the conformant device's Update arrives well inside PROMPT_MS (first test).
    expect(await b.server.next(isRegistrationMessage, PROMPT_MS)).toBeUndefined();
  });
});
