/**
 * A minimal EST-coaps client for tests: our CoAP endpoint over our DTLS client (one
 * server), with block-wise transfer done by hand so each test sees every block. It is
 * the test's peer, not the reference device's client (that comes with the device).
 */
import { EventEmitter } from 'node:events';
import { CoapEndpoint, type InboundResponse } from '../../harness/coap/endpoint.js';
import { OPTION, encodeUint, uintOption, type CoapOption } from '../../harness/coap/message.js';
import type { Address, DatagramTransport } from '../../harness/coap/transport.js';
import { DtlsClient } from '../../harness/dtls/client.js';
import type { DtlsClientOptions } from '../../harness/dtls/client-options.js';

/** One DTLS client session as a datagram transport, so a CoapEndpoint can ride on it. */
class DtlsClientTransport extends EventEmitter implements DatagramTransport {
  readonly scheme = 'coaps' as const;
  constructor(readonly client: DtlsClient) {
    super();
    client.on('message', (m) => this.emit('message', m));
  }
  get local(): Address {
    return this.client.local;
  }
  send(bytes: Buffer): void {
    try {
      this.client.send(bytes);
    } catch (e) {
      this.emit('error', e as Error);
    }
  }
  close(): Promise<void> {
    return this.client.close();
  }
}

const FAST = { ackTimeoutMs: 500, ackRandomFactor: 1.5, maxRetransmit: 2, nstart: 1 };

export class EstTestClient {
  private constructor(
    readonly endpoint: CoapEndpoint,
    readonly server: Address,
    readonly dtls: DtlsClient,
  ) {}

  static async connect(options: DtlsClientOptions): Promise<EstTestClient> {
    const dtls = await DtlsClient.connect({ handshakeTimeoutMs: 8000, ...options });
    const endpoint = await CoapEndpoint.open({ name: 'test-est-client', params: FAST, transport: new DtlsClientTransport(dtls) });
    return new EstTestClient(endpoint, options.remote, dtls);
  }

  request(method: string, path: string, o: { contentFormat?: number; accept?: number; payload?: Buffer; options?: CoapOption[]; query?: string[] } = {}): Promise<InboundResponse> {
    return this.endpoint.request(this.server, { method, path, ...o });
  }

  /**
   * A request with its payload in Block1 blocks of `block1Size` (if given and smaller),
   * then every Block2 block of the response fetched; returns each response and the body.
   */
  async exchange(
    method: string,
    path: string,
    o: { contentFormat?: number; accept?: number; payload?: Buffer; block1Size?: number; block2Size?: number } = {},
  ): Promise<{ responses: InboundResponse[]; body: Buffer; last: InboundResponse }> {
    const responses: InboundResponse[] = [];
    const payload = o.payload ?? Buffer.alloc(0);
    const base = { ...(o.contentFormat !== undefined ? { contentFormat: o.contentFormat } : {}), ...(o.accept !== undefined ? { accept: o.accept } : {}) };
    const early: CoapOption[] = o.block2Size ? [{ number: OPTION.BLOCK2, value: encodeUint(Math.log2(o.block2Size) - 4) }] : [];
    let res: InboundResponse;
    if (o.block1Size && payload.length > o.block1Size) {
      let size = o.block1Size;
      let offset = 0;
      for (;;) {
        const num = offset / size;
        const chunk = payload.subarray(offset, offset + size);
        const more = offset + chunk.length < payload.length;
        const b1 = { number: OPTION.BLOCK1, value: encodeUint(num * 16 + (more ? 8 : 0) + (Math.log2(size) - 4)) };
        res = await this.request(method, path, { ...base, payload: chunk, options: [b1, ...(more ? [] : early)] });
        responses.push(res);
        offset += chunk.length;
        if (!more || res.msg.code !== '2.31') break;
        const echoed = uintOption(res.msg, OPTION.BLOCK1);
        if (echoed !== undefined) size = Math.min(size, 2 ** ((echoed & 7) + 4));
      }
    } else {
      res = await this.request(method, path, { ...base, payload, options: early });
      responses.push(res);
    }
    const parts = [res!.msg.payload];
    let b2 = uintOption(res!.msg, OPTION.BLOCK2);
    while (b2 !== undefined && (b2 & 8) !== 0) {
      const szx = b2 & 7;
      const next = Math.floor(b2 / 16) + 1;
      res = await this.request(method, path, { ...(o.accept !== undefined ? { accept: o.accept } : {}), options: [{ number: OPTION.BLOCK2, value: encodeUint(next * 16 + szx) }] });
      responses.push(res);
      parts.push(res.msg.payload);
      b2 = uintOption(res.msg, OPTION.BLOCK2);
    }
    return { responses, body: Buffer.concat(parts), last: res! };
  }

  close(): Promise<void> {
    return this.endpoint.close();
  }
}
