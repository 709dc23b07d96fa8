import { PassThrough } from 'node:stream';
import { AdapterError, type ActionHooks, type ActionParams } from '../harness/dut/adapter.js';
import { ManualAdapter } from '../harness/dut/manual-adapter.js';

const params: ActionParams = {
  bsUri: 'coaps://192.0.2.10:5684',
  bsHost: '192.0.2.10',
  bsPort: 5684,
  endpoint: "urn:dev:os:acme's-x1",
  stateDir: '/tmp/unused',
};

interface Harness {
  adapter: ManualAdapter;
  input: PassThrough;
  output: PassThrough;
  printed: () => string;
  hooks: ActionHooks;
  log: string[];
}

/** An adapter wired to in-memory streams; `log` records hook calls in order. */
function setup(isTTY: boolean): Harness {
  const input = new PassThrough();
  const output = new PassThrough();
  let printed = '';
  output.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  const log: string[] = [];
  const hooks: ActionHooks = {
    note: (source, text) => log.push(`note ${source}: ${text}`),
    pauseTimeout: () => log.push('pause'),
    resumeTimeout: () => log.push('resume'),
  };
  const adapter = new ManualAdapter(
    {
      start: { type: 'manual', instruction: 'Power on the meter {endpoint}' },
      provision: { type: 'manual', instruction: 'Set the Bootstrap-Server URI to {bsUri}' },
    },
    { input, output, isTTY },
  );
  return { adapter, input, output, printed: () => printed, hooks, log };
}

/** Settled state of a promise without waiting for it. */
async function state(promise: Promise<unknown>): Promise<'pending' | 'resolved' | 'rejected'> {
  let result: 'pending' | 'resolved' | 'rejected' = 'pending';
  promise.then(
    () => (result = 'resolved'),
    () => (result = 'rejected'),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return result;
}

describe('ManualAdapter', () => {
  test('fails at once when standard input is not a terminal', async () => {
    const h = setup(false);
    const begin = Date.now();
    const run = h.adapter.run('start', params, {}, h.hooks);
    await expect(run).rejects.toThrow(AdapterError);
    await expect(run).rejects.toThrow("DUT action 'start' failed: needs an operator at a terminal, but standard input is not a TTY; run interactively or use exec actions");
    expect(Date.now() - begin).toBeLessThan(1000);
    expect(h.log).toEqual([]);
    expect(h.printed()).toBe('');
  });

  test('shows the instruction, pauses the timeout, and resolves on Enter', async () => {
    const h = setup(true);
    const run = h.adapter.run('start', params, {}, h.hooks);
    expect(await state(run)).toBe('pending');
    expect(h.printed()).toContain("Power on the meter urn:dev:os:acme's-x1");
    expect(h.printed()).toContain('Press Enter');
    expect(h.log).toEqual(['pause']);

    h.input.write('\n');
    await run;
    expect(h.log).toEqual(['pause', 'resume', "note operator: operator confirmed: Power on the meter urn:dev:os:acme's-x1"]);
  });

  test('a line split over several chunks is read as one answer', async () => {
    const h = setup(true);
    const run = h.adapter.run('provision', params, {}, h.hooks);
    h.input.write('o');
    expect(await state(run)).toBe('pending');
    h.input.write('k\r\n');
    await run;
    expect(h.log.at(-1)).toBe('note operator: operator confirmed: Set the Bootstrap-Server URI to coaps://192.0.2.10:5684');
  });

  test('the operator can report that the action could not be done', async () => {
    const h = setup(true);
    const run = h.adapter.run('start', params, {}, h.hooks);
    h.input.write('abort\n');
    await expect(run).rejects.toThrow(/the operator reported that this could not be done/);
    expect(h.log.slice(0, 2)).toEqual(['pause', 'resume']);
  });

  test('end of input before confirmation is an error, and the timeout is resumed', async () => {
    const h = setup(true);
    const run = h.adapter.run('start', params, {}, h.hooks);
    h.input.end();
    await expect(run).rejects.toThrow(/input closed before the operator confirmed/);
    expect(h.log).toEqual(['pause', 'resume']);
    // A later action on the same closed input fails as well instead of hanging.
    await expect(h.adapter.run('start', params, {}, h.hooks)).rejects.toThrow(/input closed/);
  });

  test('successive actions each wait for their own Enter', async () => {
    const h = setup(true);
    const first = h.adapter.run('provision', params, {}, h.hooks);
    h.input.write('\n');
    await first;
    const second = h.adapter.run('start', params, {}, h.hooks);
    expect(await state(second)).toBe('pending');
    h.input.write('\n');
    await second;
    expect(h.log.filter((l) => l === 'pause')).toHaveLength(2);
    expect(h.log.filter((l) => l === 'resume')).toHaveLength(2);
  });

  test('an action without an instruction is not supported', async () => {
    const h = setup(true);
    expect(h.adapter.supports('start')).toBe(true);
    expect(h.adapter.supports('reboot')).toBe(false);
    await expect(h.adapter.run('reboot', params, {}, h.hooks)).rejects.toThrow(/no manual instruction/);
    expect(h.log).toEqual([]);
  });

  test('provisioning shows the PSK to the operator on the terminal once; the evidence gets only a fingerprint', async () => {
    const h = setup(true);
    const key = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const run = h.adapter.run('provision', params, { pskIdentity: 'dev-7', pskKey: key }, h.hooks);
    expect(await state(run)).toBe('pending');
    expect(h.printed()).toContain('PSK identity: dev-7');
    expect(h.printed()).toContain('PSK key (hex): 00112233445566778899aabbccddeeff');
    h.input.write('\n');
    await run;
    const evidence = h.log.join('\n');
    expect(evidence).toContain('dev-7');
    expect(evidence).toMatch(/sha256:[0-9a-f]{8} \(16 bytes\)/);
    expect(evidence).not.toContain(key.toString('hex'));
  });
});
