/**
 * A strict CBOR (RFC 8949) item reader, our own rather than cbor-x's decoder: a conformance
 * verdict needs what a general-purpose decoder smooths over (a string that is not UTF-8, an
 * indefinite-length string a constrained client may stream, the byte where it went wrong),
 * and maps come back as their entries in order, so the format reading them (lwm2m-cbor.ts)
 * can see a duplicate key and name the byte of its own complaints.
 */
import { CodecError, type CodecFormat } from './errors.js';

/** Four levels of maps plus array keys and a tag fit well within this; anything deeper is hostile. */
const MAX_NESTING = 16;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export type CborItem =
  | { kind: 'uint'; value: bigint; offset: number }
  | { kind: 'nint'; value: bigint; offset: number }
  | { kind: 'bytes'; value: Buffer; offset: number }
  | { kind: 'text'; value: string; offset: number }
  | { kind: 'array'; items: CborItem[]; offset: number }
  | { kind: 'map'; entries: [CborItem, CborItem][]; offset: number }
  | { kind: 'tag'; tag: bigint; item: CborItem; offset: number }
  | { kind: 'float'; value: number; offset: number }
  | { kind: 'bool'; value: boolean; offset: number }
  | { kind: 'null' | 'undefined'; offset: number }
  | { kind: 'simple'; value: number; offset: number };

const BREAK = Symbol('break');

export function describeItem(item: CborItem): string {
  switch (item.kind) {
    case 'uint':
    case 'nint':
      return `an integer (${item.value})`;
    case 'bytes':
      return `a byte string (${item.value.length} bytes)`;
    case 'text':
      return `a text string ${JSON.stringify(item.value.length > 40 ? item.value.slice(0, 40) + '…' : item.value)}`;
    case 'array':
      return `an array of ${item.items.length}`;
    case 'map':
      return 'a map';
    case 'tag':
      return `tag ${item.tag} around ${describeItem(item.item)}`;
    case 'float':
      return `a float (${item.value})`;
    case 'bool':
      return String(item.value);
    case 'null':
    case 'undefined':
      return item.kind;
    case 'simple':
      return `simple value ${item.value}`;
  }
}

function halfToNumber(h: number): number {
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

export class CborReader {
  pos = 0;
  constructor(
    private readonly buf: Buffer,
    /** The format named in every error (the CodecError's format). */
    private readonly format: CodecFormat,
  ) {}

  private fail(detail: string, at: number): never {
    throw new CodecError(this.format, `${detail} (byte ${at})`, at);
  }

  private need(count: number, what: string, at: number): void {
    if (this.pos + count > this.buf.length) {
      this.fail(`${what} runs past the end of the payload: needs ${count} bytes, ${this.buf.length - this.pos} left`, at);
    }
  }

  /** The argument of a head; undefined for indefinite length (additional information 31). */
  private argument(info: number, at: number): bigint | undefined {
    if (info < 24) return BigInt(info);
    if (info === 31) return undefined;
    if (info > 27) this.fail(`additional information ${info} is reserved in CBOR (RFC 8949 §3)`, at);
    const size = 1 << (info - 24);
    this.need(size, 'the argument of a CBOR head', at);
    const v = size === 8 ? this.buf.readBigUInt64BE(this.pos) : BigInt(this.buf.readUIntBE(this.pos, size));
    this.pos += size;
    return v;
  }

  /** A definite length that cannot exceed what is left, so a lying head never allocates. */
  private length(arg: bigint, minBytesEach: number, what: string, unit: string, at: number): number {
    const left = this.buf.length - this.pos;
    if (arg * BigInt(minBytesEach) > BigInt(left)) this.fail(`${what} declares ${arg} ${unit} but only ${left} bytes are left`, at);
    return Number(arg);
  }

  private string(major: 2 | 3, info: number, at: number): Buffer {
    const what = major === 2 ? 'byte string' : 'text string';
    const arg = this.argument(info, at);
    if (arg !== undefined) {
      const n = this.length(arg, 1, `a ${what}`, 'bytes', at);
      const out = this.buf.subarray(this.pos, this.pos + n);
      this.pos += n;
      return out;
    }
    // Indefinite length: definite chunks of the same major type up to a break (RFC 8949 §3.2.3).
    const chunks: Buffer[] = [];
    for (;;) {
      const chunkAt = this.pos;
      this.need(1, `an indefinite-length ${what}`, at);
      const b = this.buf[this.pos]!;
      if (b === 0xff) {
        this.pos++;
        return Buffer.concat(chunks);
      }
      if (b >> 5 !== major || (b & 0x1f) === 31) this.fail(`a chunk of an indefinite-length ${what} is not a definite-length ${what}`, chunkAt);
      this.pos++;
      chunks.push(this.string(major, b & 0x1f, chunkAt));
    }
  }

  item(depth = 0): CborItem {
    const r = this.itemOrBreak(depth);
    if (r === BREAK) this.fail('a "break" (0xff) stands where a data item belongs', this.pos - 1);
    return r;
  }

  private itemOrBreak(depth: number): CborItem | typeof BREAK {
    if (depth > MAX_NESTING) this.fail(`items are nested more than ${MAX_NESTING} deep, far beyond any LwM2M path`, this.pos);
    const at = this.pos;
    this.need(1, 'a CBOR data item', at);
    const initial = this.buf[this.pos++]!;
    const major = initial >> 5;
    const info = initial & 0x1f;
    switch (major) {
      case 0:
      case 1: {
        const arg = this.argument(info, at);
        if (arg === undefined) this.fail('an integer cannot have indefinite length', at);
        return major === 0 ? { kind: 'uint', value: arg, offset: at } : { kind: 'nint', value: -1n - arg, offset: at };
      }
      case 2:
        return { kind: 'bytes', value: Buffer.from(this.string(2, info, at)), offset: at };
      case 3: {
        const raw = this.string(3, info, at);
        let value: string;
        try {
          value = strictUtf8.decode(raw);
        } catch {
          this.fail('a text string is not valid UTF-8', at);
        }
        return { kind: 'text', value, offset: at };
      }
      case 4: {
        const arg = this.argument(info, at);
        const items: CborItem[] = [];
        if (arg === undefined) {
          for (;;) {
            const next = this.itemOrBreak(depth + 1);
            if (next === BREAK) break;
            items.push(next);
          }
        } else {
          const n = this.length(arg, 1, 'an array', 'items', at);
          for (let i = 0; i < n; i++) items.push(this.item(depth + 1));
        }
        return { kind: 'array', items, offset: at };
      }
      case 5: {
        const arg = this.argument(info, at);
        const entries: [CborItem, CborItem][] = [];
        if (arg === undefined) {
          for (;;) {
            const key = this.itemOrBreak(depth + 1);
            if (key === BREAK) break;
            entries.push([key, this.item(depth + 1)]);
          }
        } else {
          const n = this.length(arg, 2, 'a map', 'entries', at);
          for (let i = 0; i < n; i++) entries.push([this.item(depth + 1), this.item(depth + 1)]);
        }
        return { kind: 'map', entries, offset: at };
      }
      case 6: {
        const arg = this.argument(info, at);
        if (arg === undefined) this.fail('a tag cannot have indefinite length', at);
        return { kind: 'tag', tag: arg, item: this.item(depth + 1), offset: at };
      }
      default: {
        if (info === 31) return BREAK;
        if (info === 20 || info === 21) return { kind: 'bool', value: info === 21, offset: at };
        if (info === 22) return { kind: 'null', offset: at };
        if (info === 23) return { kind: 'undefined', offset: at };
        if (info < 24) return { kind: 'simple', value: info, offset: at };
        if (info === 24) {
          this.need(1, 'a simple value', at);
          const v = this.buf[this.pos++]!;
          if (v < 32) this.fail(`simple value ${v} in two bytes is not well-formed (RFC 8949 §3.3)`, at);
          return { kind: 'simple', value: v, offset: at };
        }
        if (info > 27) this.fail(`additional information ${info} is reserved in CBOR (RFC 8949 §3)`, at);
        const size = 1 << (info - 24);
        this.need(size, 'a float', at);
        const value = size === 2 ? halfToNumber(this.buf.readUInt16BE(this.pos)) : size === 4 ? this.buf.readFloatBE(this.pos) : this.buf.readDoubleBE(this.pos);
        this.pos += size;
        return { kind: 'float', value, offset: at };
      }
    }
  }
}
