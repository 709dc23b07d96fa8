/** Which decoder or encoder found the problem; verdicts quote it as the message prefix. */
export type CodecFormat = 'TLV' | 'SenML-JSON' | 'SenML-CBOR' | 'LwM2M-CBOR' | 'link-format' | 'text' | 'opaque' | 'path' | 'content-format';

/**
 * The only error the codecs throw. `detail` is a full sentence meant to be quoted in a
 * verdict as-is; `offset` lets a report point at the offending byte (or character, for
 * the string-based formats) without parsing the sentence.
 */
export class CodecError extends Error {
  readonly format: CodecFormat;
  readonly detail: string;
  readonly offset?: number;

  constructor(format: CodecFormat, detail: string, offset?: number) {
    super(`${format}: ${detail}`);
    this.name = 'CodecError';
    this.format = format;
    this.detail = detail;
    if (offset !== undefined) this.offset = offset;
  }
}

export function isCodecError(e: unknown): e is CodecError {
  return e instanceof CodecError;
}
