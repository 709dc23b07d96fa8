/**
 * What the fuzzer sends, from a seeded generator so a run can be replayed (--seed):
 * malformed CoAP framing (RFC 7252 §3, §3.1), DTLS garbage (RFC 6347 §4.1, §4.2.2) and
 * malformed LwM2M payloads (TLV, SenML JSON/CBOR, link-format) for otherwise valid
 * responses. Each datagram carries the name of its shape, for the report's counts.
 */
import { encodeCoap, OPTION } from '../harness/coap/message.js';
import { CF } from '../harness/lwm2m/index.js';

/** mulberry32: small, fast, and the same sequence on every machine for one seed. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

export interface Shaped {
  shape: string;
  bytes: Buffer;
}

const header = (rng: Rng, tkl: number, code = 0x02, type = 0) => Buffer.from([0x40 | (type << 4) | tkl, code, rng.int(256), rng.int(256)]);

/** A datagram that is not valid CoAP, or valid CoAP no server should take as it is. */
export function malformedCoap(rng: Rng): Shaped {
  const shapes: (() => Shaped)[] = [
    () => ({ shape: 'coap: version 0/2/3', bytes: Buffer.concat([Buffer.from([rng.pick([0x00, 0x80, 0xc0]) | rng.int(16), 0x02, 0, 1]), rng.bytes(rng.int(12))]) }),
    () => ({ shape: 'coap: shorter than the header', bytes: rng.bytes(rng.int(4)) }),
    () => ({ shape: 'coap: token length 9-15', bytes: Buffer.concat([Buffer.from([0x40 | (9 + rng.int(7)), 0x02, 0, 1]), rng.bytes(rng.int(20))]) }),
    () => ({ shape: 'coap: token longer than the datagram', bytes: Buffer.concat([header(rng, 8), rng.bytes(rng.int(8))]) }),
    () => ({ shape: 'coap: option delta 13/14 extension cut short', bytes: Buffer.concat([header(rng, 0), Buffer.from([rng.pick([0xd0, 0xe0])]), rng.bytes(rng.int(2) === 0 ? 0 : 1)]) }),
    () => ({ shape: 'coap: option length 13/14 extension cut short', bytes: Buffer.concat([header(rng, 0), Buffer.from([rng.pick([0xbd, 0xbe])]), rng.bytes(rng.int(2))]) }),
    () => ({ shape: 'coap: option nibble 15', bytes: Buffer.concat([header(rng, 0), Buffer.from([rng.pick([0xf0, 0x0f, 0xbf, 0xf3])]), rng.bytes(rng.int(6))]) }),
    () => {
      // A Uri-Path declaring far more than arrives (the issue's `40 02 e8 22 be ff ff 62 73`).
      const declared = rng.int(65535);
      const ext = Buffer.alloc(2);
      ext.writeUInt16BE(declared);
      return { shape: 'coap: option value past the end', bytes: Buffer.concat([header(rng, 0), Buffer.from([0xbe]), ext, Buffer.from('bs')]) };
    },
    () => ({ shape: 'coap: payload marker without payload', bytes: Buffer.concat([header(rng, 0), Buffer.from([0xb2, 0x62, 0x73, 0xff])]) }),
    () => ({ shape: 'coap: option number beyond 65535', bytes: Buffer.concat([header(rng, 0), Buffer.from([0xe0, 0xff, 0xff, 0xe0, 0xff, 0xff])]) }),
    () => ({ shape: 'coap: reserved code class', bytes: Buffer.concat([Buffer.from([0x40, rng.pick([0x20, 0xc0, 0xe0]) | rng.int(32), 0, 1]), rng.bytes(rng.int(8))]) }),
    () => ({ shape: 'coap: empty message with bytes', bytes: Buffer.concat([Buffer.from([0x40, 0x00, 0, 1]), rng.bytes(1 + rng.int(8))]) }),
    () => ({ shape: 'coap: random bytes', bytes: rng.bytes(1 + rng.int(200)) }),
    () => ({ shape: 'coap: oversized payload', bytes: validRequest(rng, '/x/y', rng.bytes(20_000 + rng.int(40_000))) }),
    // Well-formed, but not what a server expects: requests with fresh MIDs fill the dedup
    // cache and inboxes. Not to /bs or /rd/...: a case takes a valid request there as the
    // device's, from whichever port it comes.
    () => ({ shape: 'coap: valid request to a random path', bytes: validRequest(rng, rng.pick(['/3/0', '/', '/bspack', '/x/y']), rng.bytes(rng.int(64))) }),
    () => ({
      shape: 'coap: unexpected response',
      bytes: encodeCoap({ type: rng.pick(['CON', 'NON', 'ACK'] as const), code: rng.pick(['2.05', '2.04', '4.04', '5.00']), mid: rng.int(65536), token: rng.bytes(rng.int(9)), options: [], payload: rng.bytes(rng.int(32)) }),
    }),
    () => ({ shape: 'coap: RST for nothing', bytes: Buffer.from([0x70, 0x00, rng.int(256), rng.int(256)]) }),
  ];
  return rng.pick(shapes)();
}

function validRequest(rng: Rng, path: string, payload: Buffer): Buffer {
  const options: { number: number; value: Buffer }[] = path
    .split('/')
    .filter(Boolean)
    .map((s) => ({ number: OPTION.URI_PATH, value: Buffer.from(s) }));
  options.push({ number: OPTION.URI_QUERY, value: Buffer.from(`ep=fuzz-${rng.int(1000)}`) });
  return encodeCoap({ type: rng.pick(['CON', 'NON'] as const), code: rng.pick(['0.01', '0.02', '0.03', '0.04']), mid: rng.int(65536), token: rng.bytes(rng.int(9)), options, payload });
}

/** A DTLS 1.2 ClientHello opening a handshake (fresh random, no cookie), as a new client sends it. */
export function clientHello(rng: Rng, opts: { fragmentOffset?: number; fragmentLength?: number; recordLength?: number } = {}): Buffer {
  const body = Buffer.concat([
    Buffer.from([0xfe, 0xfd]),
    rng.bytes(32),
    Buffer.from([0, 0]), // no session id, no cookie
    Buffer.from([0, 4, 0xc0, 0xa8, 0x00, 0xae]),
    Buffer.from([1, 0]),
  ]);
  const hs = Buffer.alloc(12);
  hs[0] = 1;
  hs.writeUIntBE(body.length, 1, 3);
  hs.writeUInt16BE(0, 4);
  hs.writeUIntBE(opts.fragmentOffset ?? 0, 6, 3);
  hs.writeUIntBE(opts.fragmentLength ?? body.length, 9, 3);
  const rec = Buffer.alloc(13);
  rec[0] = 22;
  rec[1] = 0xfe;
  rec[2] = 0xff;
  rec.writeUInt16BE(opts.recordLength ?? hs.length + body.length, 11);
  return Buffer.concat([rec, hs, body]);
}

/** Bytes a DTLS server should drop or fail one handshake on, never more. */
export function dtlsGarbage(rng: Rng): Shaped {
  const shapes: (() => Shaped)[] = [
    () => ({ shape: 'dtls: ClientHello from a new port', bytes: clientHello(rng) }),
    () => ({ shape: 'dtls: record length past the datagram', bytes: clientHello(rng, { recordLength: 0x4000 + rng.int(0xbfff) }) }),
    () => ({ shape: 'dtls: record length short of the handshake', bytes: clientHello(rng, { recordLength: rng.int(12) }) }),
    () => ({ shape: 'dtls: absurd fragment offset', bytes: clientHello(rng, { fragmentOffset: 0xffff00 + rng.int(0xff) }) }),
    () => ({ shape: 'dtls: fragment longer than the message', bytes: clientHello(rng, { fragmentLength: 0xfffff }) }),
    () => {
      const rec = Buffer.alloc(13);
      rec[0] = rng.pick([20, 21, 22, 23, 99]);
      rec[1] = 0xfe;
      rec[2] = 0xfd;
      rec.writeUInt16BE(rng.int(3), 3); // epoch 0-2: encrypted records of an association nobody has
      const body = rng.bytes(rng.int(200));
      rec.writeUInt16BE(body.length, 11);
      return { shape: 'dtls: record of no association', bytes: Buffer.concat([rec, body]) };
    },
    () => ({ shape: 'dtls: truncated record header', bytes: Buffer.concat([Buffer.from([22, 0xfe, 0xfd]), rng.bytes(rng.int(10))]) }),
    () => ({ shape: 'dtls: random bytes', bytes: rng.bytes(1 + rng.int(300)) }),
  ];
  return rng.pick(shapes)();
}

/** A payload that claims `cf` and breaks it. */
export function malformedPayload(rng: Rng, cf: number): Shaped {
  switch (cf) {
    case CF.TLV:
      return rng.pick([
        // Resource header declaring a 24-bit length, with a few bytes after it.
        () => ({ shape: 'tlv: length past the end', bytes: Buffer.concat([Buffer.from([0xd8, 0x00, 0xff, 0xff, 0xff]), rng.bytes(rng.int(8))]) }),
        () => ({ shape: 'tlv: object instance with a child past its end', bytes: Buffer.from([0x08, 0x00, 0x05, 0xc8, 0x00, 0x40, 0x41]) }),
        () => ({ shape: 'tlv: nested instances deeper than LwM2M allows', bytes: Buffer.from([0x08, 0x00, 0x06, 0x08, 0x00, 0x03, 0x08, 0x00, 0x00]) }),
        () => ({ shape: 'tlv: random bytes', bytes: rng.bytes(1 + rng.int(100)) }),
      ])();
    case CF.SENML_JSON:
      return rng.pick([
        () => ({ shape: 'senml-json: truncated', bytes: Buffer.from('[{"bn":"/3/0/","n":"0","vs":"x"') }),
        () => ({ shape: 'senml-json: wrong types', bytes: Buffer.from('[{"bn":5,"n":{},"v":"x","vb":3,"t":"now"}]') }),
        () => ({ shape: 'senml-json: not an array', bytes: Buffer.from('{"n":"/3/0/0","v":1}') }),
        () => ({ shape: 'senml-json: nested 20000 deep', bytes: Buffer.from('['.repeat(20_000) + ']'.repeat(20_000)) }),
        () => ({ shape: 'senml-json: huge numbers and names', bytes: Buffer.from(`[{"n":"${'/'.repeat(4000)}","v":1e400},{"n":"/3/0/99999999999","v":-1e308}]`) }),
      ])();
    case CF.SENML_CBOR:
      return rng.pick([
        () => ({ shape: 'senml-cbor: byte string of 2^64-1 bytes', bytes: Buffer.from([0x81, 0xa1, 0x00, 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]) }),
        () => ({ shape: 'senml-cbor: array of 2^32-1 items', bytes: Buffer.from([0x9a, 0xff, 0xff, 0xff, 0xff, 0xa0]) }),
        () => ({ shape: 'senml-cbor: indefinite, never ended', bytes: Buffer.from([0x9f, 0xa1, 0x00, 0x63, 0x2f, 0x33, 0x2f]) }),
        () => ({ shape: 'senml-cbor: nested 10000 deep', bytes: Buffer.concat([Buffer.alloc(10_000, 0x81), Buffer.from([0xa0])]) }),
        () => ({ shape: 'senml-cbor: random bytes', bytes: rng.bytes(1 + rng.int(100)) }),
      ])();
    default:
      return rng.pick([
        () => ({ shape: 'link-format: unterminated target', bytes: Buffer.from('</0/1>,</1/0') }),
        () => ({ shape: 'link-format: unterminated quoted attribute', bytes: Buffer.from('</3/0>;ssid="101,</1/0>') }),
        () => ({ shape: 'link-format: 5000 empty links', bytes: Buffer.from(','.repeat(5000)) }),
        () => ({ shape: 'link-format: not a path', bytes: Buffer.from('<http://example.com/%zz>;lwm2m=9.9;ver=abc') }),
        () => ({ shape: 'link-format: random bytes', bytes: rng.bytes(1 + rng.int(100)) }),
      ])();
  }
}
