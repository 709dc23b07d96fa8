import { decodeSenmlCbor, decodeSenmlJson, encodeSenmlCbor, encodeSenmlJson, parsePath, type ResourceRecord } from '../harness/lwm2m/index.js';
import { hex, codecError, testObjectType } from './support/codec-checks.js';

const p = parsePath;
const json = (s: string) => Buffer.from(s, 'utf8');

const ALL_TYPES: ResourceRecord[] = [
  { path: p('/9/0/0'), value: 'Open Mobile Alliance ✓' },
  { path: p('/9/0/1/0'), value: -42 },
  { path: p('/9/0/1/1'), value: 9223372036854775807n },
  { path: p('/9/0/1/2'), value: -9223372036854775808n },
  { path: p('/9/0/1/3'), value: 4294967296 },
  { path: p('/9/0/1/4'), value: -4294967297 },
  { path: p('/9/0/2'), value: 18446744073709551615n },
  { path: p('/9/0/3/0'), value: 2 },
  { path: p('/9/0/3/1'), value: -0.1 },
  { path: p('/9/0/4'), value: false },
  { path: p('/9/0/5'), value: Buffer.from([0xfb, 0xff, 0x00, 0x10]) },
  { path: p('/9/0/6'), value: 1367491215 },
  { path: p('/9/0/7'), value: { objectId: 3, instanceId: 0 } },
  { path: p('/9/0/8'), value: '</3/0>;ver=1.2' },
];

describe.each([
  ['SenML-JSON', encodeSenmlJson, decodeSenmlJson],
  ['SenML-CBOR', encodeSenmlCbor, decodeSenmlCbor],
] as const)('%s', (format, encode, decode) => {
  it('round-trips every type with a base name', () => {
    expect(decode(encode(ALL_TYPES, p('/9/0'), testObjectType), testObjectType)).toEqual(ALL_TYPES);
  });

  it('round-trips every type without a base name and from the root', () => {
    expect(decode(encode(ALL_TYPES, undefined, testObjectType), testObjectType)).toEqual(ALL_TYPES);
    expect(decode(encode(ALL_TYPES, p('/'), testObjectType), testObjectType)).toEqual(ALL_TYPES);
  });

  it('round-trips a single record sitting exactly on the base path', () => {
    const rec: ResourceRecord[] = [{ path: p('/9/0/4'), value: true }];
    expect(decode(encode(rec, p('/9/0/4'), testObjectType), testObjectType)).toEqual(rec);
  });

  it('carries timestamps as t', () => {
    const rec: ResourceRecord[] = [{ path: p('/9/0/1'), value: 7, time: 1700000000 }];
    expect(decode(encode(rec, p('/9/0'), testObjectType), testObjectType)).toEqual(rec);
  });

  it('decodes untyped values from the field they arrive in', () => {
    const out = decode(encode(ALL_TYPES, p('/9/0'), testObjectType), () => undefined);
    expect(out.find((r) => r.path.resourceId === 7)?.value).toEqual({ objectId: 3, instanceId: 0 });
    expect(out.find((r) => r.path.resourceId === 5)?.value).toEqual(Buffer.from([0xfb, 0xff, 0x00, 0x10]));
    expect(out.find((r) => r.path.resourceId === 4)?.value).toBe(false);
  });

  it('refuses to encode a record outside the base path or with a mismatched value', () => {
    expect(codecError(() => encode([{ path: p('/3/0/1'), value: 'x' }], p('/3/1'))).message).toBe(`${format}: record path /3/0/1 is not under the base path /3/1`);
    expect(codecError(() => encode([{ path: p('/3/0/9'), value: 'full' }], p('/3/0'))).message).toContain('cannot be an integer value');
  });
});

describe('SenML-JSON', () => {
  it('writes the Core §7.4.4 layout: bn on the first record, relative names after', () => {
    const out = encodeSenmlJson(
      [
        { path: p('/3/0/0'), value: 'Open Mobile Alliance' },
        { path: p('/3/0/6/0'), value: 1 },
        { path: p('/3/0/6/1'), value: 5 },
        { path: p('/3/0/13'), value: 1367491215 },
      ],
      p('/3/0'),
    ).toString();
    expect(out).toBe('[{"bn":"/3/0/","n":"0","vs":"Open Mobile Alliance"},{"n":"6/0","v":1},{"n":"6/1","v":5},{"n":"13","v":1367491215}]');
  });

  it('writes opaque as unpadded base64url and 64-bit integers exactly', () => {
    const out = encodeSenmlJson(
      [
        { path: p('/0/0/5'), value: Buffer.from([0xfb, 0xff]) },
        { path: p('/9/0/1'), value: -9223372036854775808n },
      ],
      undefined,
      (path) => (path.objectId === 0 ? 'opaque' : 'integer'),
    ).toString();
    expect(out).toBe('[{"n":"/0/0/5","vd":"-_8"},{"n":"/9/0/1","v":-9223372036854775808}]');
  });

  it('decodes records in any order with bn carried forward and replaced', () => {
    const records = decodeSenmlJson(json('[{"n":"16","vs":"U","bn":"/3/0/"},{"v":100,"n":"9"},{"bn":"/1/0/","n":"1","v":300},{"n":"6","vb":true},{"n":"/3/0/14","bn":"","vs":"+02:00"}]'));
    expect(records).toEqual([
      { path: p('/3/0/16'), value: 'U' },
      { path: p('/3/0/9'), value: 100 },
      { path: p('/1/0/1'), value: 300 },
      { path: p('/1/0/6'), value: true },
      { path: p('/3/0/14'), value: '+02:00' },
    ]);
  });

  it('adds base time to record time', () => {
    const records = decodeSenmlJson(json('[{"bn":"/3/0/","bt":1000,"n":"9","v":1,"t":5},{"n":"10","v":2}]'));
    expect(records.map((r) => r.time)).toEqual([1005, 1000]);
  });

  it('accepts padded base64url and keeps integers beyond 2^53 exact', () => {
    expect(decodeSenmlJson(json('[{"n":"/0/0/5","vd":"-_8="}]'))[0]!.value).toEqual(Buffer.from([0xfb, 0xff]));
    expect(decodeSenmlJson(json('[{"n":"/9/0/1","v":12345678901234567890}]'), () => 'unsigned')[0]!.value).toBe(12345678901234567890n);
    expect(decodeSenmlJson(json('[{"n":"/9/0/1","v":-9007199254740993}]'), () => 'integer')[0]!.value).toBe(-9007199254740993n);
    // A long digit string inside a string value must be left alone.
    expect(decodeSenmlJson(json('[{"n":"/3/0/2","vs":"123456789012345678901234"}]'))[0]!.value).toBe('123456789012345678901234');
  });

  it.each([
    ['not JSON', '[{"n":"/3/0/9","v":1}', 'payload is not valid JSON'],
    ['a top-level object', '{"n":"/3/0/9","v":1}', 'top level is an object, not an array of records'],
    ['a record that is not an object', '[1]', 'record 1 is a number, not an object'],
    ['a record without a value', '[{"bn":"/3/0/","n":"9"}]', 'record 1 (/3/0/9) has no value field (v, vs, vb, vd or vlo)'],
    ['two value fields', '[{"n":"/3/0/9","v":1,"vs":"1"}]', 'has 2 value fields (v, vs)'],
    ['a name that is not a path', '[{"bn":"/3/0/","n":"x"},{"n":"9","v":1}]', 'record 1: name "/3/0/x" (base name + name) is not an LwM2M path'],
    ['a name above resource level', '[{"n":"/3/0","v":1}]', 'name "/3/0" does not address a resource'],
    ['no name at all', '[{"v":1}]', 'name "" (base name + name) is not an LwM2M path'],
    ['bad base64', '[{"n":"/0/0/5","vd":"ab+/"}]', 'vd "ab+/" is not base64url'],
    ['base64 of impossible length', '[{"n":"/0/0/5","vd":"abcde"}]', 'is not base64url'],
    ['a string for an integer resource', '[{"n":"/3/0/9","vs":"100"}]', 'carries "vs" but the resource is integer, which SenML carries in "v"'],
    ['a fraction for an integer resource', '[{"n":"/3/0/9","v":1.5}]', 'cannot be an integer value'],
    ['a malformed object link', '[{"n":"/0/0/17","vlo":"3-0"}]', 'vlo "3-0" is not an object link'],
    ['a wrongly typed field', '[{"n":9,"v":1}]', '"n" is a number, expected a string'],
    ['a must-understand field', '[{"n":"/3/0/9","v":1,"foo_":1}]', 'unknown must-understand field "foo_"'],
  ])('rejects %s', (_label, text, fragment) => {
    const e = codecError(() => decodeSenmlJson(json(text)));
    expect(e.format).toBe('SenML-JSON');
    expect(e.message).toContain(fragment);
  });

  it('rejects invalid UTF-8', () => {
    expect(codecError(() => decodeSenmlJson(Buffer.from([0x5b, 0xff, 0x5d]))).message).toBe('SenML-JSON: the payload is not valid UTF-8');
  });
});

describe('SenML-CBOR', () => {
  it('uses the RFC 8428 integer labels', () => {
    const out = encodeSenmlCbor(
      [
        { path: p('/3/0/9'), value: 100 },
        { path: p('/3/0/14'), value: '+02:00' },
      ],
      p('/3/0'),
    );
    // 82 array(2); a3 map(3): 21 (-2 bn) "/3/0/", 00 (n) "9", 02 (v) 100; a2 map(2): 00 "14", 03 (vs) "+02:00"
    expect(out.toString('hex')).toBe(hex('82 a3 21 65 2f 33 2f 30 2f 00 61 39 02 18 64 a2 00 62 31 34 03 66 2b 30 32 3a 30 30').toString('hex'));
  });

  it('writes floats as floats, booleans, byte strings, vlo and 64-bit integers', () => {
    const out = encodeSenmlCbor(
      [
        { path: p('/9/0/3'), value: 2 },
        { path: p('/9/0/4'), value: true },
        { path: p('/9/0/5'), value: Buffer.from([1, 2]) },
        { path: p('/9/0/7'), value: { objectId: 3, instanceId: 0 } },
        { path: p('/9/0/1'), value: 9223372036854775807n },
      ],
      undefined,
      testObjectType,
    );
    const n = (s: string) => `a2 00 66 ${Buffer.from(s).toString('hex')}`;
    expect(out.toString('hex')).toBe(
      hex(`85 ${n('/9/0/3')} 02 fb 40 00 00 00 00 00 00 00` + `${n('/9/0/4')} 04 f5` + `${n('/9/0/5')} 08 42 01 02` + `${n('/9/0/7')} 63 76 6c 6f 63 33 3a 30` + `${n('/9/0/1')} 02 1b 7f ff ff ff ff ff ff ff`).toString('hex'),
    );
  });

  it('decodes records in any order with bn carried forward', () => {
    // [{n:"9", v:100, bn:"/3/0/"}, {vs:"U", n:"16"}]
    const buf = hex('82 a3 00 61 39 02 18 64 21 65 2f 33 2f 30 2f a2 03 61 55 00 62 31 36');
    expect(decodeSenmlCbor(buf)).toEqual([
      { path: p('/3/0/9'), value: 100 },
      { path: p('/3/0/16'), value: 'U' },
    ]);
  });

  it('decodes a CBOR float for a float resource and an integral float for an integer one', () => {
    expect(decodeSenmlCbor(hex('81 a2 00 66 2f 39 2f 30 2f 33 02 fa 3f c0 00 00'), testObjectType)[0]!.value).toBe(1.5);
    expect(decodeSenmlCbor(hex('81 a2 00 66 2f 33 2f 30 2f 39 02 f9 3c 00'))[0]!.value).toBe(1);
  });

  it.each([
    ['an empty payload', '', 'payload is empty'],
    ['truncated CBOR', '82 a2 00 61', 'payload is not well-formed CBOR'],
    ['trailing bytes', '80 00', 'payload is not well-formed CBOR'],
    ['a top-level map', 'a1 00 61 39', 'top level is a map, not an array of records'],
    ['a top-level integer', '01', 'top level is a number, not an array of records'],
    ['a record that is not a map', '81 01', 'record 1 is a number, not a map'],
    ['a record without a value', '81 a1 00 66 2f 33 2f 30 2f 39', 'record 1 (/3/0/9) has no value field'],
    ['vd as a text string', '81 a2 00 66 2f 30 2f 30 2f 35 08 61 41', '"vd" (label 8) is a string, expected a byte string'],
    ['a name that is not a path', '81 a2 00 61 78 02 01', 'name "x" (base name + name) is not an LwM2M path'],
  ])('rejects %s', (_label, bytes, fragment) => {
    const e = codecError(() => decodeSenmlCbor(hex(bytes)));
    expect(e.format).toBe('SenML-CBOR');
    expect(e.message).toContain(fragment);
  });
});
