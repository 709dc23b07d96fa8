/**
 * The reference device's registration interface and device management, against an LwM2M
 * Server scripted in the test: Register, the Update heartbeat, fallbacks to Register, DM
 * operations, restarts, and the registration defects.
 */
import { contentFormat } from '../harness/coap/message.js';
import { CF, decodeContent, encodeTlv, parseLinkFormat, parsePath } from '../harness/lwm2m/index.js';
import { DeviceBench, FAST_MAX_TRANSMIT_WAIT_MS, PROMPT_MS, benchPerTest } from './support/device-bench.js';
import { ManualClock } from './support/manual-clock.js';
import type { DefectName } from '../fixtures/device/defects.js';
import { elapsedMs, isBootstrapRequest, isDeregister, isRegister, isUpdate, type SeenRequest } from './support/scripted-peers.js';

const EARLY_MS = 20;
const LIFETIME_S = 4;

const openBench = benchPerTest();

/** A device bootstrapped onto the scripted server and registered there once. */
async function registered(opts: { defect?: DefectName; persistRegistration?: boolean; lifetimeS?: number; disableTimeoutS?: number; clock?: ManualClock } = {}) {
  const b = await openBench({ defect: opts.defect, persistRegistration: opts.persistRegistration, clock: opts.clock });
  await b.provisionAndStart();
  expect(await b.bootstrapOnto({ lifetimeS: opts.lifetimeS ?? LIFETIME_S, disableTimeoutS: opts.disableTimeoutS })).toEqual(['2.04', '2.04', '2.04']);
  const register = await b.must(b.server, isRegister, PROMPT_MS, 'Register');
  // The device arms its heartbeat and expiry once it has taken the 2.01.
  await b.waitForLog(/registered at/, PROMPT_MS);
  const location = b.desk.locations[b.desk.locations.length - 1]!;
  return { b, register, location };
}

const isRegistrationMessage = (r: SeenRequest) => isRegister(r) || isUpdate(r);

/**
 * Moves the device's clock to 1 ms short of `delayMs`, where the server may have heard
 * nothing new yet, then to it; resolves with the registration message that follows.
 */
async function messageAfter(b: DeviceBench, clock: ManualClock, delayMs: number, what: string): Promise<SeenRequest> {
  const before = b.server.inbox.all.length;
  clock.advance(delayMs - 1);
  expect(
    `${what} early: ${b.server.inbox.all
      .slice(before)
      .map((r) => r.path)
      .join(' ')}`,
  ).toBe(`${what} early: `);
  clock.advance(1);
  return b.must(b.server, isRegistrationMessage, PROMPT_MS, what);
}

describe('registration and the Update heartbeat', () => {
  test('Update goes to the multi-segment location, empty, at about half the lifetime and before it ends', async () => {
    const clock = new ManualClock();
    const { b, location } = await registered({ clock });
    expect(location.split('/').length).toBe(4);
    // The heartbeat at half the lifetime, and the expiry at its end.
    expect(clock.waiting()).toEqual([(LIFETIME_S * 1000) / 2, LIFETIME_S * 1000]);
    const update = await messageAfter(b, clock, (LIFETIME_S * 1000) / 2, 'Update');
    expect(isUpdate(update)).toBe(true);
    expect(update.path).toBe(location);
    expect(update.msg.type).toBe('CON');
    expect(update.query.size).toBe(0);
    expect(update.msg.payload.length).toBe(0);
  });

  test('an Update answered 4.04 is followed by a full Register', async () => {
    const clock = new ManualClock();
    const { b } = await registered({ lifetimeS: 2, clock });
    b.desk.updatePolicy = { code: '4.04' };
    expect(isUpdate(await messageAfter(b, clock, 1000, 'Update'))).toBe(true);
    const again = await b.must(b.server, isRegistrationMessage, PROMPT_MS, 'Register after 4.04');
    expect(isRegister(again)).toBe(true);
    expect(again.query.get('ep')).toEqual([b.endpoint]);
  });

  test('an Update that times out is followed by a full Register', async () => {
    // The heartbeat on the manual clock; the Update's CoAP timeout, which is the wire, in real time.
    const clock = new ManualClock();
    const { b } = await registered({ lifetimeS: 2, clock });
    b.desk.updatePolicy = 'silent';
    const update = await messageAfter(b, clock, 1000, 'Update');
    expect(isUpdate(update)).toBe(true);
    const again = await b.must(b.server, isRegister, FAST_MAX_TRANSMIT_WAIT_MS + PROMPT_MS, 'Register after the Update timed out');
    expect(elapsedMs(update.monoNs, again.monoNs)).toBeGreaterThanOrEqual(FAST_MAX_TRANSMIT_WAIT_MS * (2 / 3) - EARLY_MS);
  });
});

describe('device management from the registered server', () => {
  test('Read /3/0 is 2.05 (TLV by default, SenML JSON on request); Read /0 is 4.01; unknown paths 4.04; wrong methods 4.05', async () => {
    const { b } = await registered({ lifetimeS: 30 });
    const dev = b.deviceAddress;
    const read = await b.server.request(dev, { method: 'GET', path: '/3/0' });
    expect([read.msg.code, contentFormat(read.msg)]).toEqual(['2.05', CF.TLV]);
    const decoded = decodeContent(CF.TLV, read.msg.payload, parsePath('/3/0'));
    expect(decoded.ok && decoded.records?.find((r) => r.path.resourceId === 0)?.value).toBe('GEISA reference');
    const json = await b.server.request(dev, { method: 'GET', path: '/3/0/16', accept: CF.SENML_JSON });
    expect(json.msg.code).toBe('2.05');
    expect(JSON.parse(json.msg.payload.toString())[0]).toMatchObject({ vs: 'U' });
    const text = await b.server.request(dev, { method: 'GET', path: '/1/0/1', accept: CF.TEXT });
    expect([text.msg.code, text.msg.payload.toString()]).toEqual(['2.05', '30']);
    expect((await b.server.request(dev, { method: 'GET', path: '/0' })).msg.code).toBe('4.01');
    expect((await b.server.request(dev, { method: 'GET', path: '/0/1/5' })).msg.code).toBe('4.01');
    expect((await b.server.request(dev, { method: 'GET', path: '/5/0' })).msg.code).toBe('4.04');
    expect((await b.server.request(dev, { method: 'GET', path: '/1/7' })).msg.code).toBe('4.04');
    expect((await b.server.request(dev, { method: 'DELETE', path: '/3/0' })).msg.code).toBe('4.05');
    expect((await b.server.request(dev, { method: 'GET', path: '/1/0/8' })).msg.code).toBe('4.05');
  });

  test('Discover /1/0 lists the instance and its resources', async () => {
    const { b } = await registered({ lifetimeS: 30 });
    const res = await b.server.request(b.deviceAddress, { method: 'GET', path: '/1/0', accept: CF.LINK_FORMAT });
    expect(res.msg.code).toBe('2.05');
    const targets = parseLinkFormat(res.msg.payload.toString()).map((l) => l.target);
    expect(targets).toEqual(expect.arrayContaining(['/1/0', '/1/0/0', '/1/0/1', '/1/0/8']));
  });

  test('Write of the lifetime is 2.04 and an Update carrying lt= only follows', async () => {
    const { b, location } = await registered({ lifetimeS: 30 });
    const res = await b.server.request(b.deviceAddress, {
      method: 'PUT',
      path: '/1/0/1',
      contentFormat: CF.TLV,
      payload: encodeTlv([{ path: parsePath('/1/0/1'), value: 6 }], parsePath('/1/0/1')),
    });
    expect(res.msg.code).toBe('2.04');
    const update = await b.must(b.server, isUpdate, PROMPT_MS, 'Update after the lifetime Write');
    expect(update.path).toBe(location);
    expect([...update.query.entries()]).toEqual([['lt', ['6']]]);
    const readOnly = await b.server.request(b.deviceAddress, { method: 'PUT', path: '/1/0/0', contentFormat: CF.TEXT, payload: Buffer.from('7') });
    expect(readOnly.msg.code).toBe('4.05');
  });

  test('Execute Registration Update Trigger is 2.04, then an Update', async () => {
    const { b, location } = await registered({ lifetimeS: 30 });
    const res = await b.server.request(b.deviceAddress, { method: 'POST', path: '/1/0/8' });
    expect(res.msg.code).toBe('2.04');
    const update = await b.must(b.server, isUpdate, PROMPT_MS, 'Update after the trigger');
    expect(update.path).toBe(location);
    expect(update.query.size).toBe(0);
  });

  test('Execute Disable is 2.04, then De-register; after the Disable Timeout the device registers again', async () => {
    const clock = new ManualClock();
    const { b, location } = await registered({ lifetimeS: 30, disableTimeoutS: 1, clock });
    const res = await b.server.request(b.deviceAddress, { method: 'POST', path: '/1/0/4' });
    expect(res.msg.code).toBe('2.04');
    const dereg = await b.must(b.server, isDeregister, PROMPT_MS, 'De-register');
    expect(dereg.path).toBe(location);
    // Offline: only the Disable Timeout is left; heartbeat and expiry went with the registration.
    await b.waitForLog(/De-register answered/, PROMPT_MS);
    expect(clock.waiting()).toEqual([1000]);
    const again = await messageAfter(b, clock, 1000, 'Register after the Disable Timeout');
    expect(isRegister(again)).toBe(true);
  });

  test('Execute Bootstrap-Request Trigger is 2.04, then a Bootstrap-Request', async () => {
    const { b } = await registered({ lifetimeS: 30 });
    const res = await b.server.request(b.deviceAddress, { method: 'POST', path: '/1/0/9' });
    expect(res.msg.code).toBe('2.04');
    const req = await b.must(b.bs, isBootstrapRequest, PROMPT_MS, 'Bootstrap-Request after the trigger');
    expect(req.query.get('ep')).toEqual([b.endpoint]);
  });
});

describe('restart', () => {
  test('a restarted device holding a server account registers first, without bootstrapping', async () => {
    const { b } = await registered({ lifetimeS: 30 });
    await b.restart();
    const first = await b.must(b.server, isRegistrationMessage, PROMPT_MS, 'Register after restart');
    expect(isRegister(first)).toBe(true);
    expect(first.query.get('ep')).toEqual([b.endpoint]);
    expect(first.query.get('lt')).toEqual(['30']);
    expect(b.bs.inbox.all.filter(isBootstrapRequest)).toHaveLength(1);
  });

  test('with persistRegistration the restarted device resumes with an Update to its old location', async () => {
    const { b, location } = await registered({ lifetimeS: 30, persistRegistration: true });
    // The state file is written once the device has the 2.01; a power cut before that loses it.
    await b.waitForLog(/registered at/, PROMPT_MS);
    await b.restart();
    const first = await b.must(b.server, isRegistrationMessage, PROMPT_MS, 'Update after restart');
    expect(isUpdate(first)).toBe(true);
    expect(first.path).toBe(location);
  });
});

describe('registration defects', () => {
  test('ignore-written-lifetime: Register carries lt=86400 although 4 s was written', async () => {
    const { register } = await registered({ defect: 'ignore-written-lifetime' });
    expect(register.query.get('lt')).toEqual(['86400']);
  });

  test('no-update: no Update within the lifetime; a new Register once it has expired', async () => {
    const clock = new ManualClock();
    const { b } = await registered({ defect: 'no-update', clock });
    // No heartbeat armed: only the expiry.
    expect(clock.waiting()).toEqual([LIFETIME_S * 1000]);
    const next = await messageAfter(b, clock, LIFETIME_S * 1000, 'Register after expiry');
    expect(isRegister(next)).toBe(true);
  });

  test('no-register-on-start: a restarted device holding a server account stays silent', async () => {
    const { b } = await registered({ defect: 'no-register-on-start', lifetimeS: 30 });
    await b.restart();
    expect(await b.server.next(isRegistrationMessage, PROMPT_MS)).toBeUndefined();
    expect(await b.bs.next(isBootstrapRequest, 0)).toBeUndefined();
  });

  test('wrong-endpoint-name: the Register after a restart carries the serial number', async () => {
    const { b } = await registered({ defect: 'wrong-endpoint-name', lifetimeS: 30 });
    await b.restart();
    const first = await b.must(b.server, isRegister, PROMPT_MS, 'Register after restart');
    expect(first.query.get('ep')?.[0]).toMatch(/^GRD-/);
  });
});
