import {
  decodeTlv,
  encodeTlv,
  formatPath,
  isPrefixOf,
  parsePath,
  pathLevel,
  readTlvEntries,
  resourceType,
  ROOT_PATH,
  isSecretPath,
  mayContainSecret,
  objectDefinition,
  valueFromBytes,
  valueToBytes,
  valuesEqual,
  type ResourceRecord,
  type ResourceType,
} from '../harness/lwm2m/index.js';
import { hex, codecError } from './support/codec-checks.js';

const ascii = (s: string) => Buffer.from(s, 'ascii').toString('hex');
const p = parsePath;

describe('paths', () => {
  it.each([
    ['/', { objectId: -1 }, 'root'],
    ['/0', { objectId: 0 }, 'object'],
    ['/0/1', { objectId: 0, instanceId: 1 }, 'instance'],
    ['/0/1/5', { objectId: 0, instanceId: 1, resourceId: 5 }, 'resource'],
    ['/0/1/5/0', { objectId: 0, instanceId: 1, resourceId: 5, resourceInstanceId: 0 }, 'resourceInstance'],
    ['/65535/65535/65535/65535', { objectId: 65535, instanceId: 65535, resourceId: 65535, resourceInstanceId: 65535 }, 'resourceInstance'],
  ])('parses %s', (s, expected, level) => {
    const parsed = parsePath(s);
    expect(parsed).toEqual(expected);
    expect(pathLevel(parsed)).toBe(level);
    expect(formatPath(parsed)).toBe(s);
  });

  it.each([
    ['', 'must start with "/"'],
    ['3/0', 'must start with "/"'],
    ['/3/', 'empty segment'],
    ['//3', 'empty segment'],
    ['/3/0/1/2/3', '5 segments'],
    ['/65536', 'ids are 0..65535'],
    ['/3/x', 'not a decimal id'],
    ['/3/-1', 'not a decimal id'],
    ['/03', 'not a decimal id'],
    ['/3/1.5', 'not a decimal id'],
  ])('rejects %j', (s, fragment) => {
    const e = codecError(() => parsePath(s));
    expect(e.format).toBe('path');
    expect(e.message).toContain(fragment);
  });

  it('formats root and refuses paths with holes', () => {
    expect(formatPath(ROOT_PATH)).toBe('/');
    expect(codecError(() => formatPath({ objectId: 3, resourceId: 1 })).message).toContain('missing id above');
    expect(codecError(() => formatPath({ objectId: 70000 })).message).toContain('0..65535');
  });

  it('isPrefixOf follows the tree', () => {
    expect(isPrefixOf(p('/'), p('/3/0/1'))).toBe(true);
    expect(isPrefixOf(p('/3'), p('/3/0/1'))).toBe(true);
    expect(isPrefixOf(p('/3/0/1'), p('/3/0/1'))).toBe(true);
    expect(isPrefixOf(p('/3/0/1'), p('/3/0/1/4'))).toBe(true);
    expect(isPrefixOf(p('/3/0/1'), p('/3/0'))).toBe(false);
    expect(isPrefixOf(p('/3/1'), p('/3/10/0'))).toBe(false);
    expect(isPrefixOf(p('/1'), p('/'))).toBe(false);
  });
});

describe('object definitions', () => {
  it('types the resources bootstrap and registration touch', () => {
    expect(resourceType(p('/0/0/0'))).toBe('string');
    expect(resourceType(p('/0/0/1'))).toBe('boolean');
    expect(resourceType(p('/0/0/2'))).toBe('integer');
    expect(resourceType(p('/0/0/5'))).toBe('opaque');
    expect(resourceType(p('/0/0/10'))).toBe('integer');
    expect(resourceType(p('/0/0/16/0'))).toBe('unsigned');
    expect(resourceType(p('/0/0/17'))).toBe('objlnk');
    expect(resourceType(p('/1/0/1'))).toBe('integer');
    expect(resourceType(p('/1/0/6'))).toBe('boolean');
    expect(resourceType(p('/1/0/7'))).toBe('string');
    expect(resourceType(p('/1/0/8'))).toBe('none');
    expect(resourceType(p('/1/0/12'))).toBe('time');
    expect(resourceType(p('/3/0/13'))).toBe('time');
    expect(resourceType(p('/3/0/6/1'))).toBe('integer');
    expect(resourceType(p('/3/0'))).toBeUndefined();
    expect(resourceType(p('/3/0/999'))).toBeUndefined();
    expect(resourceType(p('/9999/0/0'))).toBeUndefined();
  });

  it('records multiplicity, presence and operations', () => {
    const device = objectDefinition(3)!;
    expect(device.multipleInstances).toBe(false);
    expect(device.resources.get(6)).toMatchObject({ name: 'Available Power Sources', multiple: true, operations: 'R' });
    expect(device.resources.get(4)).toMatchObject({ name: 'Reboot', type: 'none', operations: 'E', mandatory: true });
    expect(device.resources.get(11)).toMatchObject({ multiple: true, mandatory: true });
    const server = objectDefinition(1)!;
    expect(server.resources.get(1)).toMatchObject({ name: 'Lifetime', operations: 'RW', mandatory: true });
    expect(server.resources.get(8)?.operations).toBe('E');
    const security = objectDefinition(0)!;
    expect(security.multipleInstances).toBe(true);
    expect([...security.resources.values()].every((r) => r.operations === '')).toBe(true);
    expect(objectDefinition(4)).toMatchObject({ name: 'Connectivity Monitoring', mandatory: false, multipleInstances: false });
    expect(objectDefinition(5)).toBeUndefined();
  });

  it('knows which paths hold secrets', () => {
    expect(isSecretPath(p('/0/1/5'))).toBe(true);
    expect(isSecretPath(p('/0/1/3'))).toBe(false);
    expect(isSecretPath(p('/1/0/5'))).toBe(false);
    expect(isSecretPath(p('/0/1'))).toBe(false);
    expect(mayContainSecret(p('/0/1'))).toBe(true);
    expect(mayContainSecret(p('/0'))).toBe(true);
    expect(mayContainSecret(p('/'))).toBe(true);
    expect(mayContainSecret(p('/0/1/3'))).toBe(false);
    expect(mayContainSecret(p('/1/0'))).toBe(false);
  });
});

// Device object instance of the TLV examples in Core §7.4.3, with each TLV written out
// from the type-byte rules: bits 7-6 kind, bit 5 id length, bits 4-3 length type.
const DEVICE_RESOURCES =
  // C8 = resource, 8-bit id, 8-bit length field
  `c8 00 14 ${ascii('Open Mobile Alliance')}` +
  `c8 01 16 ${ascii('Lightweight M2M Client')}` +
  `c8 02 09 ${ascii('345000123')}` +
  // C3 = resource, length 3 in the type byte
  `c3 03 ${ascii('1.0')}` +
  // 86 = multiple resource, length 6 in the type byte; 41 = resource instance, length 1
  '86 06 41 00 01 41 01 05' +
  // 88 = multiple resource with an 8-bit length field; 42 = resource instance, length 2
  '88 07 08 42 00 0e d8 42 01 13 88' +
  '87 08 41 00 7d 42 01 03 84' +
  'c1 09 64' +
  'c1 0a 0f' +
  '83 0b 41 00 00' +
  'c4 0d 51 82 42 8f' +
  `c6 0e ${ascii('+02:00')}` +
  `c1 10 ${ascii('U')}`;

const DEVICE_RECORDS: ResourceRecord[] = [
  { path: p('/3/0/0'), value: 'Open Mobile Alliance' },
  { path: p('/3/0/1'), value: 'Lightweight M2M Client' },
  { path: p('/3/0/2'), value: '345000123' },
  { path: p('/3/0/3'), value: '1.0' },
  { path: p('/3/0/6/0'), value: 1 },
  { path: p('/3/0/6/1'), value: 5 },
  { path: p('/3/0/7/0'), value: 3800 },
  { path: p('/3/0/7/1'), value: 5000 },
  { path: p('/3/0/8/0'), value: 125 },
  { path: p('/3/0/8/1'), value: 900 },
  { path: p('/3/0/9'), value: 100 },
  { path: p('/3/0/10'), value: 15 },
  { path: p('/3/0/11/0'), value: 0 },
  { path: p('/3/0/13'), value: 1367491215 },
  { path: p('/3/0/14'), value: '+02:00' },
  { path: p('/3/0/16'), value: 'U' },
];

describe('TLV: spec examples', () => {
  it('encodes the single Device instance read on /3/0 byte for byte', () => {
    expect(encodeTlv(DEVICE_RECORDS, p('/3/0')).toString('hex')).toBe(hex(DEVICE_RESOURCES).toString('hex'));
  });

  it('decodes the same bytes into the same records', () => {
    expect(decodeTlv(hex(DEVICE_RESOURCES), p('/3/0'))).toEqual(DEVICE_RECORDS);
  });

  it('wraps an object-level read in an Object Instance TLV with an 8-bit length (0x79 = 121 bytes)', () => {
    const body = hex(DEVICE_RESOURCES);
    expect(body.length).toBe(0x79);
    const expected = Buffer.concat([hex('08 00 79'), body]);
    expect(encodeTlv(DEVICE_RECORDS, p('/3')).equals(expected)).toBe(true);
    expect(decodeTlv(expected, p('/3'))).toEqual(DEVICE_RECORDS);
  });

  it('reads a multiple resource on its own path', () => {
    const bytes = hex('86 06 41 00 01 41 01 05');
    const records = decodeTlv(bytes, p('/3/0/6'));
    expect(records).toEqual([
      { path: p('/3/0/6/0'), value: 1 },
      { path: p('/3/0/6/1'), value: 5 },
    ]);
    expect(encodeTlv(records, p('/3/0/6')).equals(bytes)).toBe(true);
  });

  // Access Control object instances from the same section, typed by a caller-supplied
  // lookup. In the second instance, 87 = multiple resource holding 7 bytes (41 7f 07 and
  // 61 01 36 01), where 61 = resource instance with a 16-bit id 0x0136 (310).
  it('decodes two Access Control instances with a 16-bit resource instance id', () => {
    const bytes = hex('08 00 0e c1 00 01 c1 01 00 83 02 41 7f 07 c1 03 7f' + '08 02 12 c1 00 03 c1 01 00 87 02 41 7f 07 61 01 36 01 c1 03 7f');
    const acl = (): ResourceType => 'integer';
    const records = decodeTlv(bytes, p('/2'), acl);
    expect(records).toEqual([
      { path: p('/2/0/0'), value: 1 },
      { path: p('/2/0/1'), value: 0 },
      { path: p('/2/0/2/127'), value: 7 },
      { path: p('/2/0/3'), value: 127 },
      { path: p('/2/2/0'), value: 3 },
      { path: p('/2/2/1'), value: 0 },
      { path: p('/2/2/2/127'), value: 7 },
      { path: p('/2/2/2/310'), value: 1 },
      { path: p('/2/2/3'), value: 127 },
    ]);
    expect(encodeTlv(records, p('/2'), acl).equals(bytes)).toBe(true);
  });

  it('exposes the raw TLV structure with offsets', () => {
    const entries = readTlvEntries(hex('08 00 05 c3 03 31 2e 30'));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ kind: 'objectInstance', id: 0, offset: 0, valueOffset: 3 });
    expect(entries[0]!.children![0]).toMatchObject({ kind: 'resource', id: 3, offset: 3, valueOffset: 5 });
    expect(entries[0]!.children![0]!.value.toString()).toBe('1.0');
  });
});

describe('TLV: values', () => {
  const t = (type: ResourceType) => () => type;
  const roundTrip = (type: ResourceType, value: ResourceRecord['value'], bytes?: string) => {
    const enc = encodeTlv([{ path: p('/9/0/1'), value }], p('/9/0/1'), t(type));
    if (bytes !== undefined) expect(enc.toString('hex')).toBe(hex(bytes).toString('hex'));
    const [rec] = decodeTlv(enc, p('/9/0/1'), t(type));
    expect(valuesEqual(rec!.value, value)).toBe(true);
    return rec!.value;
  };

  it.each([
    [0, 'c1 01 00'],
    [127, 'c1 01 7f'],
    [128, 'c2 01 00 80'],
    [-1, 'c1 01 ff'],
    [-128, 'c1 01 80'],
    [-129, 'c2 01 ff 7f'],
    [32767, 'c2 01 7f ff'],
    [32768, 'c4 01 00 00 80 00'],
    [-2147483648, 'c4 01 80 00 00 00'],
    [2147483648, 'c8 01 08 00 00 00 00 80 00 00 00'],
    [Number.MAX_SAFE_INTEGER, 'c8 01 08 00 1f ff ff ff ff ff ff'],
  ])("integer %d uses the shortest two's complement form", (value, bytes) => {
    expect(roundTrip('integer', value, bytes)).toBe(value);
  });

  it('keeps 64-bit integers beyond 2^53 exact as bigint', () => {
    expect(roundTrip('integer', 9223372036854775807n, 'c8 01 08 7f ff ff ff ff ff ff ff')).toBe(9223372036854775807n);
    expect(roundTrip('integer', -9223372036854775808n, 'c8 01 08 80 00 00 00 00 00 00 00')).toBe(-9223372036854775808n);
    expect(roundTrip('unsigned', 18446744073709551615n, 'c8 01 08 ff ff ff ff ff ff ff ff')).toBe(18446744073709551615n);
  });

  it('reads unsigned values without sign extension', () => {
    expect(roundTrip('unsigned', 0xc0a8, 'c2 01 c0 a8')).toBe(49320);
    expect(decodeTlv(hex('c2 01 c0 a8'), p('/9/0/1'), t('integer'))[0]!.value).toBe(-16216);
    expect(codecError(() => encodeTlv([{ path: p('/9/0/1'), value: -1 }], p('/9/0/1'), t('unsigned'))).message).toContain('unsigned');
  });

  it('encodes floats in 4 bytes when exact, 8 otherwise, and reads both', () => {
    expect(roundTrip('float', 1.5, 'c4 01 3f c0 00 00')).toBe(1.5);
    expect(roundTrip('float', 0.1, 'c8 01 08 3f b9 99 99 99 99 99 9a')).toBe(0.1);
    expect(roundTrip('float', -2, 'c4 01 c0 00 00 00')).toBe(-2);
    expect(decodeTlv(hex('c8 01 08 40 09 21 fb 54 44 2d 18'), p('/9/0/1'), t('float'))[0]!.value).toBe(3.141592653589793);
  });

  it('handles booleans, strings, opaque, time and objlnk', () => {
    expect(roundTrip('boolean', true, 'c1 01 01')).toBe(true);
    expect(roundTrip('boolean', false, 'c1 01 00')).toBe(false);
    expect(roundTrip('string', 'héllo', `c6 01 ${Buffer.from('héllo').toString('hex')}`)).toBe('héllo');
    expect(roundTrip('string', '', 'c0 01')).toBe('');
    expect(roundTrip('opaque', Buffer.from([0, 1, 2, 255]), 'c4 01 00 01 02 ff')).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(roundTrip('time', 1367491215, 'c4 01 51 82 42 8f')).toBe(1367491215);
    expect(roundTrip('objlnk', { objectId: 3, instanceId: 0 }, 'c4 01 00 03 00 00')).toEqual({ objectId: 3, instanceId: 0 });
    expect(roundTrip('objlnk', { objectId: 65535, instanceId: 65535 }, 'c4 01 ff ff ff ff')).toEqual({ objectId: 65535, instanceId: 65535 });
    expect(roundTrip('corelnk', '</3/0>', `c6 01 ${ascii('</3/0>')}`)).toBe('</3/0>');
  });

  it('uses 16-bit ids and 16/24-bit lengths where needed', () => {
    const big = Buffer.alloc(300, 0x61);
    const enc = encodeTlv([{ path: p('/9/0/300'), value: big }], p('/9/0'), t('opaque'));
    expect(enc.subarray(0, 5).toString('hex')).toBe('f0012c012c');
    const huge = Buffer.alloc(70000, 0x62);
    const enc24 = encodeTlv([{ path: p('/9/0/1'), value: huge }], p('/9/0'), t('opaque'));
    expect(enc24.subarray(0, 5).toString('hex')).toBe('d801011170');
    expect((decodeTlv(enc24, p('/9/0'), t('opaque'))[0]!.value as Buffer).equals(huge)).toBe(true);
  });

  it('decodes unknown resources as opaque bytes', () => {
    const [rec] = decodeTlv(hex('c2 05 12 34'), p('/9999/0'), () => undefined);
    expect(rec).toEqual({ path: p('/9999/0/5'), value: Buffer.from([0x12, 0x34]) });
  });

  it('infers types for untyped values when encoding', () => {
    const enc = encodeTlv(
      [
        { path: p('/9/0/1'), value: -5 },
        { path: p('/9/0/2'), value: 'x' },
        { path: p('/9/0/3'), value: true },
        { path: p('/9/0/4'), value: 2.5 },
        { path: p('/9/0/5'), value: { objectId: 1, instanceId: 2 } },
      ],
      p('/9/0'),
      () => undefined,
    );
    expect(enc.toString('hex')).toBe(hex('c1 01 fb c1 02 78 c1 03 01 c4 04 40 20 00 00 c4 05 00 01 00 02').toString('hex'));
  });

  it('binary value helpers reject wrong lengths', () => {
    expect(valueToBytes(1, 'integer').toString('hex')).toBe('01');
    expect(codecError(() => valueFromBytes(hex('00 01 02'), 'integer')).message).toContain('3 bytes');
    expect(codecError(() => valueFromBytes(hex('00 00'), 'boolean')).message).toContain('exactly 1');
    expect(codecError(() => valueFromBytes(hex('02'), 'boolean')).message).toContain('only 0 and 1');
    expect(codecError(() => valueFromBytes(hex('00 00 00'), 'objlnk')).message).toContain('exactly 4');
    expect(codecError(() => valueFromBytes(hex('00 00'), 'float')).message).toContain('4 or 8');
    expect(codecError(() => valueFromBytes(hex('c3 28'), 'string')).message).toContain('not valid UTF-8');
  });
});

describe('TLV: structure and base paths', () => {
  it('accepts an instance payload wrapped in its own Object Instance TLV', () => {
    expect(decodeTlv(hex('08 00 03 c1 09 64'), p('/3/0'))).toEqual([{ path: p('/3/0/9'), value: 100 }]);
    expect(codecError(() => decodeTlv(hex('08 01 03 c1 09 64'), p('/3/0'))).message).toContain('has id 1');
  });

  it('accepts bare resource instances for a resource-level payload', () => {
    expect(decodeTlv(hex('41 00 01 41 01 05'), p('/3/0/6'))).toEqual([
      { path: p('/3/0/6/0'), value: 1 },
      { path: p('/3/0/6/1'), value: 5 },
    ]);
  });

  it('checks ids against the base path', () => {
    expect(decodeTlv(hex('c1 09 64'), p('/3/0/9'))).toEqual([{ path: p('/3/0/9'), value: 100 }]);
    const e = codecError(() => decodeTlv(hex('c1 0a 64'), p('/3/0/9')));
    expect(e.message).toBe('TLV: the Resource TLV at byte 0 has id 10, but the payload is for /3/0/9');
    expect(decodeTlv(hex('41 01 05'), p('/3/0/6/1'))).toEqual([{ path: p('/3/0/6/1'), value: 5 }]);
    expect(codecError(() => decodeTlv(hex('41 02 05'), p('/3/0/6/1'))).message).toContain('has id 2');
  });

  it('rejects the wrong TLV kind for the base level', () => {
    expect(codecError(() => decodeTlv(hex('c1 09 64'), p('/3'))).message).toContain('expected Object Instance');
    expect(codecError(() => decodeTlv(hex('41 00 01'), p('/3/0'))).message).toContain('cannot appear at the top');
    expect(codecError(() => decodeTlv(hex('c1 09 64 c1 0a 0f'), p('/3/0/9'))).message).toContain('holds 2 TLVs');
    expect(codecError(() => decodeTlv(hex(''), p('/'))).message).toContain('root');
  });

  it('rejects illegal nesting', () => {
    const e = codecError(() => decodeTlv(hex('08 00 03 41 00 01'), p('/3')));
    expect(e.message).toContain('Resource Instance TLV at byte 3 sits inside a Object Instance');
    expect(e.offset).toBe(3);
    expect(codecError(() => decodeTlv(hex('83 06 c1 00 01'), p('/3/0'))).message).toContain('may only contain Resource Instance');
  });

  it('refuses records outside the base or above resource level when encoding', () => {
    expect(codecError(() => encodeTlv([{ path: p('/3/1/0'), value: 'x' }], p('/3/0'))).message).toContain('not under the base');
    expect(codecError(() => encodeTlv([{ path: p('/3/0'), value: 'x' }], p('/3'))).message).toContain('does not address a resource');
    expect(
      codecError(() =>
        encodeTlv(
          [
            { path: p('/3/0/6'), value: 1 },
            { path: p('/3/0/6/0'), value: 1 },
          ],
          p('/3/0'),
        ),
      ).message,
    ).toContain('both as a single value and as resource instances');
    const twice = [
      { path: p('/3/0/9'), value: 1 },
      { path: p('/3/0/9'), value: 2 },
    ];
    expect(codecError(() => encodeTlv(twice, p('/3/0'))).message).toBe('TLV: resource /3/0/9 is given 2 times');
    const twiceInstance = [
      { path: p('/3/0/6/1'), value: 1 },
      { path: p('/3/0/6/1'), value: 2 },
    ];
    expect(codecError(() => encodeTlv(twiceInstance, p('/3/0'))).message).toBe('TLV: resource instance /3/0/6/1 is given more than once');
    expect(codecError(() => encodeTlv([{ path: p('/3/0/0'), value: 5 }], p('/3/0'))).message).toContain('cannot be a string value');
  });
});

describe('TLV: malformed input', () => {
  it('reports a value running past the end with position and sizes', () => {
    const e = codecError(() => decodeTlv(hex('c8 00 0c 41 42 43 44 45'), p('/3/0')));
    expect(e.message).toBe('TLV: value of Resource 0 runs past the end of the payload at byte 3 (needs 12 bytes, 5 left)');
    expect(e.offset).toBe(3);
  });

  it('reports a truncated identifier and length field', () => {
    expect(codecError(() => decodeTlv(hex('c1'), p('/3/0'))).message).toBe('TLV: identifier runs past the end of the payload at byte 1 (needs 1 bytes, 0 left)');
    expect(codecError(() => decodeTlv(hex('e1 00'), p('/3/0'))).message).toContain('identifier runs past');
    expect(codecError(() => decodeTlv(hex('d0 01 00'), p('/3/0'))).message).toBe('TLV: length field runs past the end of the payload at byte 2 (needs 2 bytes, 1 left)');
  });

  it('rejects a 24-bit length far beyond the payload', () => {
    const e = codecError(() => decodeTlv(hex('d8 01 ff ff ff 00 00'), p('/3/0')));
    expect(e.message).toContain('needs 16777215 bytes, 2 left');
  });

  it('rejects a child running past its container even when the payload is longer', () => {
    const e = codecError(() => decodeTlv(hex('08 00 02 c1 09 64'), p('/3')));
    expect(e.message).toContain('past the end of the enclosing Object Instance 0 TLV');
  });

  it('rejects trailing garbage', () => {
    expect(codecError(() => decodeTlv(hex('c1 09 64 ff'), p('/3/0'))).message).toContain('runs past the end');
    expect(codecError(() => decodeTlv(hex('c1 09 64 41'), p('/3/0'))).message).toContain('runs past the end');
  });

  it('rejects typed values of the wrong size', () => {
    const e = codecError(() => decodeTlv(hex('c3 09 00 00 01'), p('/3/0')));
    expect(e.message).toContain('Resource TLV for /3/0/9 at byte 0 is an integer of 3 bytes');
    expect(e.offset).toBe(2);
  });

  it('refuses to encode a value longer than a 24-bit length allows', () => {
    const tooLong = Buffer.alloc(0x1000000);
    expect(codecError(() => encodeTlv([{ path: p('/9/0/1'), value: tooLong }], p('/9/0'), () => 'opaque')).message).toContain('at most 16777215 bytes');
  });
});
