/** The wire recorder keeps evidence without ever keeping a secret. */
import { WireRecorder, type EvidenceLimits } from '../harness/recorder/wire-recorder.js';
import { encodeCoap, OPTION, encodeUint } from '../harness/coap/message.js';
import { CF, encodeContent, parsePath } from '../harness/lwm2m/index.js';
import type { DatagramEvent, DecodedCoap } from '../harness/events/events.js';

const KEY = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
const addr = { address: '127.0.0.1', port: 5683 };

function writeSecurity(cf: number): Buffer {
  const records = [
    { path: parsePath('/0/1/0'), value: 'coaps://127.0.0.1:5684' },
    { path: parsePath('/0/1/3'), value: Buffer.from('dev1-identity') },
    { path: parsePath('/0/1/5'), value: KEY },
  ];
  return encodeCoap({
    type: 'CON',
    code: '0.03',
    mid: 10,
    token: Buffer.from('abcd', 'hex'),
    options: [
      { number: OPTION.URI_PATH, value: Buffer.from('0') },
      { number: OPTION.URI_PATH, value: Buffer.from('1') },
      { number: OPTION.CONTENT_FORMAT, value: encodeUint(cf) },
    ],
    payload: encodeContent(cf, records, parsePath('/0/1')),
  });
}

function record(rec: WireRecorder, bytes: Buffer): DatagramEvent {
  return rec.record({ direction: 'out', endpoint: 'bootstrap-server', local: addr, remote: { address: '127.0.0.1', port: 40000 }, monoNs: 123n, bytes });
}

describe('WireRecorder', () => {
  test.each([
    ['TLV', CF.TLV],
    ['SenML JSON', CF.SENML_JSON],
    ['SenML CBOR', CF.SENML_CBOR],
  ])('a Bootstrap-Write of /0/x/5 in %s keeps length and fingerprint, never the key', (_name, cf) => {
    const events: DatagramEvent[] = [];
    const rec = new WireRecorder((e) => events.push(e));
    rec.startCase('TC-X-01');
    const e = record(rec, writeSecurity(cf));
    expect(events).toHaveLength(1);
    const text = JSON.stringify(e);
    expect(text).not.toContain(KEY.toString('hex'));
    expect(text).not.toContain(KEY.toString('base64url'));
    const decoded = e.decoded as DecodedCoap;
    const values = decoded.payload as { path: string; value: unknown }[];
    const secret = values.find((v) => v.path === '/0/1/5');
    expect(String(secret?.value)).toMatch(/^<redacted sha256:[0-9a-f]{8} \(16 bytes\)>$/);
    // The non-secret identity stays readable: an auditor needs it.
    expect(values.find((v) => v.path === '/0/1/3')?.value).toEqual({ hex: Buffer.from('dev1-identity').toString('hex') });
    expect(decoded.uriPath).toBe('/0/1');
    expect(e.monoNs).toBe('123');
  });

  test('a secret the harness registered is scrubbed even from a datagram that does not decode', () => {
    const rec = new WireRecorder();
    rec.scrubber.add(KEY);
    const garbage = Buffer.concat([Buffer.from('ff', 'hex'), KEY, Buffer.from('00', 'hex')]);
    const e = record(rec, garbage);
    expect('error' in e.decoded).toBe(true);
    expect(e.bytes).not.toContain(KEY.toString('hex'));
    expect(e.bytes.length).toBe(garbage.length * 2);
  });

  test('a response payload is decoded against the path of the request it answers', () => {
    const rec = new WireRecorder();
    rec.record({
      direction: 'out',
      endpoint: 'lwm2m-server',
      local: addr,
      remote: addr,
      monoNs: 1n,
      bytes: encodeCoap({
        type: 'CON',
        code: '0.01',
        mid: 1,
        token: Buffer.from('01', 'hex'),
        options: [
          { number: OPTION.URI_PATH, value: Buffer.from('3') },
          { number: OPTION.URI_PATH, value: Buffer.from('0') },
        ],
        payload: Buffer.alloc(0),
      }),
    });
    const tlv = encodeContent(CF.TLV, [{ path: parsePath('/3/0/0'), value: 'GEISA reference' }], parsePath('/3/0'));
    const e = rec.record({
      direction: 'in',
      endpoint: 'lwm2m-server',
      local: addr,
      remote: addr,
      monoNs: 2n,
      bytes: encodeCoap({ type: 'ACK', code: '2.05', mid: 1, token: Buffer.from('01', 'hex'), options: [{ number: OPTION.CONTENT_FORMAT, value: encodeUint(CF.TLV) }], payload: tlv }),
    });
    expect((e.decoded as DecodedCoap).payload).toEqual([{ path: '/3/0/0', value: 'GEISA reference' }]);
  });

  describe('bounded evidence', () => {
    const limits: EvidenceLimits = { head: 3, tail: 2, malformedHead: 2, malformedTail: 1, headBytes: 10_000, tailBytes: 5_000 };
    const ping = (mid: number) => encodeCoap({ type: 'CON', code: '0.00', mid, token: Buffer.alloc(0), options: [], payload: Buffer.alloc(0) });
    const post = (mid: number, size: number) => encodeCoap({ type: 'NON', code: '0.02', mid, token: Buffer.alloc(0), options: [{ number: OPTION.URI_PATH, value: Buffer.from('x') }], payload: Buffer.alloc(size, 1) });
    const feed = (rec: WireRecorder, bytes: Buffer, at: number) => rec.tap({ direction: 'in', endpoint: 'bootstrap-server', local: addr, remote: addr, monoNs: BigInt(at), bytes });

    test('first and last of each kind are kept, the rest counted; each flush says what it elided', () => {
      const events: DatagramEvent[] = [];
      const notes: string[] = [];
      const rec = new WireRecorder(
        (e) => events.push(e),
        limits,
        (n) => notes.push(n),
      );
      rec.startCase('TC-X-01');
      for (let i = 0; i < 10; i++) feed(rec, ping(i), i);
      for (let i = 0; i < 10; i++) feed(rec, Buffer.from('4002e822beffff6273', 'hex'), 100 + i);
      expect(events.map((e) => e.monoNs)).toEqual(['0', '1', '2', '100', '101']);
      rec.flush();
      expect(events.map((e) => e.monoNs)).toEqual(['0', '1', '2', '100', '101', '8', '9', '109']);
      expect(notes).toEqual([
        'wire recorder: 5 CoAP in at bootstrap-server datagrams elided from the evidence (10 seen in this case, 5 kept: the first 3 and the last 2; kept per case: the first 3 and the last 2 of this kind, at most 10000 bytes of first ones of all kinds)',
        'wire recorder: 7 malformed CoAP in at bootstrap-server datagrams elided from the evidence (10 seen in this case, 3 kept: the first 2 and the last 1; kept per case: the first 2 and the last 1 of this kind, at most 10000 bytes of first ones of all kinds)',
      ]);
      // After the flush the kind stays past its head: later ones go to the next flush's tail.
      for (let i = 10; i < 13; i++) feed(rec, ping(i), i);
      rec.flush();
      expect(events.slice(8).map((e) => e.monoNs)).toEqual(['11', '12']);
      expect(notes[2]).toMatch(/^wire recorder: 1 CoAP in at bootstrap-server datagram elided from the evidence \(13 seen in this case, 7 kept: the first 5 and the last 2;/);
      expect(rec.counts().map((c) => [c.label, c.seen, c.recorded, c.elided])).toEqual([
        ['CoAP in at bootstrap-server', 13, 7, 6],
        ['malformed CoAP in at bootstrap-server', 10, 3, 7],
      ]);
    });

    test('large datagrams stop the heads at the byte bound and thin the tail', () => {
      const events: DatagramEvent[] = [];
      const rec = new WireRecorder((e) => events.push(e), limits);
      rec.startCase('TC-X-01');
      for (let i = 0; i < 3; i++) feed(rec, post(i, 4_000), i);
      // 4,000 + 4,000 fit in 10,000 bytes, the third does not: from then on only the tail (5,000 bytes: one).
      expect(events).toHaveLength(2);
      rec.flush();
      expect(events.map((e) => e.monoNs)).toEqual(['0', '1', '2']);
      // A payload that decodes to nothing readable shows its first 1 KiB as hex; the raw bytes keep all of it.
      const payload = (events[0]!.decoded as DecodedCoap).payload as { hex: string; length: number; shownBytes: number };
      expect(payload).toMatchObject({ length: 4_000, shownBytes: 1024 });
      expect(payload.hex).toHaveLength(2048);
      expect(events[0]!.bytes.length).toBeGreaterThan(8_000);
    });
  });
});
