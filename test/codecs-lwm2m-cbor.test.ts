import { CF, decodeContent, decodeLwm2mCbor, encodeContent, encodeLwm2mCbor, parsePath, type ResourceRecord } from '../harness/lwm2m/index.js';
import { hex, codecError, testObjectType } from './support/codec-checks.js';

const p = parsePath;
const utf8hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');

/*
 * Spec vector. LwM2M Core 1.2 (OMA-TS-LightweightM2M_Core-V1_2-20201110-A) §7.4.4.4 gives,
 * as its LwM2M CBOR example, a Read of the Server object /1 with two instances. The TS text
 * itself was not reachable from this workplace; the bytes of the first instance's map below
 * are those the TS prints, as quoted (hex with CBOR annotations) in OMA's public tracker,
 * OpenMobileAlliance/OMA_LwM2M_for_Developers issue #545. Its meaning:
 *   /1/0: {0 (Short Server ID): 101, 1 (Lifetime): 86400, 2 (Default Min Period): 300,
 *          3 (Default Max Period): 6000, 5 (Disable Timeout): 86400,
 *          6 (Notification Storing): true, 7 (Binding): "U"}
 * The second instance is not quoted there, so it is left out; the two enclosing heads
 * (A1 01 / A1 00: object 1 -> instance 0, nested single-id keys as in the TS example) are ours.
 */
const SPEC_SERVER_INSTANCE = 'A7 00 18 65 01 1A 00015180 02 19 012C 03 19 1770 05 1A 00015180 06 F5 07 61 55';
const SPEC_SERVER_RECORDS: ResourceRecord[] = [
  { path: p('/1/0/0'), value: 101 },
  { path: p('/1/0/1'), value: 86400 },
  { path: p('/1/0/2'), value: 300 },
  { path: p('/1/0/3'), value: 6000 },
  { path: p('/1/0/5'), value: 86400 },
  { path: p('/1/0/6'), value: true },
  { path: p('/1/0/7'), value: 'U' },
];

/*
 * Rule vectors: built by hand from the rules of the format (keys are an id or an array of
 * ids, paths absolute from the Object ID, values typed: integers major type 0/1, floats
 * major type 7, text for String/Corelnk and for Objlnk as "oid:iid", byte strings for
 * Opaque, Time as tag 1 epoch seconds per RFC 7049 §2.4.1) and RFC 8949's encoding of each
 * item. They are not quoted from the TS.
 */
const EVERY_TYPE_RECORDS: ResourceRecord[] = [
  { path: p('/9/0/0'), value: 'Open' },
  { path: p('/9/0/1/0'), value: -42 },
  { path: p('/9/0/1/1'), value: 9223372036854775807n },
  { path: p('/9/0/1/2'), value: -9223372036854775808n },
  { path: p('/9/0/2'), value: 18446744073709551615n },
  { path: p('/9/0/3'), value: -0.1 },
  { path: p('/9/0/4'), value: false },
  { path: p('/9/0/5'), value: Buffer.from([0xfb, 0xff, 0x00, 0x10]) },
  { path: p('/9/0/6'), value: 1367491215 },
  { path: p('/9/0/7'), value: { objectId: 3, instanceId: 0 } },
  { path: p('/9/0/8'), value: '</3/0>' },
];
const EVERY_TYPE_HEX =
  'A1 09 A1 00 A9' + // {9: {0: {9 entries
  ` 00 64 ${utf8hex('Open')}` + // 0: "Open"
  ' 01 A3 00 38 29 01 1B 7FFFFFFFFFFFFFFF 02 3B 7FFFFFFFFFFFFFFF' + // 1: {0: -42, 1: 2^63-1, 2: -2^63}
  ' 02 1B FFFFFFFFFFFFFFFF' + // 2: 2^64-1
  ' 03 FB BFB999999999999A' + // 3: -0.1 (binary64)
  ' 04 F4' + // 4: false
  ' 05 44 FBFF0010' + // 5: h'FBFF0010'
  ' 06 C1 1A 5182428F' + // 6: 1(1367491215)
  ` 07 63 ${utf8hex('3:0')}` + // 7: "3:0"
  ` 08 66 ${utf8hex('</3/0>')}`; // 8: "</3/0>"

describe('LwM2M CBOR spec vector (Core 1.2 §7.4.4.4, Read /1)', () => {
  const bytes = hex(`A1 01 A1 00 ${SPEC_SERVER_INSTANCE}`);

  it('decodes to the Server instance the TS describes', () => {
    expect(decodeLwm2mCbor(bytes)).toEqual(SPEC_SERVER_RECORDS);
  });

  it('encodes those records back to the same bytes', () => {
    expect(encodeLwm2mCbor(SPEC_SERVER_RECORDS, p('/1')).toString('hex')).toBe(bytes.toString('hex'));
    expect(encodeLwm2mCbor(SPEC_SERVER_RECORDS, p('/1/0')).toString('hex')).toBe(bytes.toString('hex'));
  });

  it('reads the same instance behind an array key [1, 0]', () => {
    expect(decodeLwm2mCbor(hex(`A1 82 01 00 ${SPEC_SERVER_INSTANCE}`))).toEqual(SPEC_SERVER_RECORDS);
  });

  it('goes through decodeContent and encodeContent as content format 11544', () => {
    expect(decodeContent(CF.LWM2M_CBOR, bytes, p('/1'))).toEqual({ ok: true, format: 'LwM2M-CBOR', records: SPEC_SERVER_RECORDS });
    expect(encodeContent(CF.LWM2M_CBOR, SPEC_SERVER_RECORDS, p('/1')).equals(bytes)).toBe(true);
  });
});

describe('LwM2M CBOR rule vectors', () => {
  it('encodes one resource of every type as the rules give', () => {
    expect(encodeLwm2mCbor(EVERY_TYPE_RECORDS, p('/9/0'), testObjectType).toString('hex')).toBe(hex(EVERY_TYPE_HEX).toString('hex'));
  });

  it('round-trips every type, typed and untyped', () => {
    expect(decodeLwm2mCbor(hex(EVERY_TYPE_HEX), testObjectType)).toEqual(EVERY_TYPE_RECORDS);
    const untyped = decodeLwm2mCbor(hex(EVERY_TYPE_HEX), () => undefined);
    // Without a model an objlnk is only a text string; every other value keeps its shape.
    expect(untyped.find((r) => r.path.resourceId === 7)?.value).toBe('3:0');
    expect(untyped.filter((r) => r.path.resourceId !== 7)).toEqual(EVERY_TYPE_RECORDS.filter((r) => r.path.resourceId !== 7));
  });

  it('reads array keys, mixed with nested maps, at any depth', () => {
    // {[9, 0, 4]: true, [9, 0]: {[5]: h'01', 7: "66:1"}}
    const bytes = hex(`A2 83 09 00 04 F5 82 09 00 A2 81 05 41 01 07 64 ${utf8hex('66:1')}`);
    const records = [
      { path: p('/9/0/4'), value: true },
      { path: p('/9/0/5'), value: Buffer.from([1]) },
      { path: p('/9/0/7'), value: { objectId: 66, instanceId: 1 } },
    ];
    expect(decodeLwm2mCbor(bytes, testObjectType)).toEqual(records);
    // Written back in the nested single-id layout, which decodes to the same records.
    const canonical = encodeLwm2mCbor(records, p('/9/0'), testObjectType);
    expect(canonical.toString('hex')).toBe(hex(`A1 09 A1 00 A3 04 F5 05 41 01 07 64 ${utf8hex('66:1')}`).toString('hex'));
    expect(decodeLwm2mCbor(canonical, testObjectType)).toEqual(records);
  });

  it('reads indefinite-length maps and strings, half floats and tag 0 date/time', () => {
    // {_ 9: {_ 0: {_ 0: (_ "Op", "en"), 3: 1.5 (half), 6: 0("2013-05-02T10:40:15Z")}}}
    const bytes = hex(`BF 09 BF 00 BF 00 7F 62 ${utf8hex('Op')} 62 ${utf8hex('en')} FF 03 F9 3E00 06 C0 74 ${utf8hex('2013-05-02T10:40:15Z')} FF FF FF`);
    expect(decodeLwm2mCbor(bytes, testObjectType)).toEqual([
      { path: p('/9/0/0'), value: 'Open' },
      { path: p('/9/0/3'), value: 1.5 },
      { path: p('/9/0/6'), value: 1367491215 },
    ]);
  });

  it('takes an integral float for an integer, an integer or decimal fraction for a float, a bare integer for a time', () => {
    // {9: {0: {1: {0: 1.0 (half)}, 3: 2, 6: 1367491215}}} and {[9, 0, 3]: 4([-1, 45])}
    expect(decodeLwm2mCbor(hex('A1 09 A1 00 A3 01 A1 00 F9 3C00 03 02 06 1A 5182428F'), testObjectType)).toEqual([
      { path: p('/9/0/1/0'), value: 1 },
      { path: p('/9/0/3'), value: 2 },
      { path: p('/9/0/6'), value: 1367491215 },
    ]);
    expect(decodeLwm2mCbor(hex('A1 83 09 00 03 C4 82 20 18 2D'), testObjectType)).toEqual([{ path: p('/9/0/3'), value: 4.5 }]);
  });

  it('decodes an empty map as no records and resource instances of a multiple resource in order', () => {
    expect(decodeLwm2mCbor(hex('A0'))).toEqual([]);
    // {3: {0: {6: {0: 1, 1: 5}, 11: {}}}}: Error Code with no instances carries nothing
    expect(decodeLwm2mCbor(hex('A1 03 A1 00 A2 06 A2 00 01 01 05 0B A0'))).toEqual([
      { path: p('/3/0/6/0'), value: 1 },
      { path: p('/3/0/6/1'), value: 5 },
    ]);
  });

  it('refuses to encode what the format cannot carry', () => {
    expect(codecError(() => encodeLwm2mCbor([{ path: p('/3/0/1'), value: 'x' }], p('/3/1'))).message).toBe('LwM2M-CBOR: record path /3/0/1 is not under the base path /3/1');
    expect(codecError(() => encodeLwm2mCbor([{ path: p('/3/0'), value: 1 }])).message).toContain('does not address a resource');
    expect(codecError(() => encodeLwm2mCbor([{ path: p('/3/0/9'), value: 'full' }])).message).toContain('cannot be an integer value');
    expect(
      codecError(() =>
        encodeLwm2mCbor([
          { path: p('/3/0/6'), value: 1 },
          { path: p('/3/0/6/0'), value: 1 },
        ]),
      ).message,
    ).toContain('given both as a single value and as resource instances');
    expect(
      codecError(() =>
        encodeLwm2mCbor([
          { path: p('/3/0/9'), value: 1 },
          { path: p('/3/0/9'), value: 2 },
        ]),
      ).message,
    ).toContain('/3/0/9 is given more than once');
  });
});

describe('LwM2M CBOR malformed input', () => {
  it.each([
    ['an empty payload', '', 'payload is empty'],
    ['a top-level array', '80', 'top level is an array of 0, not a map keyed by path'],
    ['a truncated string', 'A1 83 03 00 00 63 41', 'a text string declares 3 bytes but only 1 bytes are left (byte 5)'],
    ['a truncated map', 'A2 83 03 00 09 01', 'runs past the end of the payload'],
    ['trailing bytes', 'A0 00', '1 bytes follow the top-level map (byte 1)'],
    ['a negative key', 'A1 20 A0', 'a path component is an integer (-1); LwM2M CBOR keys are unsigned integers (byte 1)'],
    ['a text key', `A1 61 ${utf8hex('3')} A0`, 'LwM2M CBOR keys are unsigned integers'],
    ['an empty array key', 'A1 80 A0', 'a key is an empty array'],
    ['an id past 65535', 'A1 1A 00010000 A0', 'path component 65536 is out of range'],
    ['five ids', 'A1 85 03 00 00 00 00 01', 'past the 4 levels of an LwM2M path'],
    ['a value on an object', 'A1 03 01', '/3 is an object, yet it holds an integer (1)'],
    ['a value on an instance', 'A1 82 03 00 01', '/3/0 is an object instance, yet it holds an integer (1)'],
    ['a map on a resource instance', 'A1 84 03 00 06 00 A0', '/3/0/6/0 is a resource instance, yet it holds a map'],
    ['the same key twice in a map', 'A1 03 A1 00 A2 09 01 09 02', 'key 9 appears twice in the map for /3/0'],
    ['the same resource through two keys', 'A2 83 03 00 09 01 82 03 00 A1 09 02', '/3/0/9 is given more than once'],
    ['a resource as single value and instances', 'A2 83 03 00 06 01 84 03 00 06 00 02', 'resource /3/0/6 is given both as a single value and as resource instances'],
    ['a string for an integer resource', `A1 83 03 00 09 61 ${utf8hex('A')}`, '/3/0/9: a text string "A" cannot be an integer value, which LwM2M CBOR carries as an integer'],
    ['a fraction for an integer resource', 'A1 83 03 00 09 F9 3E00', 'cannot be an integer value'],
    ['a number for a string resource', 'A1 83 03 00 00 01', 'cannot be a string value, which LwM2M CBOR carries as a text string'],
    ['null for a value', 'A1 83 03 00 09 F6', '/3/0/9: null is not a resource value'],
    ['invalid UTF-8', 'A1 83 03 00 00 62 FF FE', 'a text string is not valid UTF-8 (byte 5)'],
    ['a reserved additional information', 'A1 83 03 00 09 1C', 'additional information 28 is reserved'],
    ['a map that claims 2^32 entries', 'BB 0000000100000000', 'a map declares 4294967296 entries but only 0 bytes are left'],
    ['a stray break', 'A1 03 FF', 'a "break" (0xff) stands where a data item belongs'],
    ['a foreign chunk in an indefinite string', 'A1 83 03 00 00 7F 41 41 FF', 'a chunk of an indefinite-length text string is not a definite-length text string'],
  ])('rejects %s', (_label, bytes, fragment) => {
    const e = codecError(() => decodeLwm2mCbor(hex(bytes)));
    expect(e.format).toBe('LwM2M-CBOR');
    expect(e.message).toContain(fragment);
  });

  it.each([
    ['a negative unsigned', 'A1 83 09 00 02 20', '-1 is out of range for an unsigned value'],
    ['a malformed object link', `A1 83 09 00 07 63 ${utf8hex('3-0')}`, '"3-0" is not an object link'],
    ['an objlnk as a number', 'A1 83 09 00 07 03', 'which LwM2M CBOR carries as a text string "objectId:instanceId"'],
    ['a time with fractional seconds', 'A1 83 09 00 06 C1 F9 3E00', 'tag 1 carries 1.5 s, not whole seconds'],
    ['a time tag around text', `A1 83 09 00 06 C1 61 ${utf8hex('x')}`, 'tag 1 (epoch time) carries a text string "x", not a number'],
    ['a date/time string that is no date', `A1 83 09 00 06 C0 63 ${utf8hex('now')}`, 'tag 0 carries "now", which is not an RFC 3339 date/time'],
    ['a text string for an opaque resource', `A1 83 09 00 05 61 ${utf8hex('A')}`, 'which LwM2M CBOR carries as a byte string'],
  ])('rejects %s for a typed resource', (_label, bytes, fragment) => {
    expect(codecError(() => decodeLwm2mCbor(hex(bytes), testObjectType)).message).toContain(fragment);
  });

  it('points at the offending byte', () => {
    expect(codecError(() => decodeLwm2mCbor(hex('A1 03 A1 00 A2 09 01 09 02'))).offset).toBe(7);
  });

  it('stops nesting long before the stack does', () => {
    const deep = Buffer.concat([Buffer.alloc(100_000, 0x81), Buffer.from([0x00])]);
    expect(codecError(() => decodeLwm2mCbor(deep)).message).toContain('nested more than 16 deep');
    const deepMaps = Buffer.concat([Buffer.alloc(50_000, 0xbf)]);
    expect(codecError(() => decodeLwm2mCbor(deepMaps)).message).toContain('nested more than 16 deep');
  });
});
