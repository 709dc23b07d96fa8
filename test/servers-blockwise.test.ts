/**
 * A large Bootstrap-Write (certificates) answered 4.13 is a size negotiation: the
 * Bootstrap-Server sends it again block-wise (RFC 7959 Block1) in the size asked for.
 */
import { CoapEndpoint, type InboundRequest } from '../harness/coap/endpoint.js';
import { OPTION, encodeUint, uintOption } from '../harness/coap/message.js';
import { DeviceOperations } from '../harness/servers/operations.js';

const fast = { ackTimeoutMs: 200, ackRandomFactor: 1.5, maxRetransmit: 2, nstart: 1 };

/** A device that takes at most `limit` bytes per request and reassembles Block1 transfers. */
function blockwiseDevice(ep: CoapEndpoint, limit: number, shrinkTo?: number) {
  const received: Buffer[] = [];
  const seen: { num: number; more: boolean; szx: number }[] = [];
  let whole: Buffer | undefined;
  ep.onRequest((r: InboundRequest) => {
    const block1 = uintOption(r.msg, OPTION.BLOCK1);
    if (block1 === undefined) {
      if (r.msg.payload.length > limit) return r.respond('4.13', { options: [{ number: OPTION.BLOCK1, value: encodeUint(Math.log2(limit) - 4) }] });
      whole = r.msg.payload;
      return r.respond('2.04');
    }
    const b = { num: block1 >> 4, more: (block1 & 8) !== 0, szx: block1 & 7 };
    seen.push(b);
    received.push(r.msg.payload);
    if (!b.more) {
      whole = Buffer.concat(received);
      return r.respond('2.04', { options: [{ number: OPTION.BLOCK1, value: encodeUint(block1) }] });
    }
    const szx = shrinkTo !== undefined && b.num === 0 ? Math.log2(shrinkTo) - 4 : b.szx;
    r.respond('2.31', { options: [{ number: OPTION.BLOCK1, value: encodeUint((b.num << 4) | 8 | szx) }] });
  });
  return { seen, result: () => whole };
}

describe('Block1 after 4.13', () => {
  const open: CoapEndpoint[] = [];
  afterEach(async () => Promise.all(open.splice(0).map((e) => e.close())));

  async function pair() {
    const device = await CoapEndpoint.open({ name: 'device', params: fast });
    const bs = await CoapEndpoint.open({ name: 'bootstrap-server', params: fast });
    open.push(device, bs);
    return { device, ops: new DeviceOperations(bs, 'Bootstrap') };
  }

  test('a 1300-byte write answered 4.13 (Block1 SZX 256) goes again in 256-byte blocks and arrives whole', async () => {
    const { device, ops } = await pair();
    const dev = blockwiseDevice(device, 256);
    const payload = Buffer.from(Array.from({ length: 1300 }, (_v, i) => i & 0xff));
    const r = await ops.writeRaw(device.local, '/0/2', payload, 11542);
    expect(r.code).toBe('2.04');
    expect(r.blockwise).toEqual({ blockSize: 256, blocks: 6 });
    expect(r.what).toContain('after 4.13');
    expect(dev.result()?.equals(payload)).toBe(true);
    expect(dev.seen.map((b) => b.num)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(dev.seen.map((b) => b.more)).toEqual([true, true, true, true, true, false]);
  });

  test('a device that asks for smaller blocks in its first 2.31 gets them', async () => {
    const { device, ops } = await pair();
    const dev = blockwiseDevice(device, 512, 128);
    const payload = Buffer.alloc(1000, 7);
    const r = await ops.writeRaw(device.local, '/0/2', payload, 11542);
    expect(r.code).toBe('2.04');
    expect(dev.result()?.equals(payload)).toBe(true);
    expect(dev.seen[0]!.szx).toBe(5); // 512
    expect(dev.seen.slice(1).every((b) => b.szx === 3)).toBe(true); // 128
  });

  test('a write that fits is sent once, without Block1', async () => {
    const { device, ops } = await pair();
    const dev = blockwiseDevice(device, 1024);
    const r = await ops.writeRaw(device.local, '/0/2', Buffer.alloc(100, 1), 11542);
    expect(r.code).toBe('2.04');
    expect(r.blockwise).toBeUndefined();
    expect(dev.seen).toEqual([]);
  });
});
