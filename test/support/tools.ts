/**
 * External tools (libcoap's clients and servers, openssl, tshark, chromium, pdftotext)
 * come from Debian packages. A developer without them gets skipped tests; CI installs them, so there a
 * missing tool is an error rather than a silently thinner test run.
 */
import { spawnSync } from 'node:child_process';

export function hasTool(bin: string): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
  if (!found && process.env.CI) throw new Error(`${bin} is missing on CI: .ci/run must install its Debian package (see the apt-get line there)`);
  return found;
}
