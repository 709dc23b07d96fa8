/**
 * Requests a fake server sends to the device (Bootstrap-Write/-Read/-Discover/-Delete/
 * -Finish, DM Read/Write/Execute/Discover), with the response decoded by content format.
 * A codec problem in the device's answer is kept as a quotable error, never thrown.
 */
import type { Address, CoapEndpoint, InboundResponse } from '../coap/endpoint.js';
import { contentFormat, codeName } from '../coap/message.js';
import {
  CF,
  decodeContent,
  encodeContent,
  parsePath,
  type ResourceRecord,
} from '../lwm2m/index.js';

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

export class DeviceOperations {
  constructor(
    readonly endpoint: CoapEndpoint,
    private readonly label: 'Bootstrap' | 'DM',
  ) {}

  async read(peer: Address, path: string, accept?: number): Promise<OperationResult> {
    const response = await this.endpoint.request(peer, { method: 'GET', path, accept });
    return decodeResult(`${this.label}-Read ${path}`, path, response);
  }

  async discover(peer: Address, path = '/'): Promise<OperationResult> {
    const response = await this.endpoint.request(peer, { method: 'GET', path, accept: CF.LINK_FORMAT });
    return decodeResult(`${this.label}-Discover ${path}`, path, response);
  }

  /** Bootstrap-Write is PUT; a DM Write of an instance may be PUT (replace) or POST (partial update). */
  async write(peer: Address, path: string, records: ResourceRecord[], cf: number = CF.TLV, method: 'PUT' | 'POST' = 'PUT'): Promise<OperationResult> {
    const payload = encodeContent(cf, records, parsePath(path));
    return this.writeRaw(peer, path, payload, cf, method);
  }

  /** Sends a payload as given: for writes in an unsupported or deliberately broken format. */
  async writeRaw(peer: Address, path: string, payload: Buffer, cf: number, method: 'PUT' | 'POST' = 'PUT'): Promise<OperationResult> {
    const response = await this.endpoint.request(peer, { method, path, payload, contentFormat: cf });
    return decodeResult(`${this.label}-Write ${path}`, path, response);
  }

  async delete(peer: Address, path: string): Promise<OperationResult> {
    const response = await this.endpoint.request(peer, { method: 'DELETE', path });
    return decodeResult(`${this.label}-Delete ${path}`, path, response);
  }

  async execute(peer: Address, path: string, args?: string): Promise<OperationResult> {
    const response = await this.endpoint.request(peer, { method: 'POST', path, payload: args ? Buffer.from(args) : undefined, contentFormat: args ? CF.TEXT : undefined });
    return decodeResult(`Execute ${path}`, path, response);
  }
}
