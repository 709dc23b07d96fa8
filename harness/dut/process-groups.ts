/**
 * Process groups: each exec command runs as the leader of its own group, so the whole
 * group (whatever the vendor tool forked) can be signalled and waited for as one.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';

/**
 * Process groups and secret folders of every adapter in this process, for the one path no
 * dispose() runs on: process.exit (a second Ctrl-C, a fatal harness error). The exit hook
 * can only do synchronous work: SIGKILL the groups, remove the folders.
 */
const live = { groups: new Set<number>(), secretDirs: new Set<string>(), hooked: false };
function onProcessExit(): void {
  for (const pgid of live.groups) signalGroup(pgid, 'SIGKILL');
  for (const dir of live.secretDirs) rmSync(dir, { recursive: true, force: true });
}
export function trackAtExit(kind: 'groups' | 'secretDirs', value: number | string): void {
  (live[kind] as Set<number | string>).add(value);
  if (!live.hooked) {
    live.hooked = true;
    process.once('exit', onProcessExit);
  }
}

export function untrackAtExit(kind: 'groups' | 'secretDirs', value: number | string): void {
  (live[kind] as Set<number | string>).delete(value);
}

export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: already gone.
  }
}

export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return hasLivingMember(pgid);
}

/**
 * kill(-pgid, 0) also succeeds for zombies, and orphans become zombies for good where PID 1
 * does not reap (many containers). On Linux, look at the members' states instead.
 */
function hasLivingMember(pgid: number): boolean {
  // The group leader (the shell, or what it exec'd) is most often the one still running:
  // finding it alive spares a scan of every process on the machine.
  if (memberState(String(pgid), pgid) === 'alive') return true;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return true;
  }
  for (const pid of pids) if (memberState(pid, pgid) === 'alive') return true;
  return false;
}

/** Whether process `pid` is a living member of group `pgid` (not a zombie), from /proc. */
function memberState(pid: string, pgid: number): 'alive' | 'not' {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 'not';
  }
  // "pid (comm) state ppid pgrp ..."; comm may contain spaces and parentheses.
  const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(pgrp) === pgid && state !== 'Z' && state !== 'X' ? 'alive' : 'not';
}

export async function waitGroupGone(pgid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  // Short at first (a process that handles SIGTERM is usually gone within a few ms), then
  // longer: each look may scan /proc, which costs the harness CPU on a busy machine.
  let pauseMs = 10;
  while (groupAlive(pgid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, Math.min(pauseMs, Math.max(1, deadline - Date.now()))));
    pauseMs = Math.min(pauseMs * 2, 100);
  }
  return true;
}
