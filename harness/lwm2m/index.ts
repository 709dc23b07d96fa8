export { CodecError, isCodecError, type CodecFormat } from './errors.js';
export { ROOT_PATH, childPath, formatPath, isPrefixOf, isRoot, parsePath, pathEquals, pathIds, pathLevel, validatePath, type Lwm2mPath, type PathLevel } from './path.js';
export {
  coerceValue,
  describeValue,
  formatObjectLink,
  inferType,
  isObjectLink,
  parseObjectLink,
  valueFromBytes,
  valueToBytes,
  valuesEqual,
  type Lwm2mValue,
  type ObjectLink,
  type ResourceRecord,
  type ResourceType,
  type TypeLookup,
} from './values.js';
export {
  DEVICE_OBJECT,
  OBJECT_DEFINITIONS,
  SECRET_RESOURCES,
  SECURITY_OBJECT,
  SERVER_OBJECT,
  isSecretPath,
  mayContainSecret,
  objectDefinition,
  resourceDefinition,
  resourceType,
  type ObjectDefinition,
  type Operations,
  type ResourceDefinition,
  type SecretResource,
} from './objects.js';
export { decodeTlv, encodeTlv, readTlvEntries, type TlvEntry, type TlvKind } from './tlv.js';
export { decodeSenmlJson, encodeSenmlJson } from './senml-json.js';
export { decodeSenmlCbor, encodeSenmlCbor } from './senml-cbor.js';
export { decodeLwm2mCbor, encodeLwm2mCbor } from './lwm2m-cbor.js';
export { formatLinkFormat, parseLinkFormat, type Link } from './link-format.js';
export { decodeOpaque, decodeText, encodeOpaque, encodeText } from './text.js';
export { CF, CF_NAMES, contentFormatName, decodeContent, encodeContent, type DecodedContent } from './content-formats.js';
