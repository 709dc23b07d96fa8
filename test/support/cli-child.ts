/**
 * The built CLI (dist/bin/geisa-adm.js: rebuild first) as a child process, for tests of
 * what a user sees, and scratch folders removed after the file's tests.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const CLI = resolve('dist/bin/geisa-adm.js');
export const cliEnv = { ...process.env, NO_COLOR: '1' };

export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Node running `args` as a child process, its output collected; killed (and the promise rejected, naming `what`) if it outlives `limitMs`. */
export function runNode(args: string[], limitMs: number, what: string, env: NodeJS.ProcessEnv = process.env): Promise<Ran> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const limit = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`${what} did not end within ${limitMs / 1000} s\n${stdout}\n${stderr}`));
    }, limitMs);
    child.on('close', (status) => {
      clearTimeout(limit);
      done({ status, stdout, stderr });
    });
  });
}

/** The CLI as a child process, killed (and the test failed) if it outlives `limitMs`. */
export function cli(args: string[], limitMs: number): Promise<Ran> {
  return runNode([CLI, ...args], limitMs, `geisa-adm ${args.join(' ')}`, cliEnv);
}

/** A `scratch(prefix)` whose folders go when the calling file's tests are done (call at top level). */
export function scratchFolders(): (prefix: string) => string {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  return (prefix) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
}

export interface CliSyncOptions {
  cwd?: string;
  /** Added to the environment (which already says NO_COLOR). */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/** The CLI run to its end: for a command that ends by itself, killed after `timeoutMs`. */
export function cliSync(args: string[], { cwd, env = {}, timeoutMs = 120_000 }: CliSyncOptions = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], { cwd, env: { ...cliEnv, ...env }, encoding: 'utf8', timeout: timeoutMs });
}

export interface ExecProfileOptions {
  endpoint: string;
  /** The device's state file, as the action's shell sees it (placeholders allowed). */
  state: string;
  /** More `device provision` arguments (e.g. the IDevID files). */
  provisionArgs?: string;
  /** A shell command run before provisioning, in the same action (e.g. to record what the action was given). */
  beforeProvision?: string;
  /** More top-level YAML lines (ICS, certificates). */
  more?: string[];
}

/**
 * A DUT profile (YAML) driving the bundled reference device through exec actions, as a
 * user wires a real device's vendor tool: the CLI then treats it as any other device.
 */
export function referenceDeviceExecProfile(o: ExecProfileOptions): string {
  const device = `${process.execPath} ${CLI} device`;
  const provision = `${o.beforeProvision ? `${o.beforeProvision} && ` : ''}${device} provision --state ${o.state} --bs-uri {bsUri} --endpoint {endpoint}${o.provisionArgs ? ` ${o.provisionArgs}` : ''}`;
  return [
    'schema: geisa-adm-profile/1',
    `dut: { endpoint: "${o.endpoint}" }`,
    'adapter:',
    '  kind: exec',
    '  actions:',
    `    provision: { exec: "${provision}" }`,
    `    start: { exec: "exec ${device} run --state ${o.state} --ack-timeout-ms 1000", background: true, readyLine: "^READY " }`,
    'ixit: { coap: { ackTimeoutS: 1 }, startupBoundS: 10 }',
    ...(o.more ?? []),
    '',
  ].join('\n');
}
