/**
 * The reference device's client-initiated bootstrap, against a Bootstrap-Server and an
 * LwM2M Server scripted in the test (real UDP on 127.0.0.1, OS-chosen ports).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { contentFormat } from '../harness/coap/message.js';
import { CF, decodeContent, encodeTlv, parseLinkFormat, parsePath } from '../harness/lwm2m/index.js';
import { DeviceBench, FAST_EXCHANGE_LIFETIME_MS, PROMPT_MS, securityRecords, benchPerTest } from './support/device-bench.js';
import { DEFECTS, parseDefect } from '../fixtures/device/defects.js';
import { provisionDevice } from '../fixtures/device/provision.js';
import { elapsedMs, isBootstrapRequest, isRegister } from './support/scripted-peers.js';
import { loadState } from '../fixtures/device/state.js';

// Timers fire no earlier than asked; this absorbs loopback and clock-read jitter only.
const EARLY_MS = 20;

const bench = benchPerTest();

async function discover(b: DeviceBench, path = '/') {
  const res = await b.bs.request(b.deviceAddress, { method: 'GET', path, accept: CF.LINK_FORMAT });
  return { code: res.msg.code, text: res.msg.payload.toString('utf8'), cf: contentFormat(res.msg) };
}

describe('client-initiated bootstrap, then registration', () => {
  test.each([
    ['TLV', CF.TLV],
    ['SenML JSON', CF.SENML_JSON],
    ['SenML CBOR', CF.SENML_CBOR],
  ])('Bootstrap-Write in %s: Finish 2.04, then Register with the written server and lifetime', async (_name, format) => {
    const b = await bench();
    const req = await b.provisionAndStart();
    expect(req.msg.type).toBe('CON');
    expect(req.query.get('ep')).toEqual([b.endpoint]);

    const d = await discover(b);
    expect(d.code).toBe('2.05');
    expect(d.cf).toBe(CF.LINK_FORMAT);
    expect(d.text.startsWith('</>;lwm2m="1.2"')).toBe(true);
    const bsLink = parseLinkFormat(d.text).find((l) => l.target === '/0/0');
    expect(bsLink?.attributes.uri).toBe(b.bs.uri);
    expect(bsLink?.attributes.ssid).toBeUndefined();
    expect(d.text).toContain('</3/0>');

    expect(await b.bootstrapOnto({ lifetimeS: 4 }, format)).toEqual(['2.04', '2.04', '2.04']);
    const reg = await b.must(b.server, isRegister, PROMPT_MS, 'Register after Finish');
    expect(reg.msg.type).toBe('CON');
    expect(reg.query.get('ep')).toEqual([b.endpoint]);
    expect(reg.query.get('lt')).toEqual(['4']);
    expect(reg.query.get('lwm2m')).toEqual(['1.2']);
    expect(reg.query.get('b')).toEqual(['U']);
    expect(contentFormat(reg.msg)).toBe(CF.LINK_FORMAT);
    const targets = parseLinkFormat(reg.msg.payload.toString('utf8')).map((l) => l.target);
    expect(targets).toEqual(['/1/0', '/3/0', '/4/0']);

    const state = await loadState(b.stateFile);
    expect(state.objects.get(0)?.get(1)?.get(0)).toBe(b.server.uri);
    expect(state.objects.get(1)?.get(0)?.get(1)).toBe(4);
  });

  test('Discover after the writes lists the server account with ssid and uri, and the Server instance with ssid', async () => {
    const b = await bench();
    await b.provisionAndStart();
    await b.write('/0/1', securityRecords(1, b.server.uri, 101));
    const d = await discover(b, '/0');
    expect(d.code).toBe('2.05');
    const links = parseLinkFormat(d.text);
    expect(links[0]!.target).toBe('/');
    expect(links.find((l) => l.target === '/0/1')?.attributes).toMatchObject({ ssid: '101', uri: b.server.uri });
    expect((await discover(b, '/0/0')).code).toBe('4.00');
  });

  test('the Bootstrap-Request waits the Client Hold Off Time', async () => {
    const b = await bench({ holdOffS: 1 });
    await b.provision();
    await b.start();
    const req = await b.expectBootstrapRequest();
    expect(elapsedMs(b.startedNs, req.monoNs)).toBeGreaterThanOrEqual(1000 - EARLY_MS);
  });

  test('a rejected Bootstrap-Request is repeated only after a back-off of at least 1 s', async () => {
    const b = await bench();
    b.bs.answer = () => ({ code: '4.00' });
    const first = await b.provisionAndStart();
    const second = await b.must(b.bs, isBootstrapRequest, 1000 * 1.5 + PROMPT_MS, 'second Bootstrap-Request');
    expect(elapsedMs(first.monoNs, second.monoNs)).toBeGreaterThanOrEqual(1000 - EARLY_MS);
  });

  test('the state file is written atomically and keeps opaque resources as hex', async () => {
    const b = await bench();
    await b.provisionAndStart();
    expect(await b.bootstrapOnto({ lifetimeS: 30 })).toEqual(['2.04', '2.04', '2.04']);
    await b.must(b.server, isRegister, PROMPT_MS, 'Register');
    const json = JSON.parse(await readFile(b.stateFile, 'utf8'));
    expect(json.objects['0']['1']['5']).toBe('');
    expect(json.objects['3']['0']['0']).toBe('GEISA reference');
    const { readdir } = await import('node:fs/promises');
    expect((await readdir(b.dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('Bootstrap interface semantics', () => {
  test('Write with an unsupported Content-Format is 4.15; an undecodable payload is 4.00', async () => {
    const b = await bench();
    await b.provisionAndStart();
    const tlv = encodeTlv(securityRecords(1, b.server.uri, 101), parsePath('/0/1'));
    const odd = await b.bs.request(b.deviceAddress, { method: 'PUT', path: '/0/1', contentFormat: 9999, payload: tlv });
    expect(odd.msg.code).toBe('4.15');
    const broken = await b.bs.request(b.deviceAddress, { method: 'PUT', path: '/0/1', contentFormat: CF.TLV, payload: tlv.subarray(0, tlv.length - 1) });
    expect(broken.msg.code).toBe('4.00');
  });

  test('Write ignores unknown optional resources in an instance write', async () => {
    const b = await bench();
    await b.provisionAndStart();
    const records = [...securityRecords(1, b.server.uri, 101), { path: parsePath('/0/1/99'), value: 7 }];
    expect(await b.write('/0/1', records)).toBe('2.04');
    const d = await discover(b);
    expect(d.text).toContain('</0/1>;ssid=101');
  });

  test('a second Bootstrap-Server account is refused with 4.00', async () => {
    const b = await bench();
    await b.provisionAndStart();
    const records = securityRecords(42, 'coap://127.0.0.1:1', 7).map((r) => (r.path.resourceId === 1 ? { ...r, value: true } : r));
    expect(await b.write('/0/42', records)).toBe('4.00');
    expect((await discover(b)).text).not.toContain('</0/42>');
  });

  test('Delete / keeps the Bootstrap-Server account and the Device object', async () => {
    const b = await bench();
    await b.provisionAndStart();
    await b.write('/0/1', securityRecords(1, b.server.uri, 101));
    const del = await b.bs.request(b.deviceAddress, { method: 'DELETE', path: '/' });
    expect(del.msg.code).toBe('2.02');
    const targets = parseLinkFormat((await discover(b)).text).map((l) => l.target);
    // Connectivity Monitoring /4/0 (provisioned) is gone; the object itself is still listed.
    expect(targets).toEqual(['/', '/0/0', '/1', '/3/0', '/4']);
    const delBs = await b.bs.request(b.deviceAddress, { method: 'DELETE', path: '/0/0' });
    expect(delBs.msg.code).toBe('4.00');
  });

  test('Bootstrap-Read is 2.05 on /1 and 4.05 on /0', async () => {
    const b = await bench();
    await b.provisionAndStart();
    await b.write('/1/0', [
      { path: parsePath('/1/0/0'), value: 101 },
      { path: parsePath('/1/0/1'), value: 60 },
    ]);
    const read = await b.bs.request(b.deviceAddress, { method: 'GET', path: '/1', accept: CF.TLV });
    expect(read.msg.code).toBe('2.05');
    const decoded = decodeContent(contentFormat(read.msg), read.msg.payload, parsePath('/1'));
    expect(decoded.ok && decoded.records?.find((r) => r.path.resourceId === 1)?.value).toBe(60);
    const senml = await b.bs.request(b.deviceAddress, { method: 'GET', path: '/1/0', accept: CF.SENML_CBOR });
    expect([senml.msg.code, contentFormat(senml.msg)]).toEqual(['2.05', CF.SENML_CBOR]);
    const sec = await b.bs.request(b.deviceAddress, { method: 'GET', path: '/0', accept: CF.TLV });
    expect(sec.msg.code).toBe('4.05');
  });

  test('Finish without a usable server account is 4.06 and the configuration from before the session returns', async () => {
    const b = await bench();
    await b.provisionAndStart();
    expect(await b.write('/0/1', securityRecords(1, b.server.uri, 101))).toBe('2.04');
    expect(await b.finish()).toBe('4.06');
    const targets = parseLinkFormat((await discover(b)).text).map((l) => l.target);
    expect(targets).toEqual(['/', '/0/0', '/1', '/3/0', '/4/0']);
    expect(await b.server.next(isRegister, PROMPT_MS)).toBeUndefined();
  });

  test('without Finish within EXCHANGE_LIFETIME the session fails, the configuration is restored and a new Bootstrap-Request follows', async () => {
    const b = await bench();
    await b.provisionAndStart();
    await b.write('/0/1', securityRecords(1, b.server.uri, 101));
    const lastExchangeNs = process.hrtime.bigint();
    const again = await b.must(b.bs, isBootstrapRequest, FAST_EXCHANGE_LIFETIME_MS + PROMPT_MS, 'new Bootstrap-Request after the failed session');
    expect(elapsedMs(lastExchangeNs, again.monoNs)).toBeGreaterThanOrEqual(FAST_EXCHANGE_LIFETIME_MS - EARLY_MS);
    expect((await discover(b)).text).not.toContain('</0/1>');
    expect(b.server.inbox.all.filter(isRegister)).toEqual([]);
  });

  test('a request from a peer that is neither the Bootstrap-Server nor the registered server is 4.01', async () => {
    const b = await bench();
    await b.provisionAndStart();
    const res = await b.server.request(b.deviceAddress, { method: 'PUT', path: '/0/1', contentFormat: CF.TLV, payload: encodeTlv(securityRecords(1, b.server.uri, 101), parsePath('/0/1')) });
    expect(res.msg.code).toBe('4.01');
  });
});

describe('provisioning', () => {
  test('errors name the offending field', async () => {
    const b = await bench();
    await expect(provisionDevice({ stateFile: b.stateFile, bsUri: 'http://x', endpoint: 'ep' })).rejects.toThrow(/^bsUri: /);
    await expect(provisionDevice({ stateFile: b.stateFile, bsUri: 'coap://127.0.0.1:5683', endpoint: '' })).rejects.toThrow(/^endpoint: /);
    await expect(provisionDevice({ stateFile: join(b.dir, 'missing', 'state.json'), bsUri: 'coap://127.0.0.1:5683', endpoint: 'ep' })).rejects.toThrow(/^stateFile: /);
  });

  test('a fresh state holds only the Bootstrap-Server account and /3/0; a PSK is kept as hex', async () => {
    const b = await bench();
    await provisionDevice({ stateFile: b.stateFile, bsUri: 'coaps://127.0.0.1:5684', endpoint: 'ep-1', pskIdentity: 'id-1', pskKeyHex: '00112233', holdOffS: 3 });
    const json = JSON.parse(await readFile(b.stateFile, 'utf8'));
    expect(Object.keys(json.objects['0'])).toEqual(['0']);
    expect(json.objects['0']['0']).toMatchObject({ '1': true, '2': 0, '3': Buffer.from('id-1').toString('hex'), '5': '00112233', '11': 3 });
    expect(json.objects['1']).toEqual({});
    expect(json.objects['3']['0']['1']).toBe('geisa-ref-device');
  });

  test('an unknown defect name is an error listing the known ones', () => {
    expect(() => parseDefect('nope')).toThrow(DEFECTS.map((d) => d.name).join(', '));
  });
});

describe('bootstrap defects', () => {
  test('bootstrap-request-non-confirmable: the Bootstrap-Request is NON, and bootstrap still completes', async () => {
    const b = await bench({ defect: 'bootstrap-request-non-confirmable' });
    const req = await b.provisionAndStart();
    expect(req.msg.type).toBe('NON');
    expect(await b.bootstrapOnto({ lifetimeS: 30 })).toEqual(['2.04', '2.04', '2.04']);
    await b.must(b.server, isRegister, PROMPT_MS, 'Register after Finish');
  });

  test('register-before-finish: Register arrives while the Bootstrap-Server has not sent Finish', async () => {
    const b = await bench({ defect: 'register-before-finish' });
    await b.provisionAndStart();
    await b.write('/0/1', securityRecords(1, b.server.uri, 101));
    const records = [
      { path: parsePath('/1/0/0'), value: 101 },
      { path: parsePath('/1/0/1'), value: 30 },
    ];
    const written = await b.bs.request(b.deviceAddress, { method: 'PUT', path: '/1/0', contentFormat: CF.TLV, payload: encodeTlv(records, parsePath('/1/0')) });
    expect(written.msg.code).toBe('2.04');
    const reg = await b.must(b.server, isRegister, PROMPT_MS, 'early Register');
    expect(reg.query.get('lt')).toEqual(['30']);
    // It left before the Write was even answered, so no Finish could have preceded it.
    expect(reg.monoNs < written.monoNs).toBe(true);
    expect(await b.finish()).toBe('2.04');
    expect(await b.server.next(isRegister, PROMPT_MS)).toBeUndefined();
  });

  test('conformant device: no Register before Finish', async () => {
    const b = await bench();
    await b.provisionAndStart();
    await b.write('/0/1', securityRecords(1, b.server.uri, 101));
    await b.write('/1/0', [
      { path: parsePath('/1/0/0'), value: 101 },
      { path: parsePath('/1/0/1'), value: 30 },
    ]);
    // Within the session's life (EXCHANGE_LIFETIME since the last exchange) nothing goes to the server.
    expect(await b.server.next(isRegister, FAST_EXCHANGE_LIFETIME_MS / 2)).toBeUndefined();
    expect(await b.finish()).toBe('2.04');
    await b.must(b.server, isRegister, PROMPT_MS, 'Register after Finish');
  });

  test('wrong-endpoint-name: Bootstrap-Request carries the endpoint name, Register the factory serial', async () => {
    const b = await bench({ defect: 'wrong-endpoint-name' });
    const req = await b.provisionAndStart();
    expect(req.query.get('ep')).toEqual([b.endpoint]);
    await b.bootstrapOnto({ lifetimeS: 30 });
    const reg = await b.must(b.server, isRegister, PROMPT_MS, 'Register');
    const serial = (await loadState(b.stateFile)).serialNumber;
    expect(reg.query.get('ep')).toEqual([serial]);
    expect(serial).not.toBe(b.endpoint);
  });
});
