/**
 * The reference device's DNS-SD lookup of its EST registration authority, against the
 * harness's responder on a loopback port: SRV of `_est-coaps._udp.<domain>` then A/AAAA of
 * the target, errors that name what was asked; and the provisioning checks of the DNS
 * server, domain and trust anchor.
 */
import { DnsSdResponder } from '../harness/est/dns-sd.js';
import { createCa } from '../harness/pki/certificates.js';
import { derOfCertificate } from '../harness/pki/case-pki.js';
import { discoverEstServer, EstDiscoveryError } from '../fixtures/device/est-discovery.js';
import { buildProvisionedState } from '../fixtures/device/provision.js';
import { stateFromJson, stateToJson } from '../fixtures/device/state.js';

const responders: DnsSdResponder[] = [];
afterEach(async () => Promise.all(responders.splice(0).map((r) => r.close())));

async function responder(): Promise<DnsSdResponder> {
  const r = await DnsSdResponder.start({ domain: 'geisa-adm.test', targetAddresses: ['127.0.0.1', '::1'], estPort: 40123 });
  responders.push(r);
  return r;
}

describe('device: EST server by DNS-SD', () => {
  test('SRV then A (IPv4 socket) or AAAA (IPv6 socket), each query seen by the responder', async () => {
    const r = await responder();
    const v4 = await discoverEstServer({ dnsServer: r.server, domain: 'geisa-adm.test', trustDer: Buffer.alloc(0) }, 4);
    expect(v4).toEqual({ address: '127.0.0.1', port: 40123, host: 'est.geisa-adm.test', service: '_est-coaps._udp.geisa-adm.test' });
    const v6 = await discoverEstServer({ dnsServer: r.server, domain: 'geisa-adm.test', trustDer: Buffer.alloc(0) }, 6);
    expect(v6.address).toBe('::1');
    const asked = r.queries.all.map((q) => q.questions.map((x) => `${x.type} ${x.name}`).join());
    expect(asked).toEqual(['SRV _est-coaps._udp.geisa-adm.test', 'A est.geisa-adm.test', 'SRV _est-coaps._udp.geisa-adm.test', 'AAAA est.geisa-adm.test']);
  });

  test('another domain: an error naming the SRV name and the server, not a stack trace', async () => {
    const r = await responder();
    const err = await discoverEstServer({ dnsServer: r.server, domain: 'elsewhere.test', trustDer: Buffer.alloc(0) }, 4).catch((e: Error) => e);
    expect(err).toBeInstanceOf(EstDiscoveryError);
    expect((err as Error).message).toBe(`SRV _est-coaps._udp.elsewhere.test at ${r.server}: ENOTFOUND`);
  });

  test('provisioning keeps DNS server, domain and trust anchor across the state file; bad values name the field', async () => {
    const ca = await createCa('EST anchor for the test');
    const trustDer = derOfCertificate(ca.certPem);
    const base = { stateFile: '/tmp/unused', bsUri: 'coap://127.0.0.1:5683', endpoint: 'urn:dev:test' };
    const state = buildProvisionedState({ ...base, estDiscovery: { dnsServer: '127.0.0.1:5353', domain: 'geisa-adm.test.', trustDer } });
    const back = stateFromJson(stateToJson(state));
    expect(back.estDiscovery).toEqual({ dnsServer: '127.0.0.1:5353', domain: 'geisa-adm.test', trustDer });
    expect(() => buildProvisionedState({ ...base, estDiscovery: { dnsServer: 'dns.example:53', domain: 'geisa-adm.test', trustDer } })).toThrow(/^estDnsServer: "dns.example:53" is not address:port/);
    expect(() => buildProvisionedState({ ...base, estDiscovery: { dnsServer: '[::1]:53', domain: 'a b', trustDer } })).toThrow(/^estDomain: "a b" is not a domain name/);
    expect(() => buildProvisionedState({ ...base, estDiscovery: { dnsServer: '127.0.0.1:53', domain: 'x.test', trustDer: Buffer.from('nope') } })).toThrow(/^estTrustFile: not a DER certificate/);
  });
});
