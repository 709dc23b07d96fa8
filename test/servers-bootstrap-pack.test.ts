/**
 * The fake Bootstrap-Server's Bootstrap-Pack (LwM2M 1.2 GET /bspack), asked by an
 * independent CoAP client (node-coap's Agent, which reassembles Block2 on its own) and
 * decoded with an independent CBOR decoder: the format follows Accept, a large pack goes
 * block-wise, an unarmed server answers 4.04, and every request is kept as evidence.
 */
import coap from 'coap';
import { decode as cborDecode } from 'cbor-x';
import { BootstrapServer, DEFAULT_PACK_FORMAT } from '../harness/servers/bootstrap-server.js';
import { bootstrapPackRecords, type ServerAccount } from '../harness/servers/bootstrap-plan.js';
import { CF } from '../harness/lwm2m/index.js';

const params = { ackTimeoutMs: 300, ackRandomFactor: 1.5, maxRetransmit: 2, nstart: 1 };
const account: ServerAccount = { serverUri: 'coaps://127.0.0.1:5684', ssid: 101, lifetimeS: 60, binding: 'U', psk: { identity: 'dm-test-identity', key: Buffer.alloc(16, 7) } };

interface Answer {
  code: string;
  payload: Buffer;
  format: unknown;
}

/** One GET /bspack?ep= through node-coap, bounded; a fresh agent per request closes its socket once nothing is pending. */
function getPack(port: number, opts: { accept?: number; block2?: Buffer } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const agent = new coap.Agent({ type: 'udp4' });
    const req = coap.request({ hostname: '127.0.0.1', port, method: 'GET', pathname: '/bspack', query: 'ep=urn:dev:test-1', agent, confirmable: true });
    if (opts.accept !== undefined) req.setOption('Accept', opts.accept);
    if (opts.block2) req.setOption('Block2', opts.block2);
    const timer = setTimeout(() => reject(new Error('no answer within 5 s')), 5000);
    req.on('response', (res: { code: string; payload: Buffer; headers: Record<string, unknown> }) => {
      clearTimeout(timer);
      resolve({ code: res.code, payload: res.payload, format: res.headers['Content-Format'] });
    });
    req.on('error', (e: Error) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end();
  });
}

describe('Bootstrap-Pack served by the fake Bootstrap-Server', () => {
  let bs: BootstrapServer;
  beforeEach(async () => {
    bs = await BootstrapServer.open({ listenAddress: '127.0.0.1', advertiseHost: '127.0.0.1', port: 0, params });
  });
  afterEach(() => bs.close());

  test('unarmed: GET /bspack is answered 4.04 and kept as a Bootstrap-Pack-Request, not as an other request', async () => {
    const res = await getPack(bs.port, { accept: CF.SENML_CBOR });
    expect(res.code).toBe('4.04');
    expect(bs.bootstrapPackRequests.all).toHaveLength(1);
    const seen = bs.bootstrapPackRequests.all[0]!;
    expect(seen).toMatchObject({ path: '/bspack', answeredWith: '4.04', accept: CF.SENML_CBOR, block2: undefined });
    expect(seen.query.get('ep')).toEqual(['urn:dev:test-1']);
    expect(bs.otherRequests.all).toHaveLength(0);
    expect(bs.bootstrapRequests.all).toHaveLength(0);
  });

  test('Accept SenML CBOR: 2.05 with the Security and Server instances of the account under base name "/"', async () => {
    bs.armBootstrapPack(bootstrapPackRecords(account));
    const res = await getPack(bs.port, { accept: CF.SENML_CBOR });
    expect(res.code).toBe('2.05');
    expect(res.format).toBe('application/senml+cbor');
    // SenML CBOR labels (RFC 8428 §6): -2 bn, 0 n, 2 v, 3 vs, 4 vb, 8 vd.
    const pack = cborDecode(res.payload) as Map<number, unknown>[] | Record<number, unknown>[];
    const entries = pack.map((e) => (e instanceof Map ? Object.fromEntries(e) : e) as Record<string, unknown>);
    expect(entries[0]!['-2']).toBe('/');
    const byName = new Map(entries.map((e) => [e['0'], e]));
    expect(byName.get('0/2/0')?.['3']).toBe('coaps://127.0.0.1:5684');
    expect(byName.get('0/2/1')?.['4']).toBe(false);
    expect(byName.get('0/2/2')?.['2']).toBe(0);
    expect(Buffer.from(byName.get('0/2/3')?.['8'] as Uint8Array).toString()).toBe('dm-test-identity');
    expect(Buffer.from(byName.get('0/2/5')?.['8'] as Uint8Array)).toEqual(Buffer.alloc(16, 7));
    expect(byName.get('0/2/10')?.['2']).toBe(101);
    expect(byName.get('1/2/0')?.['2']).toBe(101);
    expect(byName.get('1/2/1')?.['2']).toBe(60);
    expect(byName.get('1/2/7')?.['3']).toBe('U');
    expect(bs.bootstrapPackRequests.all[0]!.served).toMatchObject({ contentFormat: CF.SENML_CBOR, offset: 0, more: false, totalBytes: res.payload.length });
  });

  test('Accept SenML JSON: the same pack as JSON; no Accept: the documented default, SenML CBOR', async () => {
    bs.armBootstrapPack(bootstrapPackRecords(account));
    const json = await getPack(bs.port, { accept: CF.SENML_JSON });
    expect(json.code).toBe('2.05');
    expect(json.format).toBe('application/senml+json');
    const records = JSON.parse(json.payload.toString('utf8')) as Record<string, unknown>[];
    expect(records[0]).toMatchObject({ bn: '/', n: '0/2/0', vs: 'coaps://127.0.0.1:5684' });
    expect(records.find((r) => r.n === '1/2/1')).toEqual({ n: '1/2/1', v: 60 });
    const none = await getPack(bs.port);
    expect(DEFAULT_PACK_FORMAT).toBe(CF.SENML_CBOR);
    expect(none.code).toBe('2.05');
    expect(none.format).toBe('application/senml+cbor');
    expect(none.payload).toEqual(bs.packBytes(CF.SENML_CBOR));
  });

  test('an Accept the pack cannot be served in is answered 4.06', async () => {
    bs.armBootstrapPack(bootstrapPackRecords(account));
    const res = await getPack(bs.port, { accept: CF.TLV });
    expect(res.code).toBe('4.06');
    expect(bs.bootstrapPackRequests.all[0]!.answeredWith).toBe('4.06');
  });

  test('larger than the block size: Block2 blocks, which node-coap reassembles into the whole pack', async () => {
    bs.armBootstrapPack(bootstrapPackRecords(account), { blockSize: 32 });
    const whole = bs.packBytes(CF.SENML_CBOR)!;
    expect(whole.length).toBeGreaterThan(64);
    const res = await getPack(bs.port, { accept: CF.SENML_CBOR });
    expect(res.code).toBe('2.05');
    expect(res.payload).toEqual(whole);
    const blocks = bs.bootstrapPackRequests.all;
    expect(blocks.length).toBe(Math.ceil(whole.length / 32));
    expect(blocks.map((b) => b.served!.offset)).toEqual(blocks.map((_b, i) => i * 32));
    expect(blocks.slice(0, -1).every((b) => b.served!.more)).toBe(true);
    expect(blocks[blocks.length - 1]!.served!.more).toBe(false);
    // Only the first request opens a transfer: later blocks are not new Bootstrap-Pack-Requests.
    expect(await bs.expectBootstrapPackRequest(0)).toBe(blocks[0]);
    expect(await bs.expectBootstrapPackRequest(0)).toBeUndefined();
  });

  test("the block size the request asks for (early negotiation) is used when smaller than the server's", async () => {
    bs.armBootstrapPack(bootstrapPackRecords(account));
    const whole = bs.packBytes(CF.SENML_CBOR)!;
    // Block2 num 0, SZX 2 = 64 bytes.
    const res = await getPack(bs.port, { accept: CF.SENML_CBOR, block2: Buffer.from([0x02]) });
    expect(res.payload).toEqual(whole);
    expect(bs.bootstrapPackRequests.all.map((b) => b.served!.bytes)).toEqual(Array.from({ length: Math.ceil(whole.length / 64) }, (_v, i) => Math.min(64, whole.length - i * 64)));
    expect(bs.bootstrapPackRequests.all[0]!.block2).toEqual({ num: 0, size: 64 });
  });

  test('a block beyond the end is 4.02, a reserved SZX 7 is 4.00', async () => {
    bs.armBootstrapPack(bootstrapPackRecords(account));
    // Block2 num 15, SZX 4 (256 bytes): far past a pack of this size.
    expect((await getPack(bs.port, { block2: Buffer.from([0xf4]) })).code).toBe('4.02');
    expect((await getPack(bs.port, { block2: Buffer.from([0x07]) })).code).toBe('4.00');
  });

  test('disarming brings back 4.04', async () => {
    bs.armBootstrapPack(bootstrapPackRecords(account));
    bs.disarmBootstrapPack();
    expect((await getPack(bs.port)).code).toBe('4.04');
  });
});
