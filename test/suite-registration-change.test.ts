/**
 * TC-REG-13 (GEISA-ADM-REG-03, the IP-address branch) against the reference device: the
 * device's source port changes while it is registered (DUT action changeAddress), and the
 * case wants an Update, or a Register flagged as the catalog O-2 alternative, from the new
 * address. A device that takes the new address silently fails; a profile that cannot change
 * the address gets inconclusive, never fail.
 */
import type { ResultEvent, VerdictEvent } from '../harness/events/events.js';
import type { DutAdapter } from '../harness/dut/adapter.js';
import { defaultSimulatorProfile } from '../harness/profile/load.js';
import { createSimulatorAdapter } from '../fixtures/simulator/simulator-adapter.js';
import { runSuite } from '../harness/runner/runner.js';
import { ALL_CASES } from '../suites/index.js';
import { runOnSimulator, expectPass } from './support/simulator-run.js';
import { matrixRun, matrixTest } from './support/shared-matrix.js';

const ID = 'TC-REG-13';

/** The two ports the reason names: where the first request after the change came from, and where the Register came from. */
function ports(reason: string): { after: number; register: number } {
  const m = /from 127\.0\.0\.1:(\d+), [\d.]+ m?s after the changeAddress action \(the Register had come from 127\.0\.0\.1:(\d+)\)/.exec(reason);
  if (!m) throw new Error(`the reason names no two source ports: ${reason}`);
  return { after: Number(m[1]), register: Number(m[2]) };
}

describe('TC-REG-13: Update after the device address changes', () => {
  matrixTest('the reference device sends an Update to its location from the new port: pass, naming the Update and both ports', async () => {
    const run = await matrixRun([ID]);
    const v = run.verdicts.get(ID);
    expectPass(ID, v);
    expect(v!.reason).toMatch(/^Update CON POST \/rd\/[0-9a-f]{4}\/[0-9a-f]{6} \(mid \d+\) from 127\.0\.0\.1:\d+, .* answered 2\.04: an Update, as GEISA registration\.rst asks$/);
    const { after, register } = ports(v!.reason);
    expect(after).not.toBe(register);
    const check = run.events.find((e) => e.type === 'check' && e.caseId === ID && /targets the location/.test(e.name));
    expect(check).toMatchObject({ ok: true });
    expect(run.exitCode).toBe(0);
  });

  matrixTest('defect no-update-on-address-change (silent rebind, nothing until the next heartbeat) fails the SHALL, naming the window', async () => {
    const run = await matrixRun([ID], 'no-update-on-address-change');
    const v = run.verdicts.get(ID);
    expect(v?.verdict).toBe('fail');
    expect(v!.reason).toMatch(
      /^no Update to \/rd\/\S+ nor Register reached coap:\/\/127\.0\.0\.1:\d+ from a new address within 10\.000 s \(IXIT startupBoundS\) of the changeAddress action; the device had registered from 127\.0\.0\.1:\d+ with Register CON POST \/rd\?.*lt=86400/,
    );
    expect(run.exitCode).toBe(1);
  });

  test('a device that re-registers from the new port passes, and the reason flags the Register and the O-2 clause', async () => {
    const run = await runOnSimulator([ID], null, { registerOnAddressChange: true });
    const v = run.verdicts.get(ID);
    expectPass(ID, v);
    expect(v!.reason).toMatch(
      /^Register CON POST \/rd\?\S*ep=urn:dev:ops:geisa-ref-0001\S* \(mid \d+\) from 127\.0\.0\.1:\d+, .* answered 2\.01: a full re-registration rather than the Update GEISA registration\.rst asks for, accepted because catalog O-2: /,
    );
    const { after, register } = ports(v!.reason);
    expect(after).not.toBe(register);
    expect(run.exitCode).toBe(0);
  }, 60_000);

  test('a profile without a changeAddress action: inconclusive naming the missing action, the device never started', async () => {
    const profile = defaultSimulatorProfile();
    const events: ResultEvent[] = [];
    let started = false;
    const summary = await runSuite({
      cases: [ALL_CASES.find((c) => c.meta.id === ID)!],
      profile,
      defect: null,
      createAdapter: (): DutAdapter => {
        const inner = createSimulatorAdapter(profile);
        return {
          kind: inner.kind,
          supports: (a) => a !== 'changeAddress' && inner.supports(a),
          run: (a, p, s, h) => {
            started = true;
            return inner.run(a, p, s, h);
          },
          dispose: () => inner.dispose(),
        };
      },
      emit: (e) => events.push(e),
      signal: new AbortController().signal,
      strict: false,
    });
    const v = events.find((e): e is VerdictEvent => e.type === 'verdict');
    expect(v?.verdict).toBe('inconclusive');
    expect(v!.reason).toMatch(/no 'changeAddress' action/);
    expect(started).toBe(false);
    expect(summary.exitCode).toBe(0);
  }, 30_000);
});
