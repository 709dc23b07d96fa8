/*
 * Expected sequence (Certificate mode with EST; EST served on the Bootstrap-Server, or with
 * IXIT raDiscovery dns-sd on a registration authority the device finds by DNS-SD):
 *   (precondition) Security Mode 4 bootstrap; Finish 2.04
 *   device -> BS   DTLS handshake presenting its IDevID (chains to the manufacturer CA), never PSK, never no certificate
 *   device -> BS   (in DTLS) GET /.well-known/est/crts, POST /.well-known/est/sen
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { describeAuthentication } from '../../harness/est/peer-auth.js';
import { dtlsTrouble, registered } from '../steps.js';
import { discoveryTrace, estAccount, estWindowMs, expectFirstEst, mountEst } from './est.js';

export default defineCase(
  {
    id: 'TC-EST-02',
    title: 'The device authenticates to the EST server with its IDevID, never with a PSK or anonymously',
    area: 'security',
    requirements: [
      { id: 'GEISA-ADM-BS-05', section: 'GEISA security/certificates.rst', quote: 'GEISA devices MUST include an initial IDevID (used for initial authentication)' },
      { id: 'EST-COAPS-02', section: 'RFC 9148 §3', quote: 'the EST-coaps client is authenticated by a certificate in the DTLS handshake: a previously installed one such as the manufacturer IDevID' },
      { id: 'LWM2M-TRANS-EST-02', section: 'LwM2M Transport 1.2 §5.2.4; GEISA ESTBootstrap figure', quote: 'EST over the Bootstrap-Server connection after Bootstrap-Finish, or a DNS-SD-discovered RA: record which path the device used' },
    ],
    ics: 'transport.est',
    budget: (k) => bootstrapAndRegisterMs(k) + k.startupMs,
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['security', 'dtls', 'certificate', 'est'],
    security: 'certificate',
  },
  async (t: CaseContext) => {
    const est = await mountEst(t);
    await registered(t, estAccount(t, est), { until: 'finish', what: 'Security Mode 4 bootstrap (TC-EST-01 judges it)' });
    const first = await expectFirstEst(t, est, ['crts', 'sen'], estWindowMs(t));
    if (!first) {
      // A PSK or certificate-less ClientHello to a certificate-only server fails its handshake: the DTLS layer says how.
      t.fail('GEISA-ADM-BS-05', `no EST request (crts or sen) reached the EST server on ${est.where.text} within ${estWindowMs(t) / 1000} s of Bootstrap-Finish${discoveryTrace(est)}${dtlsTrouble(est.where.dtls)}`);
    }
    t.note(`EST path: the device used the EST server on the ${first.via} (${first.local.address}:${first.local.port}), ${first.path}${est.ra ? `; DNS-SD queries: ${est.ra.dns.queries.all.length}` : ''}`);
    if (est.ra) {
      // The IXIT says where this device looks for its RA: there the path is no longer open.
      t.check({ row: 'LWM2M-TRANS-EST-02', level: 'MUST' }, 'the device enrolls at the registration authority it finds by DNS-SD, as the IXIT declares', first.via === 'est-server', {
        expected: `EST at ${est.ra.server.uri}, found through ${est.ra.dns.serviceName} at ${est.ra.dnsServer}`,
        observed: `${first.via}: ${first.path}${discoveryTrace(est)}`,
      });
      if (first.via !== 'est-server') return;
    }
    const auth = first.auth;
    t.check('EST-COAPS-02', 'the EST session is authenticated with a client certificate', auth.kind === 'certificate', {
      expected: 'DTLS with a client certificate',
      observed: describeAuthentication(auth),
    });
    t.check('GEISA-ADM-BS-05', 'the client certificate of the EST session is the IDevID, chaining to the declared manufacturer CA', auth.kind === 'certificate' && auth.anchor === 'manufacturer' && auth.verifyResult === 0, {
      expected: 'a certificate chaining to the manufacturer CA of the profile',
      observed: describeAuthentication(auth),
    });
    const others = est.service.exchanges.all.filter((e) => e.operation !== 'sren' && e.auth.kind !== 'certificate');
    t.check('EST-COAPS-02', 'no EST request travels without a client certificate', others.length === 0, {
      expected: 'every crts/sen request over a certificate-authenticated session',
      observed: others.length ? others.map((e) => `${e.path}: ${describeAuthentication(e.auth)}`).join('; ') : 'none without',
    });
    t.check({ row: 'LWM2M-TRANS-EST-02', level: 'OPEN' }, 'the device found an EST server after Bootstrap-Finish', true, {
      expected: 'EST on the Bootstrap-Server or a DNS-SD-found RA',
      observed: `${first.via}: ${first.path}`,
    });
    t.pass(`the device enrolled over DTLS with its IDevID: ${describeAuthentication(auth)}`);
  },
);
