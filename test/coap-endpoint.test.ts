import { once } from 'node:events';
import { CoapEndpoint, CoapTimeoutError, type RawDatagram, type InboundRequest } from '../harness/coap/endpoint.js';
import { decodeCoap, encodeCoap, queryParams, uriPath, OPTION, CoapFormatError } from '../harness/coap/message.js';
import { maxTransmitWaitMs, exchangeLifetimeMs, RFC7252_DEFAULTS } from '../harness/coap/params.js';

const fast = { ackTimeoutMs: 40, ackRandomFactor: 1.5, maxRetransmit: 3, nstart: 1 };

describe('CoapEndpoint over real UDP on 127.0.0.1', () => {
  const open: CoapEndpoint[] = [];
  async function pair(tapLog?: RawDatagram[], params = fast) {
    const tap = tapLog ? (d: RawDatagram) => tapLog.push(d) : undefined;
    const server = await CoapEndpoint.open({ name: 'server', params, random: () => 0, tap });
    const client = await CoapEndpoint.open({ name: 'client', params, random: () => 0, tap });
    open.push(server, client);
    return { server, client };
  }
  afterEach(async () => {
    await Promise.all(open.splice(0).map((e) => e.close()));
  });

  test('ports are chosen by the OS', async () => {
    const { server, client } = await pair();
    expect(server.local.port).toBeGreaterThan(0);
    expect(client.local.port).not.toBe(server.local.port);
  });

  test('piggybacked response to a CON request echoes MID and token, both datagrams tapped', async () => {
    const log: RawDatagram[] = [];
    // RFC 7252's 2 s ACK timeout: a busy machine must not turn this exchange into a retransmission.
    const { server, client } = await pair(log, RFC7252_DEFAULTS);
    server.onRequest((r) => r.respond('2.04', { payload: Buffer.from('ok') }));
    const res = await client.request(server.local, { method: 'POST', path: '/bs', query: ['ep=dev1', 'pct=110'] });
    expect(res.msg.type).toBe('ACK');
    expect(res.msg.code).toBe('2.04');
    expect(res.msg.mid).toBe(res.request.mid);
    expect(res.msg.token.equals(res.request.token)).toBe(true);
    expect(res.separate).toBe(false);
    const dirs = log.map((d) => `${d.endpoint}:${d.direction}`);
    expect(dirs).toEqual(['client:out', 'server:in', 'server:out', 'client:in']);
    expect(typeof log[1]!.monoNs).toBe('bigint');
    expect(log[1]!.monoNs).toBeGreaterThanOrEqual(log[0]!.monoNs);
  });

  test('separate response: empty ACK first, then a CON response with the same token that the client ACKs', async () => {
    const log: RawDatagram[] = [];
    const { server, client } = await pair(log);
    server.onRequest((r) => {
      r.acknowledge();
      setImmediate(() => r.respond('2.05', { payload: Buffer.from('later') }));
    });
    const res = await client.request(server.local, { method: 'GET', path: '/3/0' });
    expect(res.separate).toBe(true);
    expect(res.msg.type).toBe('CON');
    expect(res.msg.payload.toString()).toBe('later');
    // the client's ACK of the separate response reaches the server
    const deadline = Date.now() + 2000;
    while (!log.some((d) => d.endpoint === 'server' && d.direction === 'in' && decodeCoap(d.bytes).type === 'ACK') && Date.now() < deadline) {
      await new Promise((r) => setImmediate(r));
    }
    const ack = log.find((d) => d.endpoint === 'server' && d.direction === 'in' && decodeCoap(d.bytes).type === 'ACK');
    expect(ack).toBeDefined();
    expect(decodeCoap(ack!.bytes).mid).toBe(res.msg.mid);
  });

  test('unanswered CON is retransmitted with the same MID and token, intervals doubling, MAX_RETRANSMIT times', async () => {
    const log: RawDatagram[] = [];
    const { server, client } = await pair(log);
    server.onRequest(() => {}); // silent: no ACK ever
    const err = await client.request(server.local, { method: 'POST', path: '/rd' }).catch((e) => e);
    expect(err).toBeInstanceOf(CoapTimeoutError);
    const sent = log.filter((d) => d.endpoint === 'client' && d.direction === 'out').map((d) => ({ t: d.monoNs, m: decodeCoap(d.bytes) }));
    expect(sent).toHaveLength(fast.maxRetransmit + 1);
    expect(new Set(sent.map((s) => s.m.mid)).size).toBe(1);
    expect(new Set(sent.map((s) => s.m.token.toString('hex'))).size).toBe(1);
    // random() = 0 gives the initial timeout exactly ACK_TIMEOUT; timers never fire early (2 ms slack for clock granularity)
    for (let i = 1; i < sent.length; i++) {
      const gapMs = Number(sent[i]!.t - sent[i - 1]!.t) / 1e6;
      expect(gapMs).toBeGreaterThanOrEqual(fast.ackTimeoutMs * 2 ** (i - 1) - 2);
    }
    expect((err as CoapTimeoutError).transmissions).toBe(fast.maxRetransmit + 1);
  });

  test('a duplicate CON is handled once and answered from the cache with identical bytes', async () => {
    const log: RawDatagram[] = [];
    const { server, client } = await pair(log);
    const seen: InboundRequest[] = [];
    server.onRequest((r) => {
      seen.push(r);
      r.respond('2.04');
    });
    const bytes = encodeCoap({ type: 'CON', code: '0.02', mid: 4242, token: Buffer.from('0102', 'hex'), options: [{ number: OPTION.URI_PATH, value: Buffer.from('x') }], payload: Buffer.alloc(0) });
    const dup = once(server, 'duplicate');
    client.sendRaw(bytes, server.local);
    client.sendRaw(bytes, server.local);
    await dup;
    const replies = log.filter((d) => d.endpoint === 'server' && d.direction === 'out');
    expect(seen).toHaveLength(1);
    expect(replies).toHaveLength(2);
    expect(replies[0]!.bytes.equals(replies[1]!.bytes)).toBe(true);
  });

  test('a malformed datagram is reported and the endpoint keeps serving', async () => {
    const { server, client } = await pair();
    server.onRequest((r) => r.respond('2.05'));
    const bad = once(server, 'malformed');
    client.sendRaw(Buffer.from('4f01', 'hex'), server.local);
    const [info] = await bad;
    expect(info.error).toBeInstanceOf(CoapFormatError);
    expect(info.error.message).toMatch(/shorter than the 4-byte CoAP header/);
    const res = await client.request(server.local, { method: 'GET', path: '/' });
    expect(res.msg.code).toBe('2.05');
  });

  test('an unexpected CON response is rejected with RST', async () => {
    const log: RawDatagram[] = [];
    const { server, client } = await pair(log);
    const bytes = encodeCoap({ type: 'CON', code: '2.05', mid: 7, token: Buffer.from('aa', 'hex'), options: [], payload: Buffer.alloc(0) });
    const unmatched = once(client, 'unmatched');
    server.sendRaw(bytes, client.local);
    await unmatched;
    const rst = log.find((d) => d.endpoint === 'client' && d.direction === 'out');
    expect(rst && decodeCoap(rst.bytes).type).toBe('RST');
  });
});

describe('CoAP message checks', () => {
  test.each([
    ['8001000a', /version 2/],
    ['49010001', /token length 9 is reserved/],
    ['42010001aa', /runs past the end/],
    ['40200001', /code class 1 is reserved/],
    ['40000001ff', /Empty message/],
    ['40010001ff', /zero-length payload/],
    // issue 13 finding 4: a Uri-Path declaring 65,804 bytes (length 14 + 0xffff) that carries 2
    ['4002e822beffff6273', /Uri-Path declares 65804 bytes but only 2 remain in the 9-byte datagram/],
    ['40020001b362', /Uri-Path declares 3 bytes but only 1 remain/],
    ['400200010d', /1-byte length extension runs past the end/],
    ['40020001e0', /2-byte delta extension runs past the end/],
    ['40020001e001', /2-byte delta extension runs past the end/],
    ['40020001f0', /delta nibble 15 is reserved/],
    ['400200010f', /length nibble 15 is reserved/],
    ['40020001b26273ff', /payload marker at byte 7 followed by a zero-length payload/],
    // payload marker after options whose extensions hold 0xff bytes: still a marker at the end
    ['40020001d0ffff', /zero-length payload/],
    ['40020001e0ffff', /option number 65804 is beyond 65535/],
    ['4c020001', /token length 12 is reserved/],
  ])('%s is a format error', (hex, why) => {
    let error: unknown;
    try {
      decodeCoap(Buffer.from(hex, 'hex'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CoapFormatError);
    expect((error as Error).message).toMatch(why);
  });

  test('every length extension is read as RFC 7252 §3.1 says', () => {
    const long = Buffer.alloc(300, 0x61);
    const options = [
      { number: OPTION.URI_PATH, value: Buffer.from('bs') },
      { number: OPTION.URI_QUERY, value: Buffer.from('x'.repeat(20)) }, // length 13 extension
      { number: OPTION.SIZE1, value: Buffer.from([1, 2]) }, // delta 13 extension
      { number: 2000, value: long }, // delta 14 and length 14 extensions
    ];
    const bytes = encodeCoap({ type: 'NON', code: '0.02', mid: 0x1234, token: Buffer.from('0102', 'hex'), options, payload: Buffer.from('body') });
    const m = decodeCoap(bytes);
    expect(m.type).toBe('NON');
    expect(m.code).toBe('0.02');
    expect(m.mid).toBe(0x1234);
    expect(m.token.toString('hex')).toBe('0102');
    expect(m.options.map((o) => [o.number, o.value.length])).toEqual([
      [11, 2],
      [15, 20],
      [60, 2],
      [2000, 300],
    ]);
    expect(m.options[3]!.value.equals(long)).toBe(true);
    expect(m.payload.toString()).toBe('body');
    // one byte short anywhere in the last option is a format error, not a shorter value
    expect(() => decodeCoap(bytes.subarray(0, bytes.length - 6))).toThrow(CoapFormatError);
    expect(decodeCoap(encodeCoap({ type: 'ACK', code: '2.05', mid: 1, token: Buffer.alloc(0), options: [], payload: Buffer.alloc(0) })).code).toBe('2.05');
  });

  test('Uri-Query is read as an unordered set of parameters', () => {
    const a = decodeCoap(
      encodeCoap({
        type: 'CON',
        code: '0.02',
        mid: 1,
        token: Buffer.alloc(0),
        options: [
          { number: OPTION.URI_PATH, value: Buffer.from('rd') },
          { number: OPTION.URI_QUERY, value: Buffer.from('lt=20') },
          { number: OPTION.URI_QUERY, value: Buffer.from('ep=x') },
          { number: OPTION.URI_QUERY, value: Buffer.from('b') },
        ],
        payload: Buffer.alloc(0),
      }),
    );
    const q = queryParams(a);
    expect(uriPath(a)).toBe('/rd');
    expect(q.get('ep')).toEqual(['x']);
    expect(q.get('lt')).toEqual(['20']);
    expect(q.get('b')).toEqual(['']);
  });

  test('derived timers match RFC 7252 §4.8.2 for the default parameters', () => {
    expect(maxTransmitWaitMs(RFC7252_DEFAULTS)).toBe(93_000);
    expect(exchangeLifetimeMs(RFC7252_DEFAULTS)).toBe(247_000);
  });
});
