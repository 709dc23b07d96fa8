/** Rules a JSON Schema cannot express (or only with unreadable errors). */
import { isIP } from 'node:net';
import type { DutAction } from './actions.js';
import { templateProblems } from './actions.js';
import type { Locator } from './positions.js';
import type { ProfileProblem } from './problems.js';
import { PROFILE_DEFAULTS, type RawAction, type RawProfile } from './schema.js';
import { displayPath } from './schema-errors.js';

const UNSPECIFIED_ADDRESSES = new Set(['0.0.0.0', '::', '0:0:0:0:0:0:0:0']);

export function checkSemantics(raw: RawProfile, where: Locator): ProfileProblem[] {
  const problems: ProfileProblem[] = [];
  const at = (path: string[], text: string, useKey = false): void => {
    problems.push({ ...(useKey ? where.key(path) : where.value(path)), path: displayPath(path), text });
  };

  const kind = raw.adapter.kind;
  const actions = raw.adapter.actions ?? {};
  if (kind === 'simulator' && raw.adapter.actions !== undefined) {
    at(['adapter', 'actions'], 'adapter.actions must not be set when adapter.kind is "simulator" (the reference device needs none)', true);
  }
  for (const [name, action] of Object.entries(actions) as [DutAction, RawAction][]) {
    const base = ['adapter', 'actions', name];
    const shown = displayPath(base);
    const type = action.exec !== undefined ? 'exec' : 'manual';
    if ((kind === 'exec' || kind === 'manual') && type !== kind) {
      at(base, `${shown} is a ${type} action but adapter.kind is "${kind}" (use "mixed" to combine both)`);
    }
    if (action.background && name !== 'start') {
      at([...base, 'background'], `${shown}.background is only allowed on the start action`, true);
    }
    if (action.readyLine !== undefined) {
      if (!action.background) at([...base, 'readyLine'], `${shown}.readyLine needs background: true`, true);
      try {
        new RegExp(action.readyLine);
      } catch (err) {
        at([...base, 'readyLine'], `${shown}.readyLine is not a valid regular expression: ${(err as Error).message}`);
      }
    }
    const template = action.exec ?? action.manual ?? '';
    for (const problem of templateProblems(template, type === 'exec' ? 'shell' : 'text')) {
      at([...base, type], `${shown}.${type}: ${problem}`);
    }
  }

  const parallel = raw.adapter.parallel;
  if (parallel !== undefined && parallel > 1) {
    // An operator (or a shared physical device) can serve one case at a time.
    if (kind === 'manual' || kind === 'mixed') {
      at(
        ['adapter', 'parallel'],
        `adapter.parallel must be 1 when adapter.kind is "${kind}" (got ${parallel}): an operator and a physical device serve one case at a time; only a device that can be instantiated once per case (exec actions starting a simulator) may run several`,
      );
    }
    for (const key of ['bootstrapPort', 'serverPort'] as const) {
      const fixed = raw.harness?.[key];
      if (fixed !== undefined && fixed !== 0) {
        at(['harness', key], `harness.${key} must be 0 (OS-chosen) when adapter.parallel is ${parallel}: cases running at once cannot share port ${fixed}`);
      }
    }
  }

  const listen = raw.harness?.listenAddress ?? PROFILE_DEFAULTS.harness.listenAddress;
  if (isIP(listen) === 0) {
    at(['harness', 'listenAddress'], `harness.listenAddress must be an IPv4 or IPv6 address (got ${JSON.stringify(listen)})`);
  } else if (UNSPECIFIED_ADDRESSES.has(listen) && raw.harness?.advertiseHost === undefined) {
    at(['harness', 'listenAddress'], `harness.advertiseHost is required when harness.listenAddress is ${listen}: the device cannot be told to contact the unspecified address`, true);
  }
  const advertise = raw.harness?.advertiseHost;
  if (advertise !== undefined && UNSPECIFIED_ADDRESSES.has(advertise)) {
    at(['harness', 'advertiseHost'], `harness.advertiseHost must be an address the device can reach, not ${advertise}`);
  }
  const { bootstrapPort, serverPort } = raw.harness ?? {};
  if (bootstrapPort !== undefined && bootstrapPort !== 0 && bootstrapPort === serverPort) {
    at(['harness', 'serverPort'], `harness.serverPort must differ from harness.bootstrapPort (both ${serverPort})`);
  }
  return problems;
}
