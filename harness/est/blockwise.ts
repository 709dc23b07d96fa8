/**
 * The server side of CoAP block-wise transfer (RFC 7959) as the EST server needs it:
 * Block1 reassembly of a large request (a CSR), Block2 slicing of a large response (CA
 * certificates, an issued certificate), and the early size negotiation a client may start
 * with a Block2 option in its first request. RFC 9148 §4.6 makes both mandatory for an
 * EST-coaps server. State is per peer and resource; the CoAP endpoint below already
 * answers retransmitted blocks from its deduplication cache.
 */
import { OPTION, encodeUint, uintOption, type CoapMessage, type CoapOption } from '../coap/message.js';

export interface BlockValue {
  num: number;
  more: boolean;
  szx: number;
  /** 2 ** (szx + 4) */
  size: number;
}

/** Decodes a Block1/Block2 option; szx 7 is reserved over UDP (RFC 7959 §2.2) and reported as such. */
export function blockOption(msg: CoapMessage, number: typeof OPTION.BLOCK1 | typeof OPTION.BLOCK2): BlockValue | 'reserved-szx' | undefined {
  const v = uintOption(msg, number);
  if (v === undefined) return undefined;
  const szx = v & 7;
  if (szx === 7) return 'reserved-szx';
  return { num: Math.floor(v / 16), more: (v & 8) !== 0, szx, size: 2 ** (szx + 4) };
}

export function encodeBlock(number: number, num: number, more: boolean, szx: number): CoapOption {
  return { number, value: encodeUint(num * 16 + (more ? 8 : 0) + szx) };
}

/** The SZX of a block size (16..1024, a power of two). */
export function szxOf(size: number): number {
  const szx = Math.log2(size) - 4;
  if (!Number.isInteger(szx) || szx < 0 || szx > 6) throw new Error(`block size ${size} is not one of 16, 32, ..., 1024 (RFC 7959 §2.2)`);
  return szx;
}

export interface Block1Progress {
  /** All blocks so far, in order. */
  received: Buffer[];
  bytes: number;
  blocks: number;
  /** The size the client used for its first block. */
  firstSize: number;
}

export type Block1Step =
  { kind: 'continue'; option: CoapOption; progress: Block1Progress } | { kind: 'complete'; payload: Buffer; option: CoapOption; progress: Block1Progress } | { kind: 'error'; code: string; reason: string; options?: CoapOption[] };

/**
 * Block1 reassembly per peer+resource. A block must start exactly where the previous
 * ended (num × size = bytes so far), which also covers a client that switched to the
 * smaller size we asked for in our first 2.31.
 */
export class Block1Assembler {
  private readonly transfers = new Map<string, Block1Progress>();

  constructor(
    private readonly preferredSzx: number,
    private readonly maxBytes: number,
  ) {}

  step(key: string, block: BlockValue, payload: Buffer): Block1Step {
    let p = this.transfers.get(key);
    if (block.num === 0) {
      p = { received: [], bytes: 0, blocks: 0, firstSize: block.size };
      this.transfers.set(key, p);
    }
    if (!p) return { kind: 'error', code: '4.08', reason: `Block1 block ${block.num} arrived without block 0 (RFC 7959 §2.3)` };
    const offset = block.num * block.size;
    if (offset !== p.bytes) {
      this.transfers.delete(key);
      return { kind: 'error', code: '4.08', reason: `Block1 block ${block.num} of ${block.size} bytes starts at byte ${offset}, but ${p.bytes} bytes have arrived (RFC 7959 §2.3)` };
    }
    if (block.more && payload.length !== block.size) {
      this.transfers.delete(key);
      return { kind: 'error', code: '4.00', reason: `Block1 block ${block.num} carries ${payload.length} bytes but says ${block.size} with more to come (RFC 7959 §2.2)` };
    }
    if (p.bytes + payload.length > this.maxBytes) {
      this.transfers.delete(key);
      return { kind: 'error', code: '4.13', reason: `the request grows past ${this.maxBytes} bytes`, options: [{ number: OPTION.SIZE1, value: encodeUint(this.maxBytes) }] };
    }
    p.received.push(payload);
    p.bytes += payload.length;
    p.blocks += 1;
    if (block.more) {
      // RFC 7959 §2.3: the server may ask for a smaller size in its answer to the first block.
      const szx = block.num === 0 ? Math.min(block.szx, this.preferredSzx) : block.szx;
      return { kind: 'continue', option: encodeBlock(OPTION.BLOCK1, block.num, true, szx), progress: p };
    }
    this.transfers.delete(key);
    return { kind: 'complete', payload: Buffer.concat(p.received), option: encodeBlock(OPTION.BLOCK1, block.num, false, block.szx), progress: p };
  }
}

/** One block of a representation: its bytes and the Block2 option that goes with them. */
export function block2Slice(payload: Buffer, num: number, szx: number): { bytes: Buffer; option: CoapOption; more: boolean } | undefined {
  const size = 2 ** (szx + 4);
  const start = num * size;
  if (start >= payload.length && !(num === 0 && payload.length === 0)) return undefined;
  const end = Math.min(start + size, payload.length);
  const more = end < payload.length;
  return { bytes: payload.subarray(start, end), option: encodeBlock(OPTION.BLOCK2, num, more, szx), more };
}
