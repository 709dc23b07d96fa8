/**
 * A fake server notes each operation it runs on the device, once, with its answer: the
 * cases no longer note operation results themselves, so these notes are the evidence.
 */
import { CoapEndpoint, type InboundRequest } from '../harness/coap/endpoint.js';
import { OPTION, encodeUint } from '../harness/coap/message.js';
import { DeviceOperations } from '../harness/servers/operations.js';

const fast = { ackTimeoutMs: 200, ackRandomFactor: 1.5, maxRetransmit: 2, nstart: 1 };

describe('operation notes', () => {
  const open: CoapEndpoint[] = [];
  afterEach(async () => Promise.all(open.splice(0).map((e) => e.close())));

  async function pair(answer: (r: InboundRequest) => void) {
    const device = await CoapEndpoint.open({ name: 'device', params: fast });
    const server = await CoapEndpoint.open({ name: 'bootstrap-server', params: fast });
    open.push(device, server);
    device.onRequest(answer);
    const notes: string[] = [];
    return { device, notes, ops: new DeviceOperations(server, 'Bootstrap', (text) => notes.push(text)) };
  }

  test('each operation is noted once with its answer, in the order run', async () => {
    const { device, notes, ops } = await pair((r) => r.respond(r.msg.code === '0.04' ? '2.02' : '4.05'));
    await ops.delete(device.local, '/');
    await ops.read(device.local, '/0');
    expect(notes).toEqual(['Bootstrap-Delete / answered 2.02 Deleted', 'Bootstrap-Read /0 answered 4.05 Method Not Allowed']);
  });

  test('a block-wise write is noted once, as the whole write, not per block', async () => {
    const { device, notes, ops } = await pair((r) => {
      const block1 = r.msg.options.find((o) => o.number === OPTION.BLOCK1);
      if (!block1) return r.respond('4.13', { options: [{ number: OPTION.BLOCK1, value: encodeUint(Math.log2(64) - 4) }] });
      const more = (block1.value[block1.value.length - 1]! & 8) !== 0;
      r.respond(more ? '2.31' : '2.04', { options: [{ number: OPTION.BLOCK1, value: block1.value }] });
    });
    await ops.writeRaw(device.local, '/0/2', Buffer.alloc(150, 1), 11542);
    expect(notes).toEqual(['Bootstrap-Write /0/2 (after 4.13: 3 Block1 blocks of 64 bytes) answered 2.04 Changed']);
  });

  test('a payload that does not decode is named in the note', async () => {
    const { device, notes, ops } = await pair((r) => r.respond('2.05', { contentFormat: 11542, payload: Buffer.from([0xff, 0xff]) }));
    const r = await ops.read(device.local, '/1');
    expect(r.payloadError).toBeDefined();
    expect(notes).toEqual([`Bootstrap-Read /1 answered 2.05 Content (payload not decoded: ${r.payloadError})`]);
  });

  test('a server without a note function still runs its operations', async () => {
    const device = await CoapEndpoint.open({ name: 'device', params: fast });
    const server = await CoapEndpoint.open({ name: 'bootstrap-server', params: fast });
    open.push(device, server);
    device.onRequest((r) => r.respond('2.04'));
    const r = await new DeviceOperations(server, 'DM').execute(device.local, '/1/0/8');
    expect(r.code).toBe('2.04');
  });
});
