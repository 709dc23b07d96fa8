/**
 * Requests a fake server sends to the device (Bootstrap-Write/-Read/-Discover/-Delete/
 * -Finish, DM Read/Write/Execute/Discover), with the response decoded by content format.
 * A codec problem in the device's answer is kept as a quotable error, never thrown.
 */
import type { Address, CoapEndpoint, InboundResponse } from '../coap/endpoint.js';
import { type CoapMessage, OPTION, contentFormat, codeName, encodeUint, uintOption } from '../coap/message.js';
import { CF, decodeContent, encodeContent, parsePath, type ResourceRecord } from '../lwm2m/index.js';

/** RFC 7959: SZX 0..6 stands for 16..1024 bytes. */
function szxOf(size: number): number {
  return Math.log2(size) - 4;
}

/** The block size a 4.13 asks for: its Block1 SZX, else the largest power of two within Size1, else 512. */
function negotiatedBlockSize(msg: CoapMessage, payloadLength: number): number {
  const block1 = uintOption(msg, OPTION.BLOCK1);
  if (block1 !== undefined) return 2 ** (Math.min(block1 & 7, 6) + 4);
  const size1 = uintOption(msg, OPTION.SIZE1);
  const limit = size1 !== undefined && size1 >= 16 ? Math.min(size1, payloadLength) : 512;
  let size = 1024;
  while (size > 16 && size > limit) size /= 2;
  return size;
}

export interface OperationResult {
  /** What was asked, e.g. "Bootstrap-Write /0/1". */
  what: string;
  response: InboundResponse;
  code: string;
  /** Decoded payload, or the codec's error. */
  records?: ResourceRecord[];
  links?: { target: string; attributes: Record<string, string | true> }[];
  text?: string;
  payloadError?: string;
  /** Set when the write went block-wise after a 4.13. */
  blockwise?: { blockSize: number; blocks: number };
}

export function describeResult(r: OperationResult): string {
  return `${r.what} answered ${r.code} ${codeName(r.code)}`;
}

function decodeResult(what: string, path: string, response: InboundResponse): OperationResult {
  const result: OperationResult = { what, response, code: response.msg.code };
  if (response.msg.payload.length === 0) return result;
  const decoded = decodeContent(contentFormat(response.msg), response.msg.payload, safePath(path));
  if (!decoded.ok) result.payloadError = decoded.error.message;
  else {
    if (decoded.records) result.records = decoded.records;
    if (decoded.links) result.links = decoded.links;
    if (decoded.text !== undefined) result.text = decoded.text;
  }
  return result;
}

function safePath(path: string) {
  try {
    return parsePath(path);
  } catch {
    return undefined;
  }
}

/** Where a fake server notes each operation it ran on the device (the case's evidence); none: not noted. */
export type OperationNote = (text: string) => void;

/** The note a server makes of an operation it ran: what, the answer, and a payload that did not decode. */
export function operationNote(r: OperationResult): string {
  return `${describeResult(r)}${r.payloadError ? ` (payload not decoded: ${r.payloadError})` : ''}`;
}

export class DeviceOperations {
  constructor(
    readonly endpoint: CoapEndpoint,
    private readonly label: 'Bootstrap' | 'DM',
    private readonly note?: OperationNote,
  ) {}

  /** Every operation's result passes here: the server notes it, so no case has to. */
  protected noted(r: OperationResult): OperationResult {
    this.note?.(operationNote(r));
    return r;
  }

  async read(peer: Address, path: string, accept?: number): Promise<OperationResult> {
    const response = await this.endpoint.request(peer, { method: 'GET', path, accept });
    return this.noted(decodeResult(`${this.label}-Read ${path}`, path, response));
  }

  async discover(peer: Address, path = '/'): Promise<OperationResult> {
    const response = await this.endpoint.request(peer, { method: 'GET', path, accept: CF.LINK_FORMAT });
    return this.noted(decodeResult(`${this.label}-Discover ${path}`, path, response));
  }

  /** Bootstrap-Write is PUT; a DM Write of an instance may be PUT (replace) or POST (partial update). */
  async write(peer: Address, path: string, records: ResourceRecord[], cf: number = CF.TLV, method: 'PUT' | 'POST' = 'PUT'): Promise<OperationResult> {
    const payload = encodeContent(cf, records, parsePath(path));
    return this.writeRaw(peer, path, payload, cf, method);
  }

  /**
   * Sends a payload as given: for writes in an unsupported or deliberately broken format.
   * A 4.13 answer is a size negotiation (RFC 7959 §2.9.3), not a verdict: the write is
   * sent again block-wise (Block1) in the size the device asked for.
   */
  async writeRaw(peer: Address, path: string, payload: Buffer, cf: number, method: 'PUT' | 'POST' = 'PUT'): Promise<OperationResult> {
    const what = `${this.label}-Write ${path}`;
    const first = await this.endpoint.request(peer, { method, path, payload, contentFormat: cf });
    if (first.msg.code !== '4.13') return this.noted(decodeResult(what, path, first));
    const size = negotiatedBlockSize(first.msg, payload.length);
    const { response, blocks } = await this.writeBlockwise(peer, path, payload, cf, method, size);
    const result = decodeResult(`${what} (after 4.13: ${blocks} Block1 blocks of ${size} bytes)`, path, response);
    result.blockwise = { blockSize: size, blocks };
    return this.noted(result);
  }

  private async writeBlockwise(peer: Address, path: string, payload: Buffer, cf: number, method: 'PUT' | 'POST', startSize: number): Promise<{ response: InboundResponse; blocks: number }> {
    let size = startSize;
    let offset = 0;
    let blocks = 0;
    for (;;) {
      const num = offset / size;
      const chunk = payload.subarray(offset, offset + size);
      const more = offset + chunk.length < payload.length;
      const options: { number: number; value: Buffer }[] = [{ number: OPTION.BLOCK1, value: encodeUint((num << 4) | (more ? 8 : 0) | szxOf(size)) }];
      if (offset === 0) options.push({ number: OPTION.SIZE1, value: encodeUint(payload.length) });
      const response = await this.endpoint.request(peer, { method, path, payload: chunk, contentFormat: cf, options });
      blocks += 1;
      offset += chunk.length;
      if (!more || response.msg.code !== '2.31') return { response, blocks };
      // The server may ask for smaller blocks in its 2.31 (RFC 7959 §2.3); later blocks follow it.
      const echoed = uintOption(response.msg, OPTION.BLOCK1);
      if (echoed !== undefined) {
        const asked = 2 ** ((echoed & 7) + 4);
        if (asked < size && offset % asked === 0) size = asked;
      }
    }
  }

  async delete(peer: Address, path: string): Promise<OperationResult> {
    const response = await this.endpoint.request(peer, { method: 'DELETE', path });
    return this.noted(decodeResult(`${this.label}-Delete ${path}`, path, response));
  }

  async execute(peer: Address, path: string, args?: string): Promise<OperationResult> {
    const response = await this.endpoint.request(peer, { method: 'POST', path, payload: args ? Buffer.from(args) : undefined, contentFormat: args ? CF.TEXT : undefined });
    return this.noted(decodeResult(`Execute ${path}`, path, response));
  }
}
