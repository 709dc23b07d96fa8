/**
 * Start-up of the command line: `geisa-adm --help` and `geisa-adm list` against a bare
 * `node -e 0`, each spawned `rounds` times, interleaved so all three see the same load;
 * medians of wall time.
 */
import { spawnSync } from 'node:child_process';
import { median, round } from './stats.js';

export interface StartupFigure {
  rounds: number;
  medianMs: { bareNode: number; help: number; list: number };
}

export function measureStartup(cliPath: string, cwd: string, rounds: number): StartupFigure {
  const runs = { bareNode: ['-e', '0'], help: [cliPath, '--help'], list: [cliPath, 'list'] };
  const times: Record<keyof typeof runs, number[]> = { bareNode: [], help: [], list: [] };
  for (let i = 0; i < rounds; i++) {
    for (const [name, args] of Object.entries(runs) as [keyof typeof runs, string[]][]) {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, args, { cwd, stdio: 'ignore', timeout: 60_000 });
      if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${r.status ?? r.signal}`);
      times[name].push(performance.now() - t0);
    }
  }
  return { rounds, medianMs: { bareNode: round(median(times.bareNode)), help: round(median(times.help)), list: round(median(times.list)) } };
}
