/**
 * The adapter for a profile whose actions are shell commands, operator instructions, or
 * a mix (a vendor tool for provisioning, an operator for the power switch).
 */
import { dirname, resolve } from 'node:path';
import type { ExecAction, ManualAction, Profile } from '../profile/load.js';
import { AdapterError, type ActionHooks, type ActionParams, type ActionSecrets, type DutAction, type DutAdapter } from './adapter.js';
import { ExecAdapter, type ExecAdapterOptions } from './exec-adapter.js';
import { ManualAdapter, type ManualAdapterOptions } from './manual-adapter.js';

export interface ProfileAdapterOptions {
  exec?: ExecAdapterOptions;
  manual?: ManualAdapterOptions;
}

export class MixedAdapter implements DutAdapter {
  readonly kind = 'mixed' as const;

  constructor(
    private readonly exec: ExecAdapter,
    private readonly manual: ManualAdapter,
  ) {}

  supports(action: DutAction): boolean {
    return this.exec.supports(action) || this.manual.supports(action);
  }

  run(action: DutAction, params: ActionParams, secrets: ActionSecrets, hooks: ActionHooks): Promise<void> {
    // Manual first: an explicit operator `stop` wins over killing a background exec start.
    if (this.manual.supports(action)) return this.manual.run(action, params, secrets, hooks);
    if (this.exec.supports(action)) return this.exec.run(action, params, secrets, hooks);
    return Promise.reject(new AdapterError(action, 'the profile defines no command or instruction for this action'));
  }

  async dispose(): Promise<void> {
    await Promise.all([this.exec.dispose(), this.manual.dispose()]);
  }
}

/**
 * Builds the adapter a profile asks for. Exec commands run in the profile file's
 * directory, so a profile can refer to scripts next to it with relative paths.
 */
export function createProfileAdapter(profile: Profile, options: ProfileAdapterOptions = {}): DutAdapter {
  const { kind, actions } = profile.adapter;
  if (kind === 'simulator') {
    throw new Error('simulator profiles are driven by the simulator adapter, not createProfileAdapter');
  }
  const execActions: Partial<Record<DutAction, ExecAction>> = {};
  const manualActions: Partial<Record<DutAction, ManualAction>> = {};
  for (const [name, action] of Object.entries(actions) as [DutAction, ExecAction | ManualAction][]) {
    if (action.type === 'exec') execActions[name] = action;
    else manualActions[name] = action;
  }
  const exec = new ExecAdapter(execActions, { cwd: profileDirectory(profile), ...options.exec });
  const manual = new ManualAdapter(manualActions, options.manual);
  if (kind === 'exec') return exec;
  if (kind === 'manual') return manual;
  return new MixedAdapter(exec, manual);
}

function profileDirectory(profile: Profile): string | undefined {
  // Built-in profiles have a source like "<built-in ...>", not a path.
  return profile.source.startsWith('<') ? undefined : dirname(resolve(profile.source));
}
