import { CodecError } from './errors.js';
import { parseLinkFormat, type Link } from './link-format.js';
import { decodeLwm2mCbor, encodeLwm2mCbor } from './lwm2m-cbor.js';
import { resourceType } from './objects.js';
import { formatPath, pathLevel, type Lwm2mPath } from './path.js';
import { decodeSenmlCbor, encodeSenmlCbor } from './senml-cbor.js';
import { decodeSenmlJson, encodeSenmlJson } from './senml-json.js';
import { decodeOpaque, decodeText, encodeOpaque, encodeText } from './text.js';
import { decodeTlv, encodeTlv } from './tlv.js';
import { decodeUtf8, type ResourceRecord, type TypeLookup } from './values.js';

/** CoAP Content-Format numbers LwM2M 1.2 uses (Core §7.4). */
export const CF = {
  TEXT: 0,
  LINK_FORMAT: 40,
  OPAQUE: 42,
  SENML_JSON: 110,
  SENML_CBOR: 112,
  TLV: 11542,
  LWM2M_CBOR: 11544,
} as const;

export const CF_NAMES: Readonly<Record<number, string>> = {
  0: 'text/plain',
  40: 'application/link-format',
  42: 'application/octet-stream',
  60: 'application/cbor',
  110: 'application/senml+json',
  112: 'application/senml+cbor',
  320: 'application/senml-etch+json',
  322: 'application/senml-etch+cbor',
  11542: 'application/vnd.oma.lwm2m+tlv',
  11543: 'application/vnd.oma.lwm2m+json',
  11544: 'application/vnd.oma.lwm2m+cbor',
};

export function contentFormatName(cf: number | undefined): string {
  if (cf === undefined) return 'no Content-Format';
  const name = CF_NAMES[cf];
  return name ? `${cf} (${name})` : String(cf);
}

export type DecodedContent = { ok: true; format: string; records?: ResourceRecord[]; links?: Link[]; text?: string } | { ok: false; error: CodecError };

function isResourceLevel(p: Lwm2mPath): boolean {
  const level = pathLevel(p);
  return level === 'resource' || level === 'resourceInstance';
}

function singleValueBase(format: 'text' | 'opaque', base: Lwm2mPath | undefined): Lwm2mPath | undefined {
  if (base !== undefined && !isResourceLevel(base)) {
    throw new CodecError(format, `a ${CF_NAMES[format === 'text' ? 0 : 42]} payload holds one resource value, but it answers ${formatPath(base)}, which is not a resource`);
  }
  return base;
}

function decodeOrThrow(cf: number | undefined, payload: Buffer, base: Lwm2mPath | undefined, typeOf: TypeLookup): DecodedContent {
  switch (cf) {
    case undefined:
      if (payload.length === 0) return { ok: true, format: 'none', records: [] };
      throw new CodecError('content-format', `the message has ${payload.length} payload bytes but no Content-Format option, so there is no telling how to decode them`);
    case CF.TEXT: {
      const text = decodeUtf8(payload, 'text', 'the payload');
      const b = singleValueBase('text', base);
      return b === undefined ? { ok: true, format: 'text', text } : { ok: true, format: 'text', text, records: [{ path: b, value: decodeText(payload, typeOf(b)) }] };
    }
    case CF.OPAQUE: {
      const b = singleValueBase('opaque', base);
      return b === undefined ? { ok: true, format: 'opaque' } : { ok: true, format: 'opaque', records: [{ path: b, value: decodeOpaque(payload) }] };
    }
    case CF.LINK_FORMAT:
      return { ok: true, format: 'link-format', links: parseLinkFormat(decodeUtf8(payload, 'link-format', 'the payload')) };
    case CF.SENML_JSON:
      return { ok: true, format: 'SenML-JSON', records: decodeSenmlJson(payload, typeOf) };
    case CF.SENML_CBOR:
      return { ok: true, format: 'SenML-CBOR', records: decodeSenmlCbor(payload, typeOf) };
    case CF.LWM2M_CBOR:
      return { ok: true, format: 'LwM2M-CBOR', records: decodeLwm2mCbor(payload, typeOf) };
    case CF.TLV:
      if (base === undefined) throw new CodecError('TLV', 'a TLV payload can only be read against the path it answers, and none was given');
      return { ok: true, format: 'TLV', records: decodeTlv(payload, base, typeOf) };
    default:
      throw new CodecError('content-format', `content format ${contentFormatName(cf)} is not one this harness decodes`);
  }
}

/**
 * Decodes any payload a device may send and never throws: a malformed payload is a
 * finding to report, not a harness crash. `base` is the path of the request the payload
 * answers (needed by TLV, text and opaque; SenML, LwM2M CBOR and link-format ignore it).
 */
export function decodeContent(cf: number | undefined, payload: Buffer, base: Lwm2mPath | undefined, typeOf: TypeLookup = resourceType): DecodedContent {
  try {
    return decodeOrThrow(cf, payload, base, typeOf);
  } catch (e) {
    if (e instanceof CodecError) return { ok: false, error: e };
    const why = e instanceof Error ? e.message : String(e);
    return { ok: false, error: new CodecError('content-format', `decoder failed unexpectedly on ${contentFormatName(cf)}: ${why}`) };
  }
}

/**
 * Encodes records the harness sends. Unlike decodeContent this throws CodecError: the
 * records come from test code, so a value that cannot be encoded is a harness bug.
 * Link format has no records; use formatLinkFormat for it.
 */
export function encodeContent(cf: number, records: ResourceRecord[], base: Lwm2mPath, typeOf: TypeLookup = resourceType): Buffer {
  const single = (format: 'text' | 'opaque'): ResourceRecord => {
    singleValueBase(format, base);
    if (records.length !== 1) throw new CodecError(format, `${CF_NAMES[format === 'text' ? 0 : 42]} carries exactly one value, ${records.length} given`);
    return records[0]!;
  };
  switch (cf) {
    case CF.TEXT: {
      const r = single('text');
      return encodeText(r.value, typeOf(r.path));
    }
    case CF.OPAQUE:
      return encodeOpaque(single('opaque').value);
    case CF.SENML_JSON:
      return encodeSenmlJson(records, base, typeOf);
    case CF.SENML_CBOR:
      return encodeSenmlCbor(records, base, typeOf);
    case CF.TLV:
      return encodeTlv(records, base, typeOf);
    case CF.LWM2M_CBOR:
      return encodeLwm2mCbor(records, base, typeOf);
    default:
      throw new CodecError('content-format', `content format ${contentFormatName(cf)} is not one this harness encodes`);
  }
}
