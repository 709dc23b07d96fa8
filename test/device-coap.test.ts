/**
 * The reference device's CoAP message layer as the CoAP cases need it: the separate-response
 * variant (empty ACK with the request's MID, then a CON response echoing the token), Block1
 * reassembly of large writes, the
 * CoAP defects' effect on its endpoint and request queue, and the harness's way of sending
 * one CON twice.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Address, CoapEndpoint } from '../harness/coap/endpoint.js';
import { type CoapMessage, OPTION, encodeUint, uintOption } from '../harness/coap/message.js';
import { CF, encodeContent, parsePath } from '../harness/lwm2m/index.js';
import { Block1Reassembler, MAX_UNBLOCKED_BYTES } from '../fixtures/device/block1.js';
import { securityRecords } from './support/device-bench.js';
import { provisionDevice } from '../fixtures/device/provision.js';
import { runDevice, type RunningDevice } from '../fixtures/device/run.js';
import { quirksOf } from '../fixtures/device/defects.js';
import { coapEndpointQuirks, coapSenderQuirks } from '../fixtures/device/quirks.js';
import { FAST_PARAMS, FAST_MAX_LATENCY_MS, PROMPT_MS } from './support/device-bench.js';
import { isBootstrapRequest, openBootstrapServer, type ScriptedPeer } from './support/scripted-peers.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function deviceWithSeparateResponses(separateResponses = true): Promise<{ bs: ScriptedPeer; device: RunningDevice; fromDevice: CoapMessage[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'geisa-device-coap-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const bs = await openBootstrapServer(FAST_PARAMS);
  cleanup.push(() => bs.close());
  const fromDevice: CoapMessage[] = [];
  bs.endpoint.on('message', (m: { msg: CoapMessage }) => fromDevice.push(m.msg));
  const stateFile = join(dir, 'state.json');
  await provisionDevice({ stateFile, bsUri: bs.uri, endpoint: 'urn:dev:ops:coap-0001', holdOffS: 0 });
  const device = await runDevice({ stateFile, coapParams: FAST_PARAMS, maxLatencyMs: FAST_MAX_LATENCY_MS, separateResponses, log: () => {} });
  cleanup.push(() => device.stop());
  return { bs, device, fromDevice };
}

describe('separate-response variant', () => {
  test('each Bootstrap-Server request gets an empty ACK with its MID, then a CON response echoing its token', async () => {
    const { bs, device, fromDevice } = await deviceWithSeparateResponses();
    expect(await bs.next(isBootstrapRequest, PROMPT_MS)).toBeDefined();
    // Discover, then a Finish the device refuses (no server account written yet): both answered separately.
    for (const [req, code] of [
      [{ method: 'GET', path: '/', accept: 40 }, '2.05'],
      [{ method: 'POST', path: '/bs' }, '4.06'],
    ] as const) {
      const res = await bs.request(device.local, req);
      expect(res.separate).toBe(true);
      expect(res.msg.type).toBe('CON');
      expect(res.msg.token.equals(res.request.token)).toBe(true);
      expect(res.msg.code).toBe(code);
      const ack = fromDevice.find((m) => m.type === 'ACK' && m.mid === res.request.mid);
      expect(ack).toMatchObject({ code: '0.00', payload: Buffer.alloc(0) });
      expect(ack!.token.length).toBe(0);
    }
  });
});

describe('Block1 reassembly (RFC 7959)', () => {
  const block1 = (num: number, more: boolean, szx: number) => ({ number: OPTION.BLOCK1, value: encodeUint((num << 4) | (more ? 8 : 0) | szx) });

  test('a body too large for one datagram gets 4.13 with Size1 and a Block1 size; block-wise it is taken, with 2.31 per block; a gap gets 4.08', async () => {
    const { bs, device } = await deviceWithSeparateResponses(false);
    expect(await bs.next(isBootstrapRequest, PROMPT_MS)).toBeDefined();
    const records = securityRecords(1, 'coap://127.0.0.1:5683', 101).map((r) => (r.path.resourceId === 4 ? { ...r, value: Buffer.alloc(3000, 7) } : r));
    const body = encodeContent(CF.TLV, records, parsePath('/0/1'));
    const put = (payload: Buffer, options: { number: number; value: Buffer }[] = []) => bs.request(device.local, { method: 'PUT', path: '/0/1', contentFormat: CF.TLV, payload, options });

    const tooLarge = await put(body);
    expect(tooLarge.msg.code).toBe('4.13');
    expect(uintOption(tooLarge.msg, OPTION.SIZE1)).toBe(MAX_UNBLOCKED_BYTES);
    expect(uintOption(tooLarge.msg, OPTION.BLOCK1)! & 7).toBe(6);

    expect((await put(body.subarray(0, 1024), [block1(0, true, 6)])).msg.code).toBe('2.31');
    expect((await put(body.subarray(2048), [block1(2, false, 6)])).msg.code).toBe('4.08');

    for (let num = 0; num * 1024 < body.length; num++) {
      const more = (num + 1) * 1024 < body.length;
      const res = await put(body.subarray(num * 1024, (num + 1) * 1024), [block1(num, more, 6)]);
      expect(res.msg.code).toBe(more ? '2.31' : '2.04');
      expect(uintOption(res.msg, OPTION.BLOCK1)).toBe((num << 4) | (more ? 8 : 0) | 6);
    }
    // The reassembled instance holds the whole value.
    const discover = await bs.request(device.local, { method: 'GET', path: '/', accept: CF.LINK_FORMAT });
    expect(discover.msg.payload.toString()).toContain('</0/1>');
  });
});

describe('CoAP defects change only what they name', () => {
  test('reuse-mid: Message IDs come back after 8 new messages', () => {
    const next = coapEndpointQuirks(quirksOf('reuse-mid').coap, FAST_PARAMS).nextMid!;
    const mids = Array.from({ length: 17 }, () => next());
    expect(new Set(mids.slice(0, 8)).size).toBe(8);
    expect(mids[8]).toBe(mids[0]);
    expect(mids[16]).toBe(mids[0]);
  });

  test('no-retransmission-backoff: every timeout equals the first, MAX_RETRANSMIT + 1 of them', () => {
    const schedule = coapEndpointQuirks(quirksOf('no-retransmission-backoff').coap, FAST_PARAMS).retransmitTimeoutsMs!();
    expect(schedule).toHaveLength(FAST_PARAMS.maxRetransmit + 1);
    expect(new Set(schedule).size).toBe(1);
    expect(schedule[0]).toBeGreaterThanOrEqual(FAST_PARAMS.ackTimeoutMs);
    expect(schedule[0]).toBeLessThanOrEqual(FAST_PARAMS.ackTimeoutMs * FAST_PARAMS.ackRandomFactor);
  });

  test('block1-ignored: every datagram is handed on whole, Block1 option or not', () => {
    const r = {
      msg: { type: 'CON', code: '0.03', mid: 1, token: Buffer.alloc(0), options: [{ number: OPTION.BLOCK1, value: encodeUint(8 | 5) }], payload: Buffer.alloc(512) },
      remote: { address: '127.0.0.1', port: 1 },
      monoNs: 0n,
      answered: false,
      respond: () => {},
      acknowledge: () => {},
    } as const;
    expect(new Block1Reassembler(1000, true).accept(r as never).kind).toBe('whole');
    expect(new Block1Reassembler(1000).accept(r as never).kind).toBe('answered');
  });

  test('no-deduplication: a received CON is remembered for no time at all', () => {
    expect(coapEndpointQuirks(quirksOf('no-deduplication').coap, FAST_PARAMS).dedupLifetimeMs).toBeLessThan(0);
  });

  test('deregister-non-confirmable: only DELETE goes out as NON; nstart-violation: only the queue is switched off', () => {
    const adjust = coapSenderQuirks(quirksOf('deregister-non-confirmable').coap).adjust!;
    expect(adjust({ method: 'DELETE', path: '/rd/a/b' }).confirmable).toBe(false);
    expect(adjust({ method: 'POST', path: '/rd/a/b' }).confirmable).toBeUndefined();
    expect(coapSenderQuirks(quirksOf('nstart-violation').coap)).toEqual({ ignoreNstart: true });
    expect(coapSenderQuirks(undefined)).toEqual({ ignoreNstart: false });
    expect(coapEndpointQuirks(undefined, FAST_PARAMS)).toEqual({});
  });
});

describe('harness: one CON sent twice', () => {
  test('resendDuplicate sends the same bytes and returns the deduplicated ACK; the peer handles the request once', async () => {
    const peer = await CoapEndpoint.open({ name: 'peer', params: FAST_PARAMS });
    const harness = await CoapEndpoint.open({ name: 'harness', params: FAST_PARAMS });
    cleanup.push(
      () => peer.close(),
      () => harness.close(),
    );
    let handled = 0;
    peer.onRequest((r) => {
      handled++;
      r.respond('2.04', { payload: Buffer.from(`call ${handled}`) });
    });
    const sent: Buffer[] = [];
    peer.on('message', (m: { msg: CoapMessage }) => sent.push(Buffer.from(JSON.stringify([m.msg.mid, m.msg.token.toString('hex')]))));
    const to: Address = peer.local;
    const first = await harness.request(to, { method: 'POST', path: '/1/0/8' });
    const again = await harness.resendDuplicate(to, first.request, 1000);
    expect(again).toBeDefined();
    expect(again!.msg.mid).toBe(first.msg.mid);
    expect(again!.msg.token.equals(first.msg.token)).toBe(true);
    expect(again!.msg.payload.toString()).toBe('call 1');
    expect(handled).toBe(1);
    expect(sent).toHaveLength(2);
    expect(sent[0]!.equals(sent[1]!)).toBe(true);
  });

  test('resendDuplicate resolves undefined when nothing answers within the wait', async () => {
    const silent = await CoapEndpoint.open({ name: 'silent', params: FAST_PARAMS });
    const harness = await CoapEndpoint.open({ name: 'harness', params: FAST_PARAMS });
    cleanup.push(
      () => silent.close(),
      () => harness.close(),
    );
    silent.onRequest(() => {});
    const msg: CoapMessage = { type: 'CON', code: '0.02', mid: 7, token: Buffer.from('abcd', 'hex'), options: [], payload: Buffer.alloc(0) };
    expect(await harness.resendDuplicate(silent.local, msg, 100)).toBeUndefined();
  });
});
