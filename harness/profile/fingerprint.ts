/**
 * Secrets appear in reports and traces only as fingerprints: enough to tell two keys
 * apart or to confirm the device got the intended one, too little to recover the key.
 */
import { createHash } from 'node:crypto';

export interface SecretFingerprint {
  length: number;
  /** First 8 hex digits of the SHA-256 of the secret bytes. */
  sha256: string;
}

export function fingerprintObject(secret: Buffer): SecretFingerprint {
  return { length: secret.length, sha256: createHash('sha256').update(secret).digest('hex').slice(0, 8) };
}

/** e.g. `sha256:1a2b3c4d (16 bytes)` */
export function fingerprint(secret: Buffer): string {
  const { length, sha256 } = fingerprintObject(secret);
  return `sha256:${sha256} (${length} bytes)`;
}
