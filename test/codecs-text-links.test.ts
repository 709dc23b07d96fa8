import { CF, CodecError, decodeContent, decodeText, encodeContent, encodeText, formatLinkFormat, parseLinkFormat, parsePath, type ResourceType } from '../harness/lwm2m/index.js';
import { codecError } from './support/codec-checks.js';

const p = parsePath;
const txt = (s: string) => Buffer.from(s, 'utf8');

describe('link-format', () => {
  it('parses a registration payload', () => {
    expect(parseLinkFormat('</>;rt="oma.lwm2m";ct=110,</1>;ver=1.2,</1/0>,</3/0>')).toEqual([
      { target: '/', attributes: { rt: 'oma.lwm2m', ct: '110' } },
      { target: '/1', attributes: { ver: '1.2' } },
      { target: '/1/0', attributes: {} },
      { target: '/3/0', attributes: {} },
    ]);
  });

  it('tolerates the whitespace devices put after separators', () => {
    const links = parseLinkFormat('</>;lwm2m=1.2, </0/0>;uri="coap://bs.example.com",\r\n </0/1> ; ssid=101 ; uri="coaps://s1.example.com", </1/0>;ssid=101 ');
    expect(links).toEqual([
      { target: '/', attributes: { lwm2m: '1.2' } },
      { target: '/0/0', attributes: { uri: 'coap://bs.example.com' } },
      { target: '/0/1', attributes: { ssid: '101', uri: 'coaps://s1.example.com' } },
      { target: '/1/0', attributes: { ssid: '101' } },
    ]);
  });

  it('keeps commas, semicolons and escaped quotes inside quoted values; bare names are true', () => {
    expect(parseLinkFormat('</3/0/1>;title="a, b; c";obs;dim=2,<x>;title="say \\"hi\\""')).toEqual([
      { target: '/3/0/1', attributes: { title: 'a, b; c', obs: true, dim: '2' } },
      { target: 'x', attributes: { title: 'say "hi"' } },
    ]);
  });

  it('keeps the first of repeated attributes and stores odd names as plain keys', () => {
    const [link] = parseLinkFormat('</1>;ver=1.1;ver=9;__proto__=x');
    expect(link!.attributes.ver).toBe('1.1');
    expect(Object.keys(link!.attributes)).toEqual(['ver', '__proto__']);
    expect(Object.getPrototypeOf(link!.attributes)).toBe(Object.prototype);
  });

  it('parses an empty document as no links', () => {
    expect(parseLinkFormat('')).toEqual([]);
    expect(parseLinkFormat('  ')).toEqual([]);
  });

  it.each([
    ['</1/0', 'a "<" is never closed by ">" at character 0'],
    ['</1/0,</3/0>', 'a "<" is never closed by ">" at character 0'],
    ['</1/0>;title="abc', 'a quoted attribute value is never closed at character 13'],
    ['/1/0', 'expected "<" to open a link but found "/" at character 0'],
    ['</1/0>x', 'expected ";" or "," after a link but found "x" at character 6'],
    ['</1/0>;=5', 'expected a parameter name after ";" but found "=" at character 7'],
    ['</1/0>,', 'expected "<" to open a link but found the end of the text at character 7'],
  ])('rejects %j', (s, message) => {
    const e = codecError(() => parseLinkFormat(s));
    expect(e.message).toBe(`link-format: ${message}`);
  });

  it('formats links, quoting where the RFC requires or the value needs it', () => {
    const s = formatLinkFormat([
      { target: '/', attributes: { rt: 'oma.lwm2m', ct: '110' } },
      { target: '/0/1', attributes: { ssid: '101', uri: 'coap://h:5683', title: 'a "b", c', obs: true, empty: '' } },
    ]);
    expect(s).toBe('</>;rt="oma.lwm2m";ct=110,</0/1>;ssid=101;uri=coap://h:5683;title="a \\"b\\", c";obs;empty=""');
    expect(parseLinkFormat(s)).toEqual([
      { target: '/', attributes: { rt: 'oma.lwm2m', ct: '110' } },
      { target: '/0/1', attributes: { ssid: '101', uri: 'coap://h:5683', title: 'a "b", c', obs: true, empty: '' } },
    ]);
  });
});

describe('text/plain', () => {
  it.each<[ResourceType, string, unknown]>([
    ['integer', '-750', -750],
    ['integer', '9223372036854775807', 9223372036854775807n],
    ['integer', '-9223372036854775808', -9223372036854775808n],
    ['unsigned', '18446744073709551615', 18446744073709551615n],
    ['time', '1476186613', 1476186613],
    ['float', '0.00000000006667', 6.667e-11],
    ['float', '-1.5', -1.5],
    ['float', '3', 3],
    ['boolean', '1', true],
    ['boolean', '0', false],
    ['string', 'Open Mobile Alliance', 'Open Mobile Alliance'],
    ['string', '', ''],
    ['corelnk', '</3/0>', '</3/0>'],
    ['objlnk', '3:0', { objectId: 3, instanceId: 0 }],
    ['objlnk', '65535:65535', { objectId: 65535, instanceId: 65535 }],
    ['opaque', 'AQIDBAU=', Buffer.from([1, 2, 3, 4, 5])],
  ])('%s %j round-trips', (type, text, value) => {
    expect(decodeText(txt(text), type)).toEqual(value);
    expect(encodeText(value as never, type).toString()).toBe(text);
  });

  it('decodes exponent notation but writes plain decimals', () => {
    expect(decodeText(txt('1e3'), 'float')).toBe(1000);
    expect(encodeText(1e21, 'float').toString()).toBe('1000000000000000000000');
    expect(encodeText(-1.5e-7, 'float').toString()).toBe('-0.00000015');
  });

  it.each<[ResourceType, string, string]>([
    ['integer', '12a', '"12a" is not a decimal integer'],
    ['integer', ' 1', '" 1" is not a decimal integer'],
    ['integer', '9223372036854775808', 'the payload: 9223372036854775808 is out of range for an integer value (signed 64-bit)'],
    ['unsigned', '-1', 'is not a decimal unsigned integer'],
    ['float', 'NaN', '"NaN" is not a decimal number'],
    ['boolean', 'true', '"true" is not a boolean ("0" or "1")'],
    ['objlnk', '3:65536', 'is not an object link'],
    ['objlnk', '3', 'is not an object link'],
    ['opaque', 'AQID*', 'is not base64'],
  ])('%s rejects %j', (type, text, fragment) => {
    const e = codecError(() => decodeText(txt(text), type));
    expect(e.format).toBe('text');
    expect(e.message).toContain(fragment);
  });

  it('rejects invalid UTF-8', () => {
    expect(codecError(() => decodeText(Buffer.from([0xc3]), 'string')).message).toBe('text: the payload is not valid UTF-8');
  });
});

describe('decodeContent / encodeContent', () => {
  it('decodes text against the resource the request addressed', () => {
    expect(decodeContent(CF.TEXT, txt('300'), p('/1/0/1'))).toEqual({
      ok: true,
      format: 'text',
      text: '300',
      records: [{ path: p('/1/0/1'), value: 300 }],
    });
    expect(decodeContent(CF.TEXT, txt('hello'), undefined)).toEqual({ ok: true, format: 'text', text: 'hello' });
  });

  it('reports text or opaque answering a non-resource path', () => {
    const r = decodeContent(CF.TEXT, txt('300'), p('/1/0'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toContain('/1/0, which is not a resource');
    expect(decodeContent(CF.OPAQUE, Buffer.from([1]), p('/0')).ok).toBe(false);
  });

  it('passes opaque bytes through', () => {
    expect(decodeContent(CF.OPAQUE, Buffer.from([9, 8]), p('/0/1/5'))).toEqual({
      ok: true,
      format: 'opaque',
      records: [{ path: p('/0/1/5'), value: Buffer.from([9, 8]) }],
    });
  });

  it('decodes link format, TLV and SenML', () => {
    expect(decodeContent(CF.LINK_FORMAT, txt('</1/0>'), undefined)).toEqual({
      ok: true,
      format: 'link-format',
      links: [{ target: '/1/0', attributes: {} }],
    });
    expect(decodeContent(CF.TLV, Buffer.from('c10964', 'hex'), p('/3/0'))).toEqual({
      ok: true,
      format: 'TLV',
      records: [{ path: p('/3/0/9'), value: 100 }],
    });
    expect(decodeContent(CF.SENML_JSON, txt('[{"n":"/3/0/9","v":100}]'), undefined)).toMatchObject({
      ok: true,
      records: [{ path: p('/3/0/9'), value: 100 }],
    });
  });

  it('turns decoder errors into ok:false', () => {
    const r = decodeContent(CF.TLV, Buffer.from('c8000c4142', 'hex'), p('/3/0'));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toBeInstanceOf(CodecError);
      expect(r.error.format).toBe('TLV');
      expect(r.error.offset).toBe(3);
    }
    const noBase = decodeContent(CF.TLV, Buffer.from('c10964', 'hex'), undefined);
    expect(noBase.ok).toBe(false);
  });

  it('names formats it does not decode', () => {
    const r = decodeContent(9999, Buffer.from([1]), p('/3/0'));
    expect(r).toEqual({ ok: false, error: expect.any(CodecError) });
    if (!r.ok) expect(r.error.message).toBe('content-format: content format 9999 is not one this harness decodes');
    const json = decodeContent(11543, Buffer.from('{}'), p('/3/0'));
    if (json.ok) throw new Error('the legacy OMA JSON format should not decode');
    expect(json.error.message).toContain('11543 (application/vnd.oma.lwm2m+json) is not one this harness decodes');
  });

  it('treats a missing Content-Format as empty only when there is no payload', () => {
    expect(decodeContent(undefined, Buffer.alloc(0), p('/3/0'))).toEqual({ ok: true, format: 'none', records: [] });
    const r = decodeContent(undefined, Buffer.from([1, 2]), p('/3/0'));
    if (r.ok) throw new Error('should fail');
    expect(r.error.message).toContain('2 payload bytes but no Content-Format option');
  });

  it('encodes through each format and round-trips with decodeContent', () => {
    const records = [
      { path: p('/1/0/0'), value: 101 },
      { path: p('/1/0/1'), value: 86400 },
      { path: p('/1/0/6'), value: true },
      { path: p('/1/0/7'), value: 'UQ' },
    ];
    for (const cf of [CF.TLV, CF.SENML_JSON, CF.SENML_CBOR, CF.LWM2M_CBOR]) {
      const payload = encodeContent(cf, records, p('/1/0'));
      expect(decodeContent(cf, payload, p('/1/0'))).toMatchObject({ ok: true, records });
    }
    expect(encodeContent(CF.TEXT, [records[1]!], p('/1/0/1')).toString()).toBe('86400');
    expect(encodeContent(CF.OPAQUE, [{ path: p('/0/0/3'), value: Buffer.from('id') }], p('/0/0/3')).toString()).toBe('id');
    expect(codecError(() => encodeContent(CF.TEXT, records, p('/1/0/1'))).message).toContain('exactly one value, 4 given');
    expect(codecError(() => encodeContent(CF.LINK_FORMAT, records, p('/1/0'))).message).toContain('not one this harness encodes');
  });
});
