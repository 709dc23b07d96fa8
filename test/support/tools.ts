/**
 * External tools (libcoap's clients and servers, openssl, tshark, chromium, pdftotext)
 * come from Debian packages. A developer without them gets skipped tests; CI installs them, so there a
 * missing tool is an error rather than a silently thinner test run.
 */
import { spawnSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';

export function hasTool(bin: string): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
  if (!found && process.env.CI) throw new Error(`${bin} is missing on CI: .ci/run must install its Debian package (see the apt-get line there)`);
  return found;
}

/**
 * Whether this machine has an IPv6 loopback (some containers have none), read once at load
 * time so a test can be skipped by name rather than pass without testing anything.
 */
export function hasIpv6Loopback(): boolean {
  return Object.values(networkInterfaces()).some((addrs) => addrs?.some((a) => a.family === 'IPv6' && a.address === '::1'));
}

/** `test`, or `test.skip` with the reason in its name when `ok` is false. */
export function testIf(ok: boolean, reason: string): (name: string, fn: () => Promise<unknown>, timeout?: number) => void {
  return ok ? (name, fn, timeout) => test(name, fn, timeout) : (name, fn, timeout) => test.skip(`${name} (skipped: ${reason})`, fn, timeout);
}
