/**
 * Drives a device through the shell commands of its profile.
 *
 * Every command runs in its own process group (process-groups.ts) so that a timeout,
 * `stop` or dispose() can take down whatever the command started (vendor tools like to
 * fork). Secrets reach the command only through its environment and a 0600 temporary file
 * (secrets.ts), never its argv, which any local user can read; and output is scrubbed of
 * the key before it becomes evidence.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { ExecAction } from '../profile/load.js';
import { AdapterError, type ActionHooks, type ActionParams, type ActionSecrets, type DutAction, type DutAdapter } from './adapter.js';
import { groupAlive, signalGroup, trackAtExit, untrackAtExit, waitGroupGone } from './process-groups.js';
import { actionEnv, createSecretDir, removeSecretDir, secretScrubber, writeSecretFiles } from './secrets.js';
import { expandTemplate, templateTakesServerAccount } from './template.js';

export { secretScrubber } from './secrets.js';

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

  private async runToCompletion(action: DutAction, spec: ExecAction, command: string, params: ActionParams, secrets: ActionSecrets, hooks: ActionHooks): Promise<void> {
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

  private async runBackground(action: DutAction, spec: ExecAction, command: string, params: ActionParams, secrets: ActionSecrets, hooks: ActionHooks): Promise<void> {
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
    const running = await this.start(
      action,
      command,
      params,
      secrets,
      secretDir,
      () => this.latestHooks,
      (line) => {
        if (ready?.test(line)) markReady();
      },
    );
    this.backgroundStart = running;
    const noted = running.exited.then((exit) => {
      if (this.backgroundStart === running) this.backgroundStart = undefined;
      this.latestHooks?.note('adapter', `[${action}] background process ${running.pgid} ${describeExit(exit)}`);
    });
    this.exitNotes.add(noted);
    void noted.finally(() => this.exitNotes.delete(noted));
    if (!ready) return;

    const outcome = await withTimeout(Promise.race([readyLineSeen.then(() => 'ready' as const), running.exited]), spec.timeoutS * 1000);
    if (outcome === 'ready') return;
    if (outcome === 'timeout') {
      await this.killGroup(running.pgid);
      throw new AdapterError(action, `no output line matched /${spec.readyLine}/ within ${spec.timeoutS} s${lastLines(running.recent)}`);
    }
    throw new AdapterError(action, `background process ${describeExit(outcome)} before an output line matched /${spec.readyLine}/${lastLines(running.recent)}`);
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
  private async start(action: DutAction, command: string, params: ActionParams, secrets: ActionSecrets, secretDir: string | undefined, hooks: () => ActionHooks | undefined, onLine?: (line: string) => void): Promise<Running> {
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
    trackAtExit('groups', pgid);

    const exited = exitSeen.then(async (exit) => {
      // A command that left a process holding its output open must not hold us up.
      await withTimeout(Promise.all(closed), OUTPUT_DRAIN_MS);
      if (!groupAlive(pgid)) {
        this.groups.delete(pgid);
        untrackAtExit('groups', pgid);
      }
      if (secretDir) await this.removeSecretDir(secretDir);
      return exit;
    });
    return { action, child, pgid, exited, recent, secretDir };
  }

  private async prepareSecrets(secrets: ActionSecrets): Promise<string | undefined> {
    if (!secrets.pskKey && !secrets.certificates && !secrets.serverPskKey) return undefined;
    const dir = await createSecretDir();
    // Known before the files are written, so dispose() removes a half-written folder too.
    this.secretDirs.add(dir);
    await writeSecretFiles(dir, secrets);
    return dir;
  }

  private async removeSecretDir(dir: string): Promise<void> {
    this.secretDirs.delete(dir);
    await removeSecretDir(dir);
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
    untrackAtExit('groups', pgid);
  }
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
