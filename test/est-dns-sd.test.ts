/**
 * The DNS-SD responder for `_est-coaps._udp.<domain>` on a loopback UDP port, asked by
 * Node's own resolver (c-ares: an independent DNS client) for PTR, SRV, TXT, A and AAAA,
 * plus the codec's edge cases on hand-made messages: compression pointers, loops,
 * truncation, FORMERR and NOTIMP answers.
 */
import dgram from 'node:dgram';
import { promises as dns } from 'node:dns';
import { DnsSdResponder } from '../harness/est/dns-sd.js';
import { DNS_TYPE, RCODE, decodeQuery, decodeResponse, encodeResponse } from '../harness/est/dns-message.js';

const responders: DnsSdResponder[] = [];
afterEach(async () => Promise.all(responders.splice(0).map((r) => r.close())));

async function start(over: Partial<Parameters<typeof DnsSdResponder.start>[0]> = {}): Promise<{ responder: DnsSdResponder; resolver: dns.Resolver }> {
  const responder = await DnsSdResponder.start({ domain: 'geisa.test', targetAddresses: ['127.0.0.1', '::1'], estPort: 61617, txt: ['path=/.well-known/est'], ...over });
  responders.push(responder);
  const resolver = new dns.Resolver({ timeout: 1000, tries: 1 });
  resolver.setServers([responder.server]);
  return { responder, resolver };
}

/** A hand-made query: header, one question, optional trailing bytes. */
function query(name: string, type: number, id = 0x1234, flags = 0x0100): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(flags, 2);
  h.writeUInt16BE(1, 4);
  const t = Buffer.alloc(4);
  t.writeUInt16BE(type, 0);
  t.writeUInt16BE(1, 2);
  return Buffer.concat([h, ...labels, Buffer.from([0]), t]);
}

async function ask(responder: DnsSdResponder, msg: Buffer): Promise<Buffer> {
  const s = dgram.createSocket('udp4');
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no DNS answer within 2 s')), 2000);
      s.once('message', (m) => {
        clearTimeout(t);
        resolve(m);
      });
      s.send(msg, responder.local.port, '127.0.0.1');
    });
  } finally {
    s.close();
  }
}

describe('DNS-SD responder against Node’s resolver', () => {
  test('PTR → instance, SRV → host and EST port, TXT, A and AAAA of the host', async () => {
    const { responder, resolver } = await start();
    expect(await resolver.resolvePtr('_est-coaps._udp.geisa.test')).toEqual(['geisa-adm-est._est-coaps._udp.geisa.test']);
    expect(await resolver.resolveSrv('geisa-adm-est._est-coaps._udp.geisa.test')).toEqual([{ name: 'est.geisa.test', port: 61617, priority: 0, weight: 0 }]);
    expect(await resolver.resolveTxt('geisa-adm-est._est-coaps._udp.geisa.test')).toEqual([['path=/.well-known/est']]);
    expect(await resolver.resolve4('est.geisa.test')).toEqual(['127.0.0.1']);
    expect(await resolver.resolve6('est.geisa.test')).toEqual(['::1']);
    const first = await responder.expectQuery(1000, '_est-coaps._udp.geisa.test');
    expect(first?.questions).toEqual([{ name: '_est-coaps._udp.geisa.test', type: 'PTR' }]);
    expect(first?.rcode).toBe(0);
    expect(first?.answers).toBe(1);
    expect(responder.queries.all).toHaveLength(5);
  });

  test('an SRV query on the service type itself gets the same SRV; names match case-insensitively', async () => {
    const { resolver } = await start({ instance: 'ra-1', targetHost: 'ra.lab.example', targetAddresses: ['192.0.2.7'], estPort: 5684 });
    expect(await resolver.resolveSrv('_EST-COAPS._udp.Geisa.Test')).toEqual([{ name: 'ra.lab.example', port: 5684, priority: 0, weight: 0 }]);
    expect(await resolver.resolve4('RA.lab.example')).toEqual(['192.0.2.7']);
  });

  test('another name is NXDOMAIN; another type on a known name is an empty answer', async () => {
    const { responder, resolver } = await start({ txt: [] });
    await expect(resolver.resolveSrv('_coaps._udp.geisa.test')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolver.resolve4('_est-coaps._udp.geisa.test')).rejects.toMatchObject({ code: 'ENODATA' });
    // No TXT strings: RFC 6763 §6.1's single empty string.
    expect(await resolver.resolveTxt('geisa-adm-est._est-coaps._udp.geisa.test')).toEqual([['']]);
    expect(responder.queries.all.map((q) => q.rcode)).toEqual([RCODE.NXDOMAIN, RCODE.NOERROR, RCODE.NOERROR]);
  });
});

describe('DNS messages on the wire', () => {
  test('a PTR answer carries the SRV, TXT and addresses in the additional section, authoritative, same id', async () => {
    const { responder } = await start();
    const r = decodeResponse(await ask(responder, query('_est-coaps._udp.geisa.test', DNS_TYPE.PTR, 0xbeef)));
    expect(r.header.id).toBe(0xbeef);
    expect(r.header.qr).toBe(true);
    expect(r.aa).toBe(true);
    expect(r.rcode).toBe(0);
    expect(r.answers).toEqual([{ name: '_est-coaps._udp.geisa.test', ttl: 120, data: { type: 'PTR', target: 'geisa-adm-est._est-coaps._udp.geisa.test' } }]);
    const raw = await ask(responder, query('_est-coaps._udp.geisa.test', DNS_TYPE.PTR));
    expect(raw.readUInt16BE(10)).toBe(4); // SRV, TXT, A, AAAA
  });

  test('garbage after a valid header is FORMERR; a non-query opcode is NOTIMP; a response is dropped and recorded', async () => {
    const { responder } = await start();
    const bad = Buffer.concat([query('x', 1).subarray(0, 12), Buffer.from([40, 1, 2])]);
    expect(decodeResponse(await ask(responder, bad)).rcode).toBe(RCODE.FORMERR);
    expect(decodeResponse(await ask(responder, query('x', 1, 1, 0x2800))).rcode).toBe(RCODE.NOTIMP);
    const s = dgram.createSocket('udp4');
    s.send(query('x', 1, 2, 0x8000), responder.local.port, '127.0.0.1');
    const dropped = await responder.queries.next((q) => q.problem?.startsWith('dropped') === true, 2000);
    s.close();
    expect(dropped?.problem).toMatch(/QR=1/);
    expect(responder.queries.all.find((q) => q.rcode === RCODE.FORMERR)?.problem).toMatch(/runs past the end/);
  });

  test('decodeQuery follows a compression pointer, refuses a pointer loop, reports EDNS0', () => {
    const q = query('a.example', DNS_TYPE.A);
    // A second question whose name is a pointer to the first (offset 12).
    const withPtr = Buffer.concat([q, Buffer.from([0xc0, 12, 0, DNS_TYPE.SRV, 0, 1])]);
    withPtr.writeUInt16BE(2, 4);
    expect(decodeQuery(withPtr).questions.map((x) => x.name)).toEqual(['a.example', 'a.example']);
    const loop = Buffer.concat([q.subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
    expect(() => decodeQuery(loop)).toThrow(/compression pointers loop/);
    const opt = Buffer.concat([q, Buffer.from([0, 0, DNS_TYPE.OPT, 0x04, 0xd0, 0, 0, 0, 0, 0, 0])]);
    opt.writeUInt16BE(1, 10);
    expect(decodeQuery(opt).edns).toBe(true);
    expect(decodeQuery(q).edns).toBe(false);
  });

  test('encodeResponse refuses what DNS cannot carry, with a message naming it', () => {
    const base = { id: 1, rcode: 0, questions: [] };
    expect(() => encodeResponse({ ...base, answers: [{ name: 'x', ttl: 1, data: { type: 'A', address: '::1' } }] })).toThrow(/not IPv4/);
    expect(() => encodeResponse({ ...base, answers: [{ name: 'a'.repeat(64), ttl: 1, data: { type: 'A', address: '1.2.3.4' } }] })).toThrow(/longer than 63/);
    const aaaa = decodeResponse(encodeResponse({ ...base, answers: [{ name: 'h', ttl: 5, data: { type: 'AAAA', address: '2001:db8::12:1' } }] }));
    expect(aaaa.answers).toEqual([{ name: 'h', ttl: 5, data: { type: 'AAAA', address: '2001:db8:0:0:0:0:12:1' } }]);
  });

  test('bad responder options are refused with a message', async () => {
    await expect(DnsSdResponder.start({ domain: 'd', targetAddresses: ['not-an-ip'], estPort: 1 })).rejects.toThrow(/neither IPv4 nor IPv6/);
    await expect(DnsSdResponder.start({ domain: 'd', targetAddresses: ['127.0.0.1'], estPort: 70000 })).rejects.toThrow(/not a UDP port/);
  });
});
