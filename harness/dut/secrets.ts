/**
 * Secrets of an exec action: they reach the command only through its environment and
 * 0600 files in a 0700 temporary folder, never its argv (any local user can read argv),
 * and its output is scrubbed of them before it becomes evidence.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprint } from '../profile/fingerprint.js';
import type { ActionParams, ActionSecrets, DutAction } from './adapter.js';
import { trackAtExit, untrackAtExit } from './process-groups.js';

/** mkdtemp creates the folder 0700; it is removed at process exit if nothing removed it before. */
export async function createSecretDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'geisa-secrets-'));
  trackAtExit('secretDirs', dir);
  return dir;
}

/** The files actionEnv points the command at; 0600 and created exclusively. */
export async function writeSecretFiles(dir: string, secrets: ActionSecrets): Promise<void> {
  const opts = { mode: 0o600, flag: 'wx' } as const;
  if (secrets.pskKey) await writeFile(join(dir, 'psk.hex'), `${secrets.pskKey.toString('hex')}\n`, opts);
  if (secrets.serverPskKey) await writeFile(join(dir, 'server-psk.hex'), `${secrets.serverPskKey.toString('hex')}\n`, opts);
  if (secrets.certificates) {
    if (secrets.certificates.certPem) await writeFile(join(dir, 'cert.pem'), secrets.certificates.certPem, opts);
    if (secrets.certificates.keyPem) await writeFile(join(dir, 'key.pem'), secrets.certificates.keyPem, opts);
    await writeFile(join(dir, 'trust.pem'), secrets.certificates.trustPem, opts);
    if (secrets.certificates.estTrustPem) await writeFile(join(dir, 'est-trust.pem'), secrets.certificates.estTrustPem, opts);
  }
}

export async function removeSecretDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  untrackAtExit('secretDirs', dir);
}

/** The environment of an action: the harness's own plus the GEISA_* variables. */
export function actionEnv(action: DutAction, params: ActionParams, secrets: ActionSecrets, secretDir: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Stale values inherited from the caller's shell must not pass for this run's secrets.
  for (const name of [
    'GEISA_PSK_IDENTITY',
    'GEISA_PSK_FILE',
    'GEISA_PSK_HEX',
    'GEISA_CERT_FILE',
    'GEISA_KEY_FILE',
    'GEISA_TRUST_FILE',
    'GEISA_CERTIFICATE_USAGE',
    'GEISA_SERVER_URI',
    'GEISA_SERVER_SSID',
    'GEISA_SERVER_LIFETIME',
    'GEISA_SERVER_PSK_IDENTITY',
    'GEISA_SERVER_PSK_FILE',
    'GEISA_SERVER_PSK_HEX',
    'GEISA_EST_DNS_SERVER',
    'GEISA_EST_DOMAIN',
    'GEISA_EST_TRUST_FILE',
  ])
    delete env[name];
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
    const body = privateKeyPem
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length >= 16 && !l.startsWith('-----'));
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
