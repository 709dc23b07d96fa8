/**
 * Secrets never leave the recorder in clear: a secret resource value (Security /0/x/5,
 * later private keys) is replaced by its length and fingerprint in the decoded form, and
 * its bytes are overwritten in the raw form. The harness also registers every secret it
 * writes itself, so a secret is scrubbed even from a datagram that fails to decode.
 */
import { fingerprint } from '../profile/fingerprint.js';

/** The encodings under which a secret may travel inside a CoAP payload. */
function encodings(secret: Buffer): Buffer[] {
  const forms = [secret, Buffer.from(secret.toString('base64url'), 'ascii'), Buffer.from(secret.toString('base64'), 'ascii'), Buffer.from(secret.toString('hex'), 'ascii'), Buffer.from(secret.toString('hex').toUpperCase(), 'ascii')];
  // Very short secrets would match by chance and blank innocent bytes; 4 bytes is the floor.
  return forms.filter((f) => f.length >= 4);
}

export class SecretScrubber {
  private readonly secrets: Buffer[] = [];

  add(secret: Buffer): void {
    if (secret.length === 0) return;
    if (!this.secrets.some((s) => s.equals(secret))) this.secrets.push(Buffer.from(secret));
  }

  has(value: Buffer): boolean {
    return this.secrets.some((s) => s.equals(value));
  }

  /** Returns a copy of bytes with every known secret (in any encoding) overwritten by zeros. */
  scrub(bytes: Buffer, extra: Buffer[] = []): { bytes: Buffer; count: number } {
    const out = Buffer.from(bytes);
    let count = 0;
    for (const secret of [...this.secrets, ...extra]) {
      for (const form of encodings(secret)) {
        let at = out.indexOf(form);
        while (at >= 0) {
          out.fill(0, at, at + form.length);
          count += 1;
          at = out.indexOf(form, at + form.length);
        }
      }
    }
    return { bytes: out, count };
  }

  /** Replaces any known secret found as a string or Buffer inside a text (e.g. an error message). */
  scrubText(text: string): string {
    let out = text;
    for (const secret of this.secrets) {
      for (const form of encodings(secret)) {
        const s = form.toString('latin1');
        if (s.length >= 4 && out.includes(s)) out = out.split(s).join(`<secret ${fingerprint(secret)}>`);
      }
    }
    return out;
  }
}

export function redactedValue(secret: Buffer): string {
  return `<redacted ${fingerprint(secret)}>`;
}
