import { CF, CodecError, decodeContent, encodeContent, parsePath, type Lwm2mPath } from '../harness/lwm2m/index.js';

// Deterministic xorshift32 so a failure reproduces from the printed iteration number.
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const FORMATS = [undefined, CF.TEXT, CF.LINK_FORMAT, CF.OPAQUE, CF.SENML_JSON, CF.SENML_CBOR, CF.TLV, CF.LWM2M_CBOR, 9999];
const BASES: (Lwm2mPath | undefined)[] = [undefined, '/', '/3', '/3/0', '/3/0/6', '/3/0/6/1', '/0/1/5'].map((s) => (s === undefined ? undefined : parsePath(s)));

function checkNeverThrows(cf: number | undefined, payload: Buffer, base: Lwm2mPath | undefined, label: string): boolean {
  let result;
  try {
    result = decodeContent(cf, payload, base);
  } catch (e) {
    throw new Error(`${label}: decodeContent threw ${String(e)} for ${payload.toString('hex')}`);
  }
  if (result.ok) return true;
  expect(result.error).toBeInstanceOf(CodecError);
  // An error wrapped by the safety net means a decoder failed in a way it did not foresee.
  if (result.error.message.includes('failed unexpectedly')) {
    throw new Error(`${label}: ${result.error.message} for cf ${cf} payload ${payload.toString('hex')}`);
  }
  expect(result.error.message.startsWith(`${result.error.format}: `)).toBe(true);
  return false;
}

describe('decodeContent on garbage', () => {
  it('never throws on random buffers in any format', () => {
    const next = prng(0x6e15a);
    let failures = 0;
    let runs = 0;
    for (let i = 0; i < 3000; i++) {
      const len = next() % 48;
      const payload = Buffer.alloc(len);
      for (let j = 0; j < len; j++) payload[j] = next() & 0xff;
      const cf = FORMATS[next() % FORMATS.length];
      const base = BASES[next() % BASES.length];
      if (!checkNeverThrows(cf, payload, base, `random #${i}`)) failures++;
      runs++;
    }
    expect(runs).toBe(3000);
    // Random bytes are overwhelmingly malformed; this guards against a decoder that accepts everything.
    expect(failures).toBeGreaterThan(1500);
  });

  it('never throws on mutated and truncated valid payloads', () => {
    const next = prng(0xc0ffee);
    const base = parsePath('/3/0');
    const records = [
      { path: parsePath('/3/0/0'), value: 'Open Mobile Alliance' },
      { path: parsePath('/3/0/6/0'), value: 1 },
      { path: parsePath('/3/0/6/1'), value: 5 },
      { path: parsePath('/3/0/13'), value: 1367491215 },
      { path: parsePath('/3/0/16'), value: 'U' },
    ];
    const seeds: [number, Buffer][] = [
      [CF.TLV, encodeContent(CF.TLV, records, base)],
      [CF.SENML_JSON, encodeContent(CF.SENML_JSON, records, base)],
      [CF.SENML_CBOR, encodeContent(CF.SENML_CBOR, records, base)],
      [CF.LWM2M_CBOR, encodeContent(CF.LWM2M_CBOR, records, base)],
      [CF.LINK_FORMAT, Buffer.from('</>;rt="oma.lwm2m";ct=110,</1>;ver=1.2,</1/0>,</3/0>;title="a,b"')],
    ];
    let accepted = 0;
    for (let i = 0; i < 2000; i++) {
      const [cf, original] = seeds[i % seeds.length]!;
      const payload = Buffer.from(original);
      const flips = 1 + (next() % 3);
      for (let k = 0; k < flips; k++) payload[next() % payload.length] = next() & 0xff;
      const cut = next() % 4 === 0 ? next() % payload.length : payload.length;
      if (checkNeverThrows(cf, payload.subarray(0, cut), base, `mutation #${i}`)) accepted++;
    }
    // Some mutations only touch string contents and must still decode.
    expect(accepted).toBeGreaterThan(0);
  });

  it('never throws on LwM2M CBOR built from random CBOR heads', () => {
    // Random heads (any major type, any additional information, lengths that lie) inside a
    // top-level map reach the path, nesting and value rules, not only the byte reader.
    const next = prng(0x11544);
    let rejected = 0;
    for (let i = 0; i < 3000; i++) {
      const parts: number[] = [0xa0 | (1 + (next() % 3))];
      const len = 1 + (next() % 24);
      for (let j = 0; j < len; j++) {
        const r = next() % 10;
        if (r < 4)
          parts.push(next() % 24); // small unsigned: a plausible id or value
        else if (r < 6)
          parts.push(0x80 | (next() % 5)); // a short array: a path key
        else if (r < 8)
          parts.push(0xa0 | (next() % 4)); // a short map: a nesting level
        else parts.push(next() & 0xff); // anything: text, tags, floats, breaks, reserved
      }
      const payload = Buffer.from(parts);
      if (!checkNeverThrows(CF.LWM2M_CBOR, payload, parsePath('/3/0'), `lwm2m-cbor #${i}`)) rejected++;
    }
    expect(rejected).toBeGreaterThan(1500);
  });
});
