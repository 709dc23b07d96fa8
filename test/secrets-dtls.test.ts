/**
 * A DTLS run handles two keys: the Bootstrap-Server PSK the device is provisioned with and
 * the LwM2M Server PSK the Bootstrap-Server writes into /0/x/5. Neither may appear in any
 * report the run writes, in any encoding; the fingerprint stands in for them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ActionHooks, ActionParams, ActionSecrets, DutAction, DutAdapter } from '../harness/dut/adapter.js';
import { createSimulatorAdapter } from '../fixtures/simulator/simulator-adapter.js';
import { defaultSimulatorProfile } from '../harness/profile/load.js';
import { runSuite } from '../harness/runner/runner.js';
import { foldEvents } from '../harness/reports/run-record.js';
import { renderJunit } from '../harness/reports/junit.js';
import { renderSummary } from '../harness/reports/console-summary.js';
import type { ResultEvent } from '../harness/events/events.js';
import { findCase } from '../suites/index.js';
import { buildResults } from '../harness/reports/results.js';

/** Wraps the simulator to learn the keys: the one provisioned, and those in the device's state file. */
class KeyWitness implements DutAdapter {
  readonly kind = 'exec' as const;
  readonly keys = new Set<string>();
  constructor(
    private readonly inner: DutAdapter,
    private readonly stateDir: string,
  ) {}
  supports(a: DutAction) {
    return this.inner.supports(a);
  }
  async run(a: DutAction, p: ActionParams, s: ActionSecrets, h: ActionHooks) {
    if (s.pskKey) this.keys.add(s.pskKey.toString('hex'));
    await this.inner.run(a, p, s, h);
  }
  async dispose() {
    try {
      // The device keeps every key it was given as hex in its state file.
      const state = readFileSync(join(this.stateDir, 'device-state.json'), 'utf8');
      for (const m of state.matchAll(/"([0-9a-f]{32})"/g)) this.keys.add(m[1]!);
    } catch {
      // no state file: nothing more to learn
    }
    await this.inner.dispose();
  }
}

test('no PSK of a DTLS run reaches the event log, JUnit or the summary', async () => {
  const profile = defaultSimulatorProfile();
  const events: ResultEvent[] = [];
  const witnesses: KeyWitness[] = [];
  const summary = await runSuite({
    cases: [findCase('TC-SEC-02')!],
    profile,
    defect: null,
    createAdapter: (stateDir) => {
      const w = new KeyWitness(createSimulatorAdapter(profile), stateDir);
      witnesses.push(w);
      return w;
    },
    emit: (e) => events.push(e),
    signal: new AbortController().signal,
    strict: false,
  });
  expect(summary.results[0]!.verdict).toBe('pass');
  const keys = [...witnesses.flatMap((w) => [...w.keys])];
  // Both the Bootstrap-Server key and the LwM2M Server key were seen.
  expect(keys.length).toBeGreaterThanOrEqual(2);
  const run = foldEvents(events);
  const outputs = [events.map((e) => JSON.stringify(e, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))).join('\n'), renderJunit(buildResults(run)), renderSummary(buildResults(run), { color: false })];
  for (const hex of keys) {
    const key = Buffer.from(hex, 'hex');
    for (const form of [hex, hex.toUpperCase(), key.toString('base64'), key.toString('base64url')]) {
      for (const out of outputs) expect(out.includes(form)).toBe(false);
    }
  }
  // The Bootstrap-Write of /0/x/5 is in the evidence, as a fingerprint.
  expect(outputs[0]).toMatch(/<redacted sha256:[0-9a-f]{8} \(16 bytes\)>/);
}, 60_000);
