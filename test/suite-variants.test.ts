/**
 * Alternatives the spec allows, each shown by a variant of the reference device: the case
 * accepts the behaviour (pass, saying which) or, where the spec is open, reports
 * inconclusive with the clause — never fail.
 */
import { explain, runOnSimulator } from './support/simulator-run.js';

describe('the suite accepts what the spec allows', () => {
  test('a device that persists its registration resumes with an Update after restart: TC-REG-01 passes and says so', async () => {
    const run = await runOnSimulator(['TC-REG-01'], null, { persistRegistration: true });
    const v = run.verdicts.get('TC-REG-01');
    expect(explain(v)).toMatch(/^pass: after restart the device resumed its persisted registration with an Update: CON POST \/rd\//);
  }, 60_000);

  test('a Bootstrap-Request over DTLS without ep: TC-SEC-01 is inconclusive and quotes the open clause, never fail', async () => {
    const run = await runOnSimulator(['TC-SEC-01'], null, { omitEndpointOverDtls: true });
    const v = run.verdicts.get('TC-SEC-01');
    expect(v?.verdict).toBe('inconclusive');
    expect(v?.reason).toMatch(/has no ep; .*GEISA-ADM-BS-04.* leaves this open/);
    expect(run.exitCode).toBe(0);
  }, 60_000);

  test('a device whose ICS says its endpoint name is provisionable gets a fresh one each time and must use it (TC-BS-02)', async () => {
    const run = await runOnSimulator(['TC-BS-02'], null, {}, { 'bootstrap.provisionable-endpoint-name': true });
    const v = run.verdicts.get('TC-BS-02');
    expect(explain(v)).toMatch(/^pass: /);
    expect(v!.reason).toMatch(/ep=urn:dev:ops:geisa-oob-[0-9a-f]{8}.*ep=urn:dev:ops:geisa-oob-[0-9a-f]{8}/);
    const checks = run.events.filter((e) => e.type === 'check' && /Endpoint Client Name/.test(e.name));
    expect(checks).toHaveLength(2);
  }, 60_000);
});
