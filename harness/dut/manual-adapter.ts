/**
 * Drives a device through an operator: the instruction is shown at the terminal and the
 * case waits, with its timeout paused, until the operator confirms with Enter. Without a
 * terminal nobody can answer, so the action fails at once instead of hanging a CI job.
 */
import type { Readable, Writable } from 'node:stream';
import type { ManualAction } from '../profile/load.js';
import { AdapterError, type ActionHooks, type ActionParams, type ActionSecrets, type DutAction, type DutAdapter } from './adapter.js';
import { expandTemplate, templateTakesServerAccount } from './template.js';
import { fingerprint } from '../profile/fingerprint.js';

export interface ManualAdapterOptions {
  input?: Readable;
  /** Defaults to stderr so that prompts never mix into output piped from stdout. */
  output?: Writable;
  /** Defaults to whether the input is a terminal. */
  isTTY?: boolean;
}

/** What the harness needs from an action whose outcome the profile's wording may not make plain. */
const ACTION_HINTS: Partial<Record<DutAction, string>> = {
  changeAddress: "Change the device's IP address or reconnect it (e.g. its modem or network link) while it keeps running; do not power it off.",
};

/** Typed by the operator instead of just Enter when the action could not be carried out. */
const ABORT_WORDS = new Set(['abort', 'fail', 'no']);

export class ManualAdapter implements DutAdapter {
  readonly kind = 'manual' as const;
  private readonly input: Readable;
  private readonly output: Writable;
  private readonly isTTY: boolean;

  constructor(
    private readonly actions: Partial<Record<DutAction, ManualAction>>,
    options: ManualAdapterOptions = {},
  ) {
    this.input = options.input ?? process.stdin;
    this.output = options.output ?? process.stderr;
    this.isTTY = options.isTTY ?? (this.input as Readable & { isTTY?: boolean }).isTTY === true;
  }

  supports(action: DutAction): boolean {
    return this.actions[action] !== undefined;
  }

  takesServerAccount(): boolean {
    const provision = this.actions.provision;
    return provision !== undefined && templateTakesServerAccount(provision.instruction, 'text');
  }

  async run(action: DutAction, params: ActionParams, secrets: ActionSecrets, hooks: ActionHooks): Promise<void> {
    const spec = this.actions[action];
    if (!spec) throw new AdapterError(action, 'the profile defines no manual instruction for this action');
    if (!this.isTTY) {
      throw new AdapterError(action, 'needs an operator at a terminal, but standard input is not a TTY; run interactively or use exec actions');
    }
    const instruction = expandTemplate(spec.instruction, params, action, 'text');
    // The operator has to type the key into the vendor tool: it is shown here, on the
    // terminal only, once — the evidence records just the identity and a fingerprint.
    const credentials = action === 'provision' && secrets.pskIdentity !== undefined && secrets.pskKey ? `    PSK identity: ${secrets.pskIdentity}\n    PSK key (hex): ${secrets.pskKey.toString('hex')}\n` : '';
    const serverPsk = action === 'provision' && secrets.serverPskIdentity !== undefined && secrets.serverPskKey ? { identity: secrets.serverPskIdentity, key: secrets.serverPskKey } : undefined;
    const serverAccount =
      action === 'provision' && params.serverUri !== undefined
        ? `    LwM2M Server account: ${params.serverUri}, Short Server ID ${params.serverSsid ?? '(any)'}, lifetime ${params.serverLifetime ?? '(default)'} s, ` +
          (serverPsk ? `Security Mode 0 (PSK)\n    Server PSK identity: ${serverPsk.identity}\n    Server PSK key (hex): ${serverPsk.key.toString('hex')}\n` : 'Security Mode 3 (NoSec)\n')
        : '';
    // Certificates are public: the EST anchor can be shown, the operator installs it as the RA's trust anchor.
    const estRa =
      action === 'provision' && params.estDnsServer !== undefined
        ? `    EST server by DNS-SD: look up _est-coaps._udp.${params.estDomain ?? ''} at the DNS server ${params.estDnsServer}\n` +
          (secrets.certificates?.estTrustPem ? `    its certificate chains to this trust anchor:\n${secrets.certificates.estTrustPem.trim().replace(/^/gm, '      ')}\n` : '')
        : '';
    this.output.write(
      `\n>>> Operator action required (${action}):\n    ${instruction}\n${ACTION_HINTS[action] ? `    ${ACTION_HINTS[action]}\n` : ''}${credentials}${serverAccount}${estRa}` +
        `    Press Enter when done, or type "abort" and Enter if it cannot be done.\n`,
    );
    if (credentials) hooks.note('operator', `operator shown PSK identity "${secrets.pskIdentity}" and its key (${fingerprint(secrets.pskKey!)})`);
    if (serverPsk) hooks.note('operator', `operator shown server PSK identity "${serverPsk.identity}" and its key (${fingerprint(serverPsk.key)}) for ${params.serverUri}`);
    hooks.pauseTimeout(`${action}: ${instruction}`);
    let answer: string;
    try {
      answer = await readLine(this.input);
    } catch (err) {
      throw new AdapterError(action, (err as Error).message);
    } finally {
      hooks.resumeTimeout();
    }
    if (ABORT_WORDS.has(answer.trim().toLowerCase())) {
      hooks.note('operator', `operator could not perform: ${instruction}`);
      throw new AdapterError(action, `the operator reported that this could not be done: ${instruction}`);
    }
    hooks.note('operator', `operator confirmed: ${instruction}`);
  }

  async dispose(): Promise<void> {
    // Nothing runs between actions; the input stream belongs to the caller.
  }
}

/** One line from the stream; leaves the stream paused so an idle stdin does not keep the process alive. */
function readLine(input: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    if (input.readableEnded) {
      reject(new Error('input closed before the operator confirmed'));
      return;
    }
    let buffered = '';
    const finish = (settle: () => void): void => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onError);
      input.pause();
      settle();
    };
    const onData = (chunk: Buffer | string): void => {
      buffered += chunk.toString();
      const end = buffered.search(/[\r\n]/);
      if (end >= 0) finish(() => resolve(buffered.slice(0, end)));
    };
    const onEnd = (): void => finish(() => reject(new Error('input closed before the operator confirmed')));
    const onError = (err: Error): void => finish(() => reject(err));
    input.on('data', onData);
    input.once('end', onEnd);
    input.once('error', onError);
    input.resume();
  });
}
