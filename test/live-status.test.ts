/**
 * The live console line while an operator acts: the case's bound is paused, so the line
 * says so and what is awaited instead of counting toward the bound. Driven through the
 * runner with a manual adapter on in-memory streams and a terminal that records what is
 * drawn; the case's real fake servers listen on OS-chosen ports.
 */
import { EventEmitter } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import { ManualAdapter } from '../harness/dut/manual-adapter.js';
import { defaultSimulatorProfile } from '../harness/profile/load.js';
import { defineCase } from '../harness/runner/case.js';
import type { CaseContext } from '../harness/runner/context.js';
import { runSuite } from '../harness/runner/runner.js';
import type { ResultEvent } from '../harness/events/events.js';
import { LiveStatus } from '../harness/cli/live-status.js';

/** A terminal: everything written, and the line currently drawn (after the last clear). */
class Terminal extends EventEmitter {
  readonly isTTY: boolean;
  readonly columns = 200;
  text = '';
  constructor(tty: boolean) {
    super();
    this.isTTY = tty;
  }
  write(chunk: string): boolean {
    this.text += chunk;
    this.emit('written');
    return true;
  }
  get line(): string {
    const cleared = this.text.split('\r\x1b[2K');
    return cleared[cleared.length - 1]!;
  }
  /** Resolves once `ready` holds; re-checked on every write. */
  until(ready: () => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (!ready()) return;
        this.off('written', check);
        resolve();
      };
      this.on('written', check);
      check();
    });
  }
}

const liveFor = (term: Terminal) => new LiveStatus(term as unknown as NodeJS.WriteStream, (_v, s) => s);

const operatedCase = defineCase(
  { id: 'TC-LIVE-01', title: 'an operator provisions the device', area: 'bootstrap', requirements: [{ id: 'GEISA-ADM-BS-01', section: 's', quote: 'q' }], budget: () => 60_000, floor: () => 0, tags: [] },
  async (t: CaseContext) => {
    await t.device.provision();
    t.check('GEISA-ADM-BS-01', 'the operator confirmed', true, { expected: 'confirmed', observed: 'confirmed' });
    t.pass('provisioned by the operator');
  },
);

test('while the operator is asked, the line says the bound is paused and what is awaited; the case ends normally once confirmed', async () => {
  const term = new Terminal(true);
  const live = liveFor(term);
  const input = new PassThrough();
  const prompts = new Writable({ write: (_c, _e, done) => done() });
  const adapter = new ManualAdapter({ provision: { type: 'manual', instruction: 'Set the Bootstrap-Server URI to {bsUri}' } }, { input, output: prompts, isTTY: true });
  const events: ResultEvent[] = [];
  const abort = new AbortController();
  const run = runSuite({
    cases: [operatedCase],
    profile: defaultSimulatorProfile(),
    defect: null,
    createAdapter: () => adapter,
    emit: (e) => {
      events.push(e);
      if (e.type === 'verdict') live.caseEnded(e);
    },
    signal: abort.signal,
    strict: false,
    onCaseStart: (c) => live.caseStarted(c),
    onCasePause: (id, awaiting) => live.casePaused(id, awaiting),
  });
  try {
    await term.until(() => term.line.includes('paused'));
    expect(term.line).toMatch(/^TC-LIVE-01 paused: awaiting operator — provision: Set the Bootstrap-Server URI to coap:\/\/127\.0\.0\.1:\d+$/);
    // Not counting toward the bound while paused.
    expect(term.line).not.toMatch(/ s \/ \d+ s/);
    input.write('\n');
    const summary = await run;
    expect(summary.results.map((r) => r.verdict)).toEqual(['pass']);
    expect(term.text).toMatch(/TC-LIVE-01 PASS \d+\.\d s\n$/);
  } finally {
    live.stop();
    abort.abort();
  }
}, 60_000);

test('resumed, the line counts toward the bound again; several cases: the paused one first; without a terminal, one line per pause', () => {
  const term = new Terminal(true);
  const live = liveFor(term);
  // As the runner hands it on: with its bound for this profile.
  const bounded = { ...operatedCase, meta: { ...operatedCase.meta, timeoutMs: 60_000 } };
  live.caseStarted(bounded);
  expect(term.line).toMatch(/^TC-LIVE-01 an operator provisions the device {2}\d+\.\d s \/ 60 s$/);
  live.casePaused('TC-LIVE-01', 'start: Power on\n   the meter');
  expect(term.line).toBe('TC-LIVE-01 paused: awaiting operator — start: Power on the meter');
  live.casePaused('TC-LIVE-01', undefined);
  expect(term.line).toMatch(/^TC-LIVE-01 an operator provisions the device {2}\d+\.\d s \/ 60 s$/);
  const other = { ...bounded, meta: { ...bounded.meta, id: 'TC-LIVE-02' } };
  live.caseStarted(other);
  live.casePaused('TC-LIVE-02', 'stop: Power off');
  expect(term.line).toMatch(/^2 running: TC-LIVE-02 paused: awaiting operator — stop: Power off, TC-LIVE-01 \d+ s$/);
  live.stop();

  const log = new Terminal(false);
  const plain = liveFor(log);
  plain.caseStarted(operatedCase);
  plain.casePaused('TC-LIVE-01', 'start: Power on the meter');
  plain.casePaused('TC-LIVE-01', undefined);
  expect(log.text).toBe('TC-LIVE-01 an operator provisions the device ...\nTC-LIVE-01 paused: awaiting operator — start: Power on the meter\n');
  plain.stop();
});
