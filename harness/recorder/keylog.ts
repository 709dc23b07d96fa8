/**
 * The DTLS key log: the NSS key log lines (`CLIENT_RANDOM <client random> <master secret>`)
 * OpenSSL hands out for every DTLS session of the harness's fake servers, so Wireshark can
 * decrypt the capture. These lines are secrets: whoever holds them reads the session,
 * including the keys a Bootstrap-Server writes. So they are collected only when the run
 * asks (`geisa-adm run --keylog`), kept in memory, never put in an event, a result or a
 * log, and written to one file named SECRETS-dtls-keylog.txt (mode 0600).
 *
 * A run opens a collection around the suite (`withDtlsKeyLog`); every DtlsTransport opened
 * inside that async context hands its sessions' lines to it. Outside one, no transport
 * asks OpenSSL for key material at all.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { join } from 'node:path';
import { writeFileAtomic } from '../events/atomic-write.js';

export const KEYLOG_NAME = 'SECRETS-dtls-keylog.txt';

/** NSS key log format: LABEL, then hex fields. Anything else is not passed through. */
const NSS_LINE = /^[A-Z][A-Z0-9_]* [0-9a-fA-F]+ [0-9a-fA-F]+$/;

export class DtlsKeyLog {
  private readonly lines: string[] = [];
  private readonly seen = new Set<string>();

  /** Bound, so it can be handed to a transport as its keylog callback. */
  readonly add = (line: string): void => {
    const l = line.trim();
    if (!NSS_LINE.test(l) || this.seen.has(l)) return;
    this.seen.add(l);
    this.lines.push(l);
  };

  get size(): number {
    return this.lines.length;
  }

  /** Writes SECRETS-dtls-keylog.txt in outDir (0600, temp file then rename); returns its path. */
  write(outDir: string, runLabel = ''): string {
    const file = join(outDir, KEYLOG_NAME);
    const header = [
      '# SECRETS: DTLS session keys of a geisa-adm run (NSS key log format, written because of --keylog).',
      '# Anyone holding this file can decrypt the DTLS traffic in capture.pcapng, including the keys the',
      '# Bootstrap-Server wrote to the device. Do not hand it out with the report unless that is intended.',
      `# Wireshark: Preferences > Protocols > TLS > (Pre)-Master-Secret log filename; tshark: -o tls.keylog_file:${KEYLOG_NAME}`,
      ...(runLabel ? [`# Run: ${runLabel.replace(/[\r\n]/g, ' ')}`] : []),
      `# Sessions: ${this.lines.length}`,
    ];
    writeFileAtomic(file, [...header, ...this.lines].join('\n') + '\n', { mode: 0o600 });
    return file;
  }
}

const active = new AsyncLocalStorage<DtlsKeyLog>();

/** Runs fn with `log` collecting the key log lines of every DTLS transport opened inside it. */
export function withDtlsKeyLog<T>(log: DtlsKeyLog | undefined, fn: () => T): T {
  return log ? active.run(log, fn) : fn();
}

/** The keylog callback for a transport being opened now: undefined unless a run asked for one. */
export function activeKeyLogSink(): ((line: string) => void) | undefined {
  return active.getStore()?.add;
}
