/**
 * External tools (libcoap's clients and servers, openssl, tshark, chromium, pdftotext)
 * come from Debian packages. A developer without them gets skipped tests; CI installs them, so there a
 * missing tool is an error rather than a silently thinner test run.
 */
import { spawnSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';

/** Whether `bin` is on PATH; missing on CI, an error (see above). */
export function hasTool(bin: string): boolean {
  const found = onPath(bin);
  if (!found && process.env.CI) throw new Error(`${bin} is missing on CI: .ci/run must install its Debian package (see the apt-get line there)`);
  return found;
}

/** Whether `bin` is on PATH, for a test that uses whichever of several builds is installed (CI need not have them all). */
export function onPath(bin: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
}

/**
 * Whether this machine has an IPv6 loopback (some containers have none), read once at load
 * time so a test can be skipped by name rather than pass without testing anything.
 */
export function hasIpv6Loopback(): boolean {
  return Object.values(networkInterfaces()).some((addrs) => addrs?.some((a) => a.family === 'IPv6' && a.address === '::1'));
}

type TestBody = Parameters<typeof test>[1];

/**
 * A skipped test or block says why in its name, and on stdout as the file loads, so a
 * thinner run is seen for what it is rather than read as a pass.
 */
function skipping(name: string, reason: string): string {
  process.stdout.write(`skipped: ${name}: ${reason}\n`);
  return `${name} (skipped: ${reason})`;
}

/** `test`, or `test.skip` naming `reason` when `ok` is false. */
export function testIf(ok: boolean, reason: string): (name: string, fn: TestBody, timeout?: number) => void {
  return ok ? (name, fn, timeout) => test(name, fn, timeout) : (name, fn, timeout) => test.skip(skipping(name, reason), fn, timeout);
}

/** `describe`, or `describe.skip` naming `reason` when `ok` is false. */
export function describeIf(ok: boolean, reason: string): (name: string, fn: () => void) => void {
  return ok ? (name, fn) => describe(name, fn) : (name, fn) => describe.skip(skipping(name, reason), fn);
}
