/**
 * The reference device's registration behaviour that the Registration cases (TC-REG-03 …
 * -12) lean on, against scripted servers: a new DTLS security context (the LwM2M Server
 * ends the session with close_notify) leads to a Register, not an Update; and each seeded
 * registration defect shows on the wire as the mistake it names.
 */
import { contentFormat } from '../harness/coap/message.js';
import { CF, decodeContent, encodeContent, encodeTlv, parseLinkFormat, parsePath } from '../harness/lwm2m/index.js';
import type { DefectName } from '../fixtures/device/defects.js';
import { ManualClock } from './support/manual-clock.js';
import { DeviceBench, FAST_MAX_TRANSMIT_WAIT_MS, FAST_PARAMS, PROMPT_MS, type Psk, securityRecords, serverRecords, benchPerTest } from './support/device-bench.js';
import { type ScriptedPeer, type SeenRequest, isBootstrapRequest, isDeregister, isRegister, isUpdate, openBootstrapServer, openLwm2mServer } from './support/scripted-peers.js';

const harnessDtls = await import('../harness/dtls/index.js');

const LIFETIME_S = 2;

const openBench = benchPerTest();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

const isRegistrationMessage = (r: SeenRequest) => isRegister(r) || isUpdate(r);

/** A device bootstrapped onto the plain-CoAP scripted server and registered there once. */
async function registered(opts: { defect?: DefectName; lifetimeS?: number; clock?: ManualClock } = {}) {
  const b = await openBench({ defect: opts.defect, clock: opts.clock });
  await b.provisionAndStart();
  expect(await b.bootstrapOnto({ lifetimeS: opts.lifetimeS ?? LIFETIME_S })).toEqual(['2.04', '2.04', '2.04']);
  const register = await b.must(b.server, isRegister, PROMPT_MS, 'Register');
  // The device arms its heartbeat and expiry once it has taken the 2.01.
  await b.waitForLog(/registered at/, PROMPT_MS);
  const location = b.desk.locations[b.desk.locations.length - 1]!;
  return { b, register, location };
}

describe('a new DTLS security context with the LwM2M Server', () => {
  const BS: Psk = { identity: 'reg-dm-bs-id', key: Buffer.from('0f0e0d0c0b0a09080706050403020100', 'hex') };
  const DM: Psk = { identity: 'reg-dm-dm-id', key: Buffer.from('1f1e1d1c1b1a19181716151413121110', 'hex') };

  async function harnessServer(psk: Psk, role: 'bs' | 'dm') {
    const server = await harnessDtls.DtlsServer.listen({
      address: '127.0.0.1',
      cipherSuites: ['TLS_PSK_WITH_AES_128_CCM_8'],
      pskLookup: (identity) => (identity === psk.identity ? psk.key : null),
    });
    let handshakes = 0;
    server.on('handshake', () => handshakes++);
    const transport = harnessDtls.DtlsTransport.over(server, role === 'bs' ? 'bootstrap-server' : 'lwm2m-server');
    const peer = role === 'bs' ? await openBootstrapServer(FAST_PARAMS, transport) : (await openLwm2mServer(FAST_PARAMS, transport)).peer;
    cleanups.push(() => peer.close());
    return { peer, transport, handshakes: () => handshakes };
  }

  async function bootstrapThrough(bs: ScriptedPeer, dmUri: string, b: DeviceBench): Promise<string[]> {
    const req = await b.must(bs, isBootstrapRequest, 3 * PROMPT_MS, 'Bootstrap-Request');
    const put = async (path: string, records: ReturnType<typeof securityRecords>) => (await bs.request(req.remote, { method: 'PUT', path, contentFormat: CF.TLV, payload: encodeTlv(records, parsePath(path)) })).msg.code;
    return [await put('/0/1', securityRecords(1, dmUri, 101, DM)), await put('/1/0', serverRecords(0, { lifetimeS: LIFETIME_S })), (await bs.request(req.remote, { method: 'POST', path: '/bs' })).msg.code];
  }

  async function registeredOverDtls(defect?: DefectName) {
    const bs = await harnessServer(BS, 'bs');
    const dm = await harnessServer(DM, 'dm');
    const b = await openBench({ dtls: true, defect });
    await b.provision(bs.peer.uri, BS);
    await b.start();
    expect(await bootstrapThrough(bs.peer, dm.peer.uri, b)).toEqual(['2.04', '2.04', '2.04']);
    const register = await b.must(dm.peer, isRegister, 3 * PROMPT_MS, 'Register over DTLS');
    expect(dm.handshakes()).toBe(1);
    expect(await dm.transport.dropSession(register.remote)).toBe(true);
    await b.waitForLog(/the DTLS session with the LwM2M Server ended|DTLS session with .* closed by the peer/, PROMPT_MS);
    return { b, dm };
  }

  test('after close_notify from the server the next message, over a new handshake, is a Register', async () => {
    const { b, dm } = await registeredOverDtls();
    await b.waitForLog(/the next message to it is a Register/, PROMPT_MS);
    const next = await b.must(dm.peer, isRegistrationMessage, LIFETIME_S * 1000 + 3 * PROMPT_MS, 'the first request after the session was lost');
    expect(isRegister(next)).toBe(true);
    expect(dm.handshakes()).toBe(2);
  });

  test('update-after-new-dtls-session: the device handshakes again and sends an Update', async () => {
    const { b, dm } = await registeredOverDtls('update-after-new-dtls-session');
    const next = await b.must(dm.peer, isRegistrationMessage, LIFETIME_S * 1000 + 3 * PROMPT_MS, 'the first request after the session was lost');
    expect(isUpdate(next)).toBe(true);
    expect(dm.handshakes()).toBe(2);
  });
});

describe('registration defects the Registration cases catch', () => {
  test('register-wrong-lwm2m-version: Register says lwm2m=1.1', async () => {
    const { register } = await registered({ defect: 'register-wrong-lwm2m-version' });
    expect(register.query.get('lwm2m')).toEqual(['1.1']);
  });

  test('register-lists-security-object: the Register payload lists /0 instances; the conformant device lists none', async () => {
    const bad = await registered({ defect: 'register-lists-security-object' });
    expect(parseLinkFormat(bad.register.msg.payload.toString('utf8')).some((l) => l.target.startsWith('/0/'))).toBe(true);
    const good = await registered();
    expect(contentFormat(good.register.msg)).toBe(CF.LINK_FORMAT);
    expect(parseLinkFormat(good.register.msg.payload.toString('utf8')).some((l) => /^\/0(\/|$)/.test(l.target))).toBe(false);
  });

  test('wrong-location: the Update goes to the last Location-Path segment only', async () => {
    const clock = new ManualClock();
    const { b, location } = await registered({ defect: 'wrong-location', clock });
    clock.advance((LIFETIME_S * 1000) / 2);
    const update = await b.must(b.server, (r) => r.msg.code === '0.02' && r.path !== '/rd', PROMPT_MS, 'Update');
    expect(update.path).toBe('/' + location.split('/').pop());
  });

  test('update-resends-everything: the heartbeat carries lt, b and the object links', async () => {
    const clock = new ManualClock();
    const { b, location } = await registered({ defect: 'update-resends-everything', clock });
    clock.advance((LIFETIME_S * 1000) / 2);
    const update = await b.must(b.server, isUpdate, PROMPT_MS, 'Update');
    expect(update.path).toBe(location);
    expect([...update.query.keys()].sort()).toEqual(['b', 'lt']);
    expect(update.msg.payload.length).toBeGreaterThan(0);
  });

  test('update-trigger-ignored: Execute /1/0/8 is 2.04 and no Update follows', async () => {
    const { b } = await registered({ defect: 'update-trigger-ignored', lifetimeS: 30 });
    const res = await b.server.request(b.deviceAddress, { method: 'POST', path: '/1/0/8' });
    expect(res.msg.code).toBe('2.04');
    expect(await b.server.next(isRegistrationMessage, PROMPT_MS)).toBeUndefined();
  });

  test('update-without-register-after-404: after a 4.04 the next message is again an Update', async () => {
    const clock = new ManualClock();
    const { b } = await registered({ defect: 'update-without-register-after-404', clock });
    b.desk.updatePolicy = { code: '4.04' };
    clock.advance((LIFETIME_S * 1000) / 2);
    await b.must(b.server, isUpdate, PROMPT_MS, 'Update');
    // A conformant device registers at once; this one waits for its next heartbeat.
    await b.waitForLog(/Update answered 4.04/, PROMPT_MS);
    expect(b.server.inbox.all.filter(isRegister)).toHaveLength(1);
    clock.advance((LIFETIME_S * 1000) / 2);
    const next = await b.must(b.server, isRegistrationMessage, PROMPT_MS, 'message after the 4.04');
    expect(isUpdate(next)).toBe(true);
  });

  test('update-after-expiry: unanswered Updates are followed by new Updates past the lifetime, never a Register', async () => {
    const { b, register } = await registered({ defect: 'update-after-expiry' });
    b.desk.updatePolicy = 'silent';
    const first = await b.must(b.server, isUpdate, LIFETIME_S * 1000 + PROMPT_MS, 'Update');
    const second = await b.must(b.server, isRegistrationMessage, FAST_MAX_TRANSMIT_WAIT_MS + PROMPT_MS, 'message after the unanswered Update');
    expect(isUpdate(second)).toBe(true);
    expect(second.msg.mid).not.toBe(first.msg.mid);
    const third = await b.must(b.server, isRegistrationMessage, FAST_MAX_TRANSMIT_WAIT_MS + PROMPT_MS, 'message after the second unanswered Update');
    expect(isUpdate(third)).toBe(true);
    expect(Number(third.monoNs - register.monoNs) / 1e6).toBeGreaterThan(LIFETIME_S * 1000);
  });

  test('no-deregister-on-disable: Execute /1/0/4 is 2.04 and no De-register follows', async () => {
    const { b } = await registered({ defect: 'no-deregister-on-disable', lifetimeS: 30 });
    const res = await b.server.request(b.deviceAddress, { method: 'POST', path: '/1/0/4' });
    expect(res.msg.code).toBe('2.04');
    expect(await b.server.next(isDeregister, PROMPT_MS)).toBeUndefined();
  });

  test('reregister-on-config-write: a Write of /1/0/3 is followed by a new Register; the conformant device sends none', async () => {
    for (const defect of ['reregister-on-config-write', undefined] as const) {
      const { b } = await registered({ defect, lifetimeS: 30 });
      const res = await b.server.request(b.deviceAddress, { method: 'PUT', path: '/1/0/3', contentFormat: CF.TEXT, payload: Buffer.from('60') });
      expect(res.msg.code).toBe('2.04');
      const next = await b.server.next(isRegistrationMessage, PROMPT_MS);
      if (defect) expect(next && isRegister(next)).toBe(true);
      else expect(next).toBeUndefined();
    }
  });
});

describe('LwM2M CBOR (11544) in Device Management', () => {
  test.each([
    ['the conformant device', undefined, '2.04', '2.05'],
    ['defect lwm2m-cbor-rejected', 'lwm2m-cbor-rejected' as const, '4.15', '4.06'],
  ])('Write /1/0 (partial update) and Read /1/0 in LwM2M CBOR on %s: %s / %s', async (_label, defect, writeCode, readCode) => {
    const { b } = await registered({ defect, lifetimeS: 30 });
    const written = { path: parsePath('/1/0/3'), value: 61 };
    const payload = encodeContent(CF.LWM2M_CBOR, [written], parsePath('/1/0'));
    const w = await b.server.request(b.deviceAddress, { method: 'POST', path: '/1/0', contentFormat: CF.LWM2M_CBOR, payload });
    expect(w.msg.code).toBe(writeCode);
    const r = await b.server.request(b.deviceAddress, { method: 'GET', path: '/1/0', accept: CF.LWM2M_CBOR });
    expect(r.msg.code).toBe(readCode);
    if (readCode === '2.05') {
      expect(contentFormat(r.msg)).toBe(CF.LWM2M_CBOR);
      const decoded = decodeContent(CF.LWM2M_CBOR, r.msg.payload, parsePath('/1/0'));
      expect(decoded.ok && decoded.records).toEqual(expect.arrayContaining([written, { path: parsePath('/1/0/1'), value: 30 }]));
    }
  });
});
