/**
 * The EST cases with the IXIT's `raDiscovery: dns-sd`: each case opens a separate EST
 * server (registration authority) and a DNS-SD responder on loopback, the reference device
 * is provisioned with the responder's address and the domain, resolves
 * `_est-coaps._udp.<domain>` (SRV, then A) there and enrolls at the RA, not at the
 * Bootstrap-Server. The cases judge that path (LWM2M-TRANS-EST-02) instead of saying
 * inconclusive.
 */
import type { Profile } from '../harness/profile/load.js';
import { runOnSimulator, expectPass, inboundPaths } from './support/simulator-run.js';

const EST_CASES = ['TC-EST-01', 'TC-EST-02', 'TC-EST-03', 'TC-EST-04', 'TC-EST-05', 'TC-EST-06', 'TC-EST-07', 'TC-EST-08', 'TC-EST-09', 'TC-EST-10', 'TC-EST-11'];

const dnsSd = (p: Profile): Profile => ({ ...p, ixit: { ...p.ixit, est: { ...p.ixit.est!, raDiscovery: 'dns-sd' } } });

describe('EST cases with the registration authority found by DNS-SD', () => {
  test('all pass on the reference device; the EST exchanges reach the RA, never the Bootstrap-Server', async () => {
    const run = await runOnSimulator(EST_CASES, null, {}, {}, dnsSd);
    for (const id of EST_CASES) expectPass(id, run.verdicts.get(id));
    const wire = inboundPaths(run, 'TC-EST-05').filter((w) => !w.endsWith('/bspack'));
    expect(wire.indexOf('est-server /.well-known/est/crts')).toBeGreaterThan(-1);
    expect(wire.indexOf('est-server /.well-known/est/sen')).toBeGreaterThan(wire.indexOf('est-server /.well-known/est/crts'));
    expect(wire.indexOf('lwm2m-server /rd')).toBeGreaterThan(wire.indexOf('est-server /.well-known/est/sen'));
    for (const id of EST_CASES) expect(inboundPaths(run, id).filter((w) => w.startsWith('bootstrap-server /.well-known/est'))).toEqual([]);
    expect(inboundPaths(run, 'TC-EST-07')).toContain('est-server /.well-known/est/sren');
    const notes = run.events.flatMap((e) => (e.type === 'note' && e.caseId === 'TC-EST-02' ? [e.text] : []));
    expect(notes.join('\n')).toMatch(/EST path: the device used the EST server on the est-server \(127\.0\.0\.1:\d+\), \/\.well-known\/est\/crts; DNS-SD queries: [1-9]/);
  }, 300_000);

  test('defect est-psk-auth: TC-EST-02 fails naming the RA, the DNS queries that found it, and the PSK ClientHello it refused', async () => {
    const run = await runOnSimulator(['TC-EST-02'], 'est-psk-auth', {}, {}, dnsSd);
    const v = run.verdicts.get('TC-EST-02');
    expect(v?.verdict).toBe('fail');
    expect(v!.reason).toMatch(
      /no EST request \(crts or sen\) reached the EST server on the RA found by DNS-SD \(coaps:\/\/127\.0\.0\.1:\d+\) within [\d.]+ s of Bootstrap-Finish; DNS queries at 127\.0\.0\.1:\d+: SRV _est-coaps\._udp\.geisa-adm\.test → rcode 0, 1 answer\(s\); A est\.geisa-adm\.test → rcode 0, 1 answer\(s\) — .*TLS_PSK_WITH_AES_128_CCM_8/,
    );
  }, 90_000);
});
