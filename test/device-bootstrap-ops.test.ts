/**
 * The seeded defects of the bootstrap operations (hold-off, back-off, Discover, Read,
 * Write formats, a second Bootstrap-Server account) as the reference device shows them
 * on the wire, each beside what the conformant device does (scripted Bootstrap-Server,
 * real UDP on 127.0.0.1).
 */
import { contentFormat } from '../harness/coap/message.js';
import { CF, decodeContent, encodeContent, encodeTlv, parseLinkFormat, parsePath } from '../harness/lwm2m/index.js';
import type { DefectName } from '../fixtures/device/defects.js';
import { DeviceBench, PROMPT_MS, securityRecords, benchPerTest } from './support/device-bench.js';
import { elapsedMs, isBootstrapRequest } from './support/scripted-peers.js';

const bench = benchPerTest();

async function started(defect?: DefectName): Promise<DeviceBench> {
  const b = await bench(defect ? { defect } : {});
  await b.provisionAndStart();
  return b;
}

describe('bootstrap-operation defects of the reference device', () => {
  test('no-hold-off: the Bootstrap-Request leaves at once despite a provisioned hold-off of 1 s', async () => {
    const b = await bench({ holdOffS: 1, defect: 'no-hold-off' });
    await b.provision();
    await b.start();
    const req = await b.expectBootstrapRequest(PROMPT_MS);
    expect(elapsedMs(b.startedNs, req.monoNs)).toBeLessThan(1000);
  });

  test('bootstrap-hammering: after a 4.00 the next Bootstrap-Request comes well within 1 s', async () => {
    const b = await bench({ defect: 'bootstrap-hammering' });
    b.bs.answer = () => ({ code: '4.00' });
    const first = await b.provisionAndStart();
    const second = await b.must(b.bs, isBootstrapRequest, 1000, 'second Bootstrap-Request');
    expect(elapsedMs(first.monoNs, second.monoNs)).toBeLessThan(1000);
  });

  test.each([
    ['the conformant device', undefined, '</>;lwm2m="1.2",</0/0>'],
    ['defect discover-omits-lwm2m-version', 'discover-omits-lwm2m-version' as const, '</0/0>'],
  ])('Bootstrap-Discover / on %s begins %s', async (_label, defect, start) => {
    const b = await started(defect);
    const res = await b.bs.request(b.deviceAddress, { method: 'GET', path: '/', accept: CF.LINK_FORMAT });
    expect(res.msg.code).toBe('2.05');
    expect(res.msg.payload.toString('utf8').startsWith(start)).toBe(true);
    expect(parseLinkFormat(res.msg.payload.toString('utf8')).some((l) => l.target === '/0/0')).toBe(true);
  });

  test.each([
    ['the conformant device', undefined, '4.05'],
    ['defect bootstrap-read-exposes-security', 'bootstrap-read-exposes-security' as const, '2.05'],
  ])('Bootstrap-Read /0 on %s is answered %s', async (_label, defect, code) => {
    const b = await started(defect);
    const res = await b.bs.request(b.deviceAddress, { method: 'GET', path: '/0', accept: CF.TLV });
    expect(res.msg.code).toBe(code);
    if (code === '2.05') {
      const decoded = decodeContent(contentFormat(res.msg), res.msg.payload, parsePath('/0'));
      expect(decoded.ok && decoded.records?.some((r) => r.path.instanceId === 0 && r.path.resourceId === 1 && r.value === true)).toBe(true);
    }
  });

  test.each([
    ['the conformant device', undefined, '4.15', '4.00'],
    ['defect accept-any-content-format', 'accept-any-content-format' as const, '2.04', '4.00'],
  ])('Bootstrap-Write in Content-Format 9999 / malformed TLV on %s: %s / %s', async (_label, defect, unknownCf, malformed) => {
    const b = await started(defect);
    const tlv = encodeTlv(securityRecords(1, b.server.uri, 101), parsePath('/0/1'));
    const odd = await b.bs.request(b.deviceAddress, { method: 'PUT', path: '/0/1', contentFormat: 9999, payload: tlv });
    expect(odd.msg.code).toBe(unknownCf);
    const broken = await b.bs.request(b.deviceAddress, { method: 'PUT', path: '/0/1', contentFormat: CF.TLV, payload: tlv.subarray(0, tlv.length - 1) });
    expect(broken.msg.code).toBe(malformed);
  });

  test.each([
    ['the conformant device', undefined, '2.04', '2.05'],
    ['defect lwm2m-cbor-rejected', 'lwm2m-cbor-rejected' as const, '4.15', '4.06'],
  ])('Bootstrap-Write /1/1 and Bootstrap-Read /1/1 in LwM2M CBOR (11544) on %s: %s / %s', async (_label, defect, writeCode, readCode) => {
    const b = await started(defect);
    const records = [
      { path: parsePath('/1/1/0'), value: 202 },
      { path: parsePath('/1/1/1'), value: 4321 },
      { path: parsePath('/1/1/6'), value: false },
      { path: parsePath('/1/1/7'), value: 'U' },
    ];
    const payload = encodeContent(CF.LWM2M_CBOR, records, parsePath('/1/1'));
    const w = await b.bs.request(b.deviceAddress, { method: 'PUT', path: '/1/1', contentFormat: CF.LWM2M_CBOR, payload });
    expect(w.msg.code).toBe(writeCode);
    // Read back what an earlier TLV write put there when the LwM2M CBOR write was refused.
    if (writeCode !== '2.04') expect(await b.write('/1/1', records)).toBe('2.04');
    const r = await b.bs.request(b.deviceAddress, { method: 'GET', path: '/1/1', accept: CF.LWM2M_CBOR });
    expect(r.msg.code).toBe(readCode);
    if (readCode === '2.05') {
      expect(contentFormat(r.msg)).toBe(CF.LWM2M_CBOR);
      const decoded = decodeContent(CF.LWM2M_CBOR, r.msg.payload, parsePath('/1/1'));
      expect(decoded.ok && decoded.records).toEqual(expect.arrayContaining(records));
    }
    // A malformed LwM2M CBOR payload is 4.00 on the conformant device; the defective one never parses it.
    const cut = await b.bs.request(b.deviceAddress, { method: 'PUT', path: '/1/1', contentFormat: CF.LWM2M_CBOR, payload: payload.subarray(0, payload.length - 1) });
    expect(cut.msg.code).toBe(defect ? '4.15' : '4.00');
  });

  test('second-bootstrap-account: Write /0/42 as a Bootstrap-Server account is 2.04 and both stay listed', async () => {
    const b = await started('second-bootstrap-account');
    const records = securityRecords(42, 'coap://127.0.0.1:1', 7).map((r) => (r.path.resourceId === 1 ? { ...r, value: true } : r));
    expect(await b.write('/0/42', records)).toBe('2.04');
    const res = await b.bs.request(b.deviceAddress, { method: 'GET', path: '/0', accept: CF.LINK_FORMAT });
    const targets = parseLinkFormat(res.msg.payload.toString('utf8')).map((l) => l.target);
    expect(targets).toEqual(expect.arrayContaining(['/0/0', '/0/42']));
  });
});
