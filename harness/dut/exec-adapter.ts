/**
 * Drives a device through the shell commands of its profile.
 *
 * Every command runs in its own process group so that a timeout, `stop` or dispose() can
 * take down whatever the command started (vendor tools like to fork). Secrets reach the
 * command only through its environment and a 0600 temporary file, never its argv, which
 * any local user can read; and output is scrubbed of the key before it becomes evidence.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { ExecAction } from '../profile/load.js';
import { fingerprint } from '../profile/fingerprint.js';
import {
  AdapterError,
  type ActionHooks,
  type ActionParams,
  type ActionSecrets,
  type DutAction,
  type DutAdapter,
} from './adapter.js';
import { expandTemplate, templateTakesServerAccount } from './template.js';

export interface ExecAdapterOptions {
  /** Working directory of the commands; createProfileAdapter uses the profile's directory. */
  cwd?: string;
  /** Time between SIGTERM and SIGKILL when stopping a process group. */
  killGraceMs?: number;
  shell?: string;
}

const RECENT_LINES = 8;
/** After the shell exits, how long to wait for the rest of its output before moving on. */
const OUTPUT_DRAIN_MS = 500;
/** Bound on waiting for a killed background process to be reported: its output drain plus slack. */
const EXIT_NOTE_WAIT_MS = OUTPUT_DRAIN_MS + 1500;

type Exit = { code: number | null; signal: NodeJS.Signals | null };

interface Running {
  action: DutAction;
  child: ChildProcess;
  pgid: number;
  exited: Promise<Exit>;
  /** Last output lines (already scrubbed), for error messages. */
  recent: string[];
  /** Temporary secret directory removed once the process is gone. */
  secretDir?: string;
}

/**
 * Process groups and secret folders of every adapter in this process, for the one path no
 * dispose() runs on: process.exit (a second Ctrl-C, a fatal harness error). The exit hook
 * can only do synchronous work: SIGKILL the groups, remove the folders.
 */
const live = { groups: new Set<number>(), secretDirs: new Set<string>(), hooked: false };
function onProcessExit(): void {
  for (const pgid of live.groups) signalGroup(pgid, 'SIGKILL');
  for (const dir of live.secretDirs) rmSync(dir, { recursive: true, force: true });
}
function track(kind: 'groups' | 'secretDirs', value: number | string): void {
  (live[kind] as Set<number | string>).add(value);
  if (!live.hooked) {
    live.hooked = true;
    process.once('exit', onProcessExit);
  }
}

export class ExecAdapter implements DutAdapter {
  readonly kind = 'exec' as const;
  /** Every process group spawned and possibly still populated: dispose() empties it. */
  private readonly groups = new Set<number>();
  private readonly secretDirs = new Set<string>();
  private backgroundStart: Running | undefined;
  /** Background output keeps flowing after its action returned; it goes to the latest case. */
  private latestHooks: ActionHooks | undefined;
  private disposed = false;
  /** Pending "background process exited" notes, awaited by dispose(). */
  private readonly exitNotes = new Set<Promise<void>>();
  private readonly killGraceMs: number;
  private readonly shell: string;

  constructor(
    private readonly actions: Partial<Record<DutAction, ExecAction>>,
    private readonly options: ExecAdapterOptions = {},
  ) {
    this.killGraceMs = options.killGraceMs ?? 2000;
    this.shell = options.shell ?? '/bin/sh';
  }

  takesServerAccount(): boolean {
    const provision = this.actions.provision;
    return provision !== undefined && templateTakesServerAccount(provision.command, 'shell');
  }

  supports(action: DutAction): boolean {
    if (this.actions[action]) return true;
    // Without a stop command, stopping a background start means ending its process group.
    return action === 'stop' && this.actions.start?.background === true;
  }

  async run(action: DutAction, params: ActionParams, secrets: ActionSecrets, hooks: ActionHooks): Promise<void> {
    if (this.disposed) throw new AdapterError(action, 'the adapter has already been disposed');
    this.latestHooks = hooks;
    const spec = this.actions[action];
    if (!spec) {
      if (action === 'stop' && this.supports('stop')) return this.stopBackground(hooks);
      throw new AdapterError(action, 'the profile defines no exec command for this action');
    }
    const command = expandTemplate(spec.command, params, action, 'shell');
    if (spec.background) return this.runBackground(action, spec, command, params, secrets, hooks);
    return this.runToCompletion(action, spec, command, params, secrets, hooks);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await Promise.all([...this.groups].map((pgid) => this.killGroup(pgid)));
    // The note a background process leaves when it exits belongs to this case: wait for it,
    // so nothing is written after the caller has closed the case (or the run's reports).
    await withTimeout(Promise.all(this.exitNotes), EXIT_NOTE_WAIT_MS);
    await Promise.all([...this.secretDirs].map((dir) => this.removeSecretDir(dir)));
    this.backgroundStart = undefined;
  }

  private async runToCompletion(
    action: DutAction,
    spec: ExecAction,
    command: string,
    params: ActionParams,
    secrets: ActionSecrets,
    hooks: ActionHooks,
  ): Promise<void> {
    const secretDir = await this.prepareSecrets(secrets);
    try {
      const running = await this.start(action, command, params, secrets, secretDir, () => hooks);
      const outcome = await withTimeout(running.exited, spec.timeoutS * 1000);
      if (outcome === 'timeout') {
        hooks.note('adapter', `[${action}] timed out after ${spec.timeoutS} s; stopping process group ${running.pgid}`);
        await this.killGroup(running.pgid);
        throw new AdapterError(action, `timed out after ${spec.timeoutS} s${lastLines(running.recent)}`);
      }
      if (outcome.code !== 0) throw new AdapterError(action, `${describeExit(outcome)}${lastLines(running.recent)}`);
    } finally {
      if (secretDir) await this.removeSecretDir(secretDir);
    }
  }

  private async runBackground(
    action: DutAction,
    spec: ExecAction,
    command: string,
    params: ActionParams,
    secrets: ActionSecrets,
    hooks: ActionHooks,
  ): Promise<void> {
    if (this.backgroundStart) {
      hooks.note('adapter', `[${action}] the previous background ${action} is still running; stopping it first`);
      await this.stopBackground(hooks);
    }
    // The device process may read the key file at any time after it starts, so the file
    // lives as long as the process rather than as long as the action.
    const secretDir = await this.prepareSecrets(secrets);
    const ready = spec.readyLine === undefined ? undefined : new RegExp(spec.readyLine);
    let markReady: () => void = () => {};
    const readyLineSeen = new Promise<void>((resolve) => (markReady = resolve));
    const running = await this.start(action, command, params, secrets, secretDir, () => this.latestHooks, (line) => {
      if (ready?.test(line)) markReady();
    });
    this.backgroundStart = running;
    const noted = running.exited.then((exit) => {
      if (this.backgroundStart === running) this.backgroundStart = undefined;
      this.latestHooks?.note('adapter', `[${action}] background process ${running.pgid} ${describeExit(exit)}`);
    });
    this.exitNotes.add(noted);
    void noted.finally(() => this.exitNotes.delete(noted));
    if (!ready) return;

    const outcome = await withTimeout(
      Promise.race([readyLineSeen.then(() => 'ready' as const), running.exited]),
      spec.timeoutS * 1000,
    );
    if (outcome === 'ready') return;
    if (outcome === 'timeout') {
      await this.killGroup(running.pgid);
      throw new AdapterError(
        action,
        `no output line matched /${spec.readyLine}/ within ${spec.timeoutS} s${lastLines(running.recent)}`,
      );
    }
    throw new AdapterError(
      action,
      `background process ${describeExit(outcome)} before an output line matched /${spec.readyLine}/${lastLines(running.recent)}`,
    );
  }

  private async stopBackground(hooks: ActionHooks): Promise<void> {
    const running = this.backgroundStart;
    if (!running) {
      hooks.note('adapter', '[stop] no background start process is running');
      return;
    }
    hooks.note('adapter', `[stop] stopping background start process group ${running.pgid}`);
    await this.killGroup(running.pgid);
    await running.exited;
    this.backgroundStart = undefined;
  }

  /** Spawns the shell in a new process group; resolves once the process exists. */
  private async start(
    action: DutAction,
    command: string,
    params: ActionParams,
    secrets: ActionSecrets,
    secretDir: string | undefined,
    hooks: () => ActionHooks | undefined,
    onLine?: (line: string) => void,
  ): Promise<Running> {
    const scrubBootstrap = secretScrubber(secrets.pskKey, secrets.certificates?.keyPem);
    const scrubServer = secretScrubber(secrets.serverPskKey);
    const scrub = (text: string) => scrubServer(scrubBootstrap(text));
    hooks()?.note('adapter', `[${action}] $ ${scrub(command)}`);
    const child = spawn(this.shell, ['-c', command], {
      cwd: this.options.cwd,
      env: actionEnv(action, params, secrets, secretDir),
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Listeners go on before the first await so no early output or exit can slip past.
    const recent: string[] = [];
    const closed: Promise<void>[] = [];
    for (const [stream, label] of [
      [child.stdout, action],
      [child.stderr, `${action} stderr`],
    ] as [Readable, string][]) {
      const lines = createInterface({ input: stream, crlfDelay: Infinity });
      lines.on('line', (raw) => {
        const line = scrub(raw);
        recent.push(line);
        if (recent.length > RECENT_LINES) recent.shift();
        hooks()?.note('adapter', `[${label}] ${line}`);
        onLine?.(line);
      });
      closed.push(new Promise((resolve) => lines.once('close', resolve)));
    }
    const exitSeen = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

    try {
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
    } catch (err) {
      if (secretDir) await this.removeSecretDir(secretDir);
      throw new AdapterError(action, `could not run ${this.shell}: ${(err as Error).message}`);
    }
    const pgid = child.pid as number;
    this.groups.add(pgid);
    track('groups', pgid);

    const exited = exitSeen.then(async (exit) => {
      // A command that left a process holding its output open must not hold us up.
      await withTimeout(Promise.all(closed), OUTPUT_DRAIN_MS);
      if (!groupAlive(pgid)) {
        this.groups.delete(pgid);
        live.groups.delete(pgid);
      }
      if (secretDir) await this.removeSecretDir(secretDir);
      return exit;
    });
    return { action, child, pgid, exited, recent, secretDir };
  }

  private async prepareSecrets(secrets: ActionSecrets): Promise<string | undefined> {
    if (!secrets.pskKey && !secrets.certificates && !secrets.serverPskKey) return undefined;
    // mkdtemp creates the directory 0700; the files are 0600 and created exclusively.
    const dir = await mkdtemp(join(tmpdir(), 'geisa-secrets-'));
    this.secretDirs.add(dir);
    track('secretDirs', dir);
    const opts = { mode: 0o600, flag: 'wx' } as const;
    if (secrets.pskKey) await writeFile(join(dir, 'psk.hex'), `${secrets.pskKey.toString('hex')}\n`, opts);
    if (secrets.serverPskKey) await writeFile(join(dir, 'server-psk.hex'), `${secrets.serverPskKey.toString('hex')}\n`, opts);
    if (secrets.certificates) {
      if (secrets.certificates.certPem) await writeFile(join(dir, 'cert.pem'), secrets.certificates.certPem, opts);
      if (secrets.certificates.keyPem) await writeFile(join(dir, 'key.pem'), secrets.certificates.keyPem, opts);
      await writeFile(join(dir, 'trust.pem'), secrets.certificates.trustPem, opts);
      if (secrets.certificates.estTrustPem) await writeFile(join(dir, 'est-trust.pem'), secrets.certificates.estTrustPem, opts);
    }
    return dir;
  }

  private async removeSecretDir(dir: string): Promise<void> {
    this.secretDirs.delete(dir);
    await rm(dir, { recursive: true, force: true });
    live.secretDirs.delete(dir);
  }

  /** SIGTERM the group, SIGKILL it after the grace period if anything is left. */
  private async killGroup(pgid: number): Promise<void> {
    signalGroup(pgid, 'SIGTERM');
    if (!(await waitGroupGone(pgid, this.killGraceMs))) {
      signalGroup(pgid, 'SIGKILL');
      // Bounded: a zombie nobody reaps would otherwise keep us here forever.
      await waitGroupGone(pgid, 1000);
    }
    this.groups.delete(pgid);
    live.groups.delete(pgid);
  }
}

/** The environment of an action: the harness's own plus the GEISA_* variables. */
function actionEnv(
  action: DutAction,
  params: ActionParams,
  secrets: ActionSecrets,
  secretDir: string | undefined,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Stale values inherited from the caller's shell must not pass for this run's secrets.
  for (const name of ['GEISA_PSK_IDENTITY', 'GEISA_PSK_FILE', 'GEISA_PSK_HEX', 'GEISA_CERT_FILE', 'GEISA_KEY_FILE', 'GEISA_TRUST_FILE', 'GEISA_CERTIFICATE_USAGE',
    'GEISA_SERVER_URI', 'GEISA_SERVER_SSID', 'GEISA_SERVER_LIFETIME', 'GEISA_SERVER_PSK_IDENTITY', 'GEISA_SERVER_PSK_FILE', 'GEISA_SERVER_PSK_HEX', 'GEISA_EST_DNS_SERVER', 'GEISA_EST_DOMAIN', 'GEISA_EST_TRUST_FILE']) delete env[name];
  Object.assign(env, {
    GEISA_ACTION: action,
    GEISA_BS_URI: params.bsUri,
    GEISA_BS_HOST: params.bsHost,
    GEISA_BS_PORT: String(params.bsPort),
    GEISA_ENDPOINT: params.endpoint,
    GEISA_STATE_DIR: params.stateDir,
  });
  if (secrets.pskIdentity !== undefined) env.GEISA_PSK_IDENTITY = secrets.pskIdentity;
  if (params.serverUri !== undefined) env.GEISA_SERVER_URI = params.serverUri;
  if (params.serverSsid !== undefined) env.GEISA_SERVER_SSID = String(params.serverSsid);
  if (params.serverLifetime !== undefined) env.GEISA_SERVER_LIFETIME = String(params.serverLifetime);
  if (params.estDnsServer !== undefined) env.GEISA_EST_DNS_SERVER = params.estDnsServer;
  if (params.estDomain !== undefined) env.GEISA_EST_DOMAIN = params.estDomain;
  if (secrets.serverPskIdentity !== undefined) env.GEISA_SERVER_PSK_IDENTITY = secrets.serverPskIdentity;
  if (secrets.serverPskKey && secretDir) {
    env.GEISA_SERVER_PSK_FILE = join(secretDir, 'server-psk.hex');
    env.GEISA_SERVER_PSK_HEX = secrets.serverPskKey.toString('hex');
  }
  if (secrets.pskKey && secretDir) {
    env.GEISA_PSK_FILE = join(secretDir, 'psk.hex');
    env.GEISA_PSK_HEX = secrets.pskKey.toString('hex');
  }
  if (secrets.certificates && secretDir) {
    if (secrets.certificates.certPem) env.GEISA_CERT_FILE = join(secretDir, 'cert.pem');
    if (secrets.certificates.keyPem) env.GEISA_KEY_FILE = join(secretDir, 'key.pem');
    env.GEISA_TRUST_FILE = join(secretDir, 'trust.pem');
    env.GEISA_CERTIFICATE_USAGE = String(secrets.certificates.usage ?? 3);
    if (secrets.certificates.estTrustPem) env.GEISA_EST_TRUST_FILE = join(secretDir, 'est-trust.pem');
  }
  return env;
}

/**
 * Replaces the key in output with its fingerprint: as hex in either case, and as base64
 * or raw text for keys long enough that a match cannot be a coincidence.
 */
export function secretScrubber(key: Buffer | undefined, privateKeyPem?: string): (text: string) => string {
  const steps: ((text: string) => string)[] = [];
  if (key && key.length > 0) {
    const replacement = `<psk ${fingerprint(key)}>`;
    const forms = [key.toString('hex')];
    if (key.length >= 8) {
      forms.push(key.toString('base64'));
      const raw = key.toString('latin1');
      if (/^[\x20-\x7e]+$/.test(raw)) forms.push(raw);
    }
    const pattern = new RegExp(forms.map(escapeRegExp).join('|'), 'gi');
    steps.push((text) => text.replace(pattern, replacement));
  }
  if (privateKeyPem) {
    // Output comes line by line, so each base64 line of the key is a form of its own.
    const body = privateKeyPem.split('\n').map((l) => l.trim()).filter((l) => l.length >= 16 && !l.startsWith('-----'));
    const replacement = `<private key ${fingerprint(Buffer.from(privateKeyPem))}>`;
    if (body.length) {
      const pattern = new RegExp(body.map(escapeRegExp).join('|'), 'g');
      steps.push((text) => text.replace(pattern, replacement));
    }
  }
  return (text) => steps.reduce((t, step) => step(t), text);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return hasLivingMember(pgid);
}

/**
 * kill(-pgid, 0) also succeeds for zombies, and orphans become zombies for good where PID 1
 * does not reap (many containers). On Linux, look at the members' states instead.
 */
function hasLivingMember(pgid: number): boolean {
  // The group leader (the shell, or what it exec'd) is most often the one still running:
  // finding it alive spares a scan of every process on the machine.
  const leader = memberState(String(pgid), pgid);
  if (leader === 'alive') return true;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return true;
  }
  for (const pid of pids) if (memberState(pid, pgid) === 'alive') return true;
  return false;
}

/** Whether process `pid` is a living member of group `pgid` (not a zombie), from /proc. */
function memberState(pid: string, pgid: number): 'alive' | 'not' {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 'not';
  }
  // "pid (comm) state ppid pgrp ..."; comm may contain spaces and parentheses.
  const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(pgrp) === pgid && state !== 'Z' && state !== 'X' ? 'alive' : 'not';
}

async function waitGroupGone(pgid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  // Short at first (a process that handles SIGTERM is usually gone within a few ms), then
  // longer: each look may scan /proc, which costs the harness CPU on a busy machine.
  let pauseMs = 10;
  while (groupAlive(pgid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, Math.min(pauseMs, Math.max(1, deadline - Date.now()))));
    pauseMs = Math.min(pauseMs * 2, 100);
  }
  return true;
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function describeExit(exit: Exit): string {
  return exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}

function lastLines(recent: readonly string[]): string {
  return recent.length === 0 ? '' : `; last output:\n  ${recent.join('\n  ')}`;
}
