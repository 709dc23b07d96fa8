/**
 * The reference device as its own process, spawned from the built CLI as the simulator
 * adapter does: READY once bound, a real Bootstrap-Request on the wire, a clean stop on
 * SIGTERM, and one-line errors with exit code 1.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FAST_PARAMS, PROMPT_MS } from './support/device-bench.js';
import { type ScriptedPeer, isBootstrapRequest, openBootstrapServer } from './support/scripted-peers.js';

const CLI = resolve('dist/bin/geisa-adm.js');

let dir: string;
let bs: ScriptedPeer;
const children: ChildProcess[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'geisa-device-proc-'));
  bs = await openBootstrapServer(FAST_PARAMS);
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await bs.close();
  await rm(dir, { recursive: true, force: true });
});

function cli(args: string[]) {
  return spawnSync(process.execPath, [CLI, 'device', ...args], { encoding: 'utf8', timeout: 30_000 });
}

/** Starts `device run` and resolves with the address of the READY line and everything printed so far. */
function runProcess(state: string): Promise<{ child: ChildProcess; ready: string; out: () => string }> {
  const child = spawn(process.execPath, [CLI, 'device', 'run', '--state', state, '--ack-timeout-ms', '100', '--max-retransmit', '2', '--max-latency-ms', '50'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  return new Promise((resolvePromise, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /^READY (\S+)$/m.exec(out);
      if (m) resolvePromise({ child, ready: m[1]!, out: () => out });
    });
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`device exited with ${code} before READY:\n${out}`)));
  });
}

describe('the device as a process', () => {
  test('provision, run: READY, a CON Bootstrap-Request with the endpoint name, and exit 0 on SIGTERM', async () => {
    const state = join(dir, 'state.json');
    const p = cli(['provision', '--state', state, '--bs-uri', bs.uri, '--endpoint', 'urn:dev:ops:proc-1']);
    expect(p.status).toBe(0);
    const { child, ready, out } = await runProcess(state);
    expect(ready).toMatch(/^127\.0\.0\.1:\d+$/);
    const req = await bs.next(isBootstrapRequest, PROMPT_MS);
    expect(req?.msg.type).toBe('CON');
    expect(req?.query.get('ep')).toEqual(['urn:dev:ops:proc-1']);
    expect(`${req!.remote.address}:${req!.remote.port}`).toBe(ready);
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
    expect(out()).toMatch(/\[device \+\d+\.\d{3}s\] Bootstrap-Request CON POST \/bs\?ep=urn:dev:ops:proc-1/);
  });

  test('a missing state file is one line "device error: ..." on stderr and exit 1', () => {
    const r = cli(['run', '--state', join(dir, 'absent.json')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^device error: state file .*absent\.json does not exist/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test('provisioning with a bad URI fails naming the field', () => {
    const r = cli(['provision', '--state', join(dir, 's.json'), '--bs-uri', 'not a uri', '--endpoint', 'x']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('bsUri');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
