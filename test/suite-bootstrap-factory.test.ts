/**
 * TC-BS-18 (factory bootstrap, MAY, ICS bootstrap.factory) against the reference device:
 * it passes on the conformant device, fails with the seeded defect, is not-applicable when
 * the ICS does not claim it, and is inconclusive when the DUT's provision action has no way
 * to take a server account. A DTLS variant proves the server PSK path end to end.
 */
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { defaultSimulatorProfile } from '../harness/profile/load.js';
import type { DutAdapter } from '../harness/dut/adapter.js';
import { ExecAdapter } from '../harness/dut/exec-adapter.js';
import { ManualAdapter } from '../harness/dut/manual-adapter.js';
import { createSimulatorAdapter } from '../fixtures/simulator/simulator-adapter.js';
import { packageRoot } from '../harness/dut/package-root.js';
import { shellQuote } from '../harness/dut/template.js';
import { fingerprint } from '../harness/profile/fingerprint.js';
import { runSuite } from '../harness/runner/runner.js';
import type { ResultEvent, VerdictEvent } from '../harness/events/events.js';
import type { ConformanceCase } from '../harness/runner/case.js';
import { ALL_CASES } from '../suites/index.js';
import { runOnSimulator, expectPass } from './support/simulator-run.js';
import { matrixRun, matrixTest, matrixVerdict } from './support/shared-matrix.js';

const ID = 'TC-BS-18';
const DEFECT = 'bootstrap-despite-factory-account';
const tcBs18 = ALL_CASES.find((c) => c.meta.id === ID)!;

async function runCase(c: ConformanceCase, createAdapter: () => DutAdapter): Promise<{ v: VerdictEvent | undefined; events: ResultEvent[] }> {
  const events: ResultEvent[] = [];
  await runSuite({ cases: [c], profile: defaultSimulatorProfile(), defect: null, createAdapter, emit: (e) => events.push(e), signal: new AbortController().signal, strict: false });
  return { v: events.find((e): e is VerdictEvent => e.type === 'verdict' && e.caseId === ID), events };
}

describe('TC-BS-18 factory bootstrap', () => {
  matrixTest('the reference device (its simulator profile claims bootstrap.factory) registers with the provisioned account first: pass, the reason names the Register', async () => {
    expect(tcBs18.meta.strength).toBe('MAY');
    expect(tcBs18.meta.ics).toBe('bootstrap.factory');
    const run = await matrixRun([ID]);
    const v = run.verdicts.get(ID);
    expectPass(ID, v);
    expect(v!.reason).toMatch(/^factory-bootstrapped: the device's first request was the Register CON POST \/rd\?ep=urn:dev:ops:geisa-ref-0001.* to coap:\/\/127\.0\.0\.1:\d+, with no Bootstrap-Request before it$/);
    // The wire agrees: a Register reached the LwM2M Server and nothing reached the Bootstrap-Server.
    const inbound = run.events.flatMap((e) => (e.type === 'datagram' && e.direction === 'in' ? [e] : []));
    expect(inbound.some((e) => e.endpoint === 'lwm2m-server' && 'uriPath' in e.decoded && e.decoded.uriPath === '/rd')).toBe(true);
    expect(inbound.filter((e) => e.endpoint !== 'lwm2m-server')).toEqual([]);
  });

  matrixTest(`defect ${DEFECT}: the device bootstraps despite its factory account, and the case fails naming the Bootstrap-Request`, async () => {
    const v = await matrixVerdict(ID, DEFECT);
    expect(v?.verdict).toBe('fail');
    expect(v!.reason).toMatch(
      /with a valid LwM2M Server account for coap:\/\/127\.0\.0\.1:\d+ provisioned, the device's first request was the Bootstrap-Request CON POST \/bs\?ep=.*; expected a Register \(POST \/rd\) to the provisioned server first/,
    );
  });

  test('not applicable when the ICS does not claim bootstrap.factory', async () => {
    const run = await runOnSimulator([ID], null, {}, { 'bootstrap.factory': false });
    expect(run.verdicts.get(ID)?.verdict).toBe('not-applicable');
  }, 30_000);

  test('inconclusive, not fail, when the provision action cannot take a server account (no {serverUri})', async () => {
    const cli = `${shellQuote(process.execPath)} ${shellQuote(join(packageRoot(), 'dist', 'bin', 'geisa-adm.js'))} device`;
    const state = '{stateDir}/device-state.json';
    const { v, events } = await runCase(
      tcBs18,
      () =>
        new ExecAdapter({
          provision: { type: 'exec', command: `${cli} provision --state ${state} --bs-uri {bsUri} --endpoint {endpoint}`, timeoutS: 30, background: false },
          start: { type: 'exec', command: `exec ${cli} run --state ${state}`, timeoutS: 30, background: true, readyLine: '^READY ' },
        }),
    );
    expect(v?.verdict).toBe('inconclusive');
    expect(v!.reason).toContain("the DUT profile's provision action cannot be given a server account: name {serverUri}");
    // Judged before anything ran: no provisioning, no datagram.
    expect(events.some((e) => e.type === 'datagram')).toBe(false);
  }, 30_000);

  test('over DTLS: the factory account with a PSK reaches the device through the secret file and it registers over coaps://', async () => {
    const psk: ConformanceCase = { ...tcBs18, meta: { ...tcBs18.meta, security: 'psk', tags: [...tcBs18.meta.tags, 'dtls'] } };
    const profile = defaultSimulatorProfile();
    const { v, events } = await runCase(psk, () => createSimulatorAdapter(profile));
    expectPass(ID, v);
    expect(v!.reason).toMatch(/Register CON POST \/rd\?ep=.* to coaps:\/\/127\.0\.0\.1:\d+, with no Bootstrap-Request before it$/);
    const notes = events.filter((e) => e.type === 'note').map((e) => (e.type === 'note' ? e.text : ''));
    expect(notes.some((n) => /LwM2M Server coaps:\/\/127\.0\.0\.1:\d+ \(ssid 101, lifetime 10 s, PSK identity "[^"]+", key /.test(n))).toBe(true);
    // The command line names no key: the provision note shows only the URIs and the SSID.
    const provisionCommand = notes.find((n) => n.startsWith('[provision] $ '))!;
    expect(provisionCommand).toContain('--server-uri');
    expect(provisionCommand).not.toMatch(/psk|key/i);
  }, 60_000);
});

describe('manual provisioning of a factory server account', () => {
  test('the operator is shown the account and its PSK on the terminal; the evidence holds only a fingerprint', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    let shown = '';
    output.on('data', (c: Buffer) => (shown += c.toString()));
    const adapter = new ManualAdapter({ provision: { type: 'manual', instruction: 'Provision EMS {serverUri} with SSID {serverSsid}' } }, { input, output, isTTY: true });
    expect(adapter.takesServerAccount()).toBe(true);
    const key = Buffer.from('0f0e0d0c0b0a09080706050403020100', 'hex');
    const notes: string[] = [];
    const done = adapter.run(
      'provision',
      { bsUri: 'coap://192.0.2.10:5683', bsHost: '192.0.2.10', bsPort: 5683, endpoint: 'urn:dev:x', stateDir: '/tmp', serverUri: 'coaps://192.0.2.10:5684', serverSsid: 101, serverLifetime: 60 },
      { serverPskIdentity: 'dm-x', serverPskKey: key },
      { note: (_s, text) => notes.push(text), pauseTimeout: () => {}, resumeTimeout: () => {} },
    );
    input.write('\n');
    await done;
    expect(shown).toContain('Provision EMS coaps://192.0.2.10:5684 with SSID 101');
    expect(shown).toContain('LwM2M Server account: coaps://192.0.2.10:5684, Short Server ID 101, lifetime 60 s, Security Mode 0 (PSK)');
    expect(shown).toContain('Server PSK identity: dm-x');
    expect(shown).toContain(`Server PSK key (hex): ${key.toString('hex')}`);
    const evidence = notes.join('\n');
    expect(evidence).toContain(`operator shown server PSK identity "dm-x" and its key (${fingerprint(key)})`);
    expect(evidence).not.toContain(key.toString('hex'));
  });
});
