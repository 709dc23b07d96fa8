/**
 * Figure 4: the suite's wall time against the protocol waits its cases must observe.
 * `geisa-adm run` is run as a user runs it (a process, the bundled reference device); the
 * waits come from each case's `budget` under the same profile. Cases declare no floor (the
 * least a conformant device lets them finish in), only the budget, which is their longest
 * path with every retransmission: the ratio is taken against the budgets, so it reads
 * "fraction of the allowed protocol time used", not "overhead over the minimum".
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deviceTimers } from '../harness/runner/budget.js';
import { defaultSimulatorProfile } from '../harness/profile/load.js';
import { ALL_CASES } from '../suites/index.js';
import { round } from './stats.js';

export interface SuiteRatioFigure {
  /** The --cases given to the run ('default' for the default selection). */
  selection: string;
  cases: number;
  /** Cases that were judged not applicable wait for nothing and count no budget. */
  notApplicable: number;
  exitCode: number | null;
  verdicts: Record<string, number>;
  wallS: number;
  sumBudgetsS: number;
  /** wall / Σ budgets. */
  ratio: number;
  basis: 'budgets';
  note: string;
}

export async function measureSuiteRatio(cliPath: string, cwd: string, cases: string | undefined): Promise<SuiteRatioFigure> {
  const out = mkdtempSync(join(tmpdir(), 'geisa-bench-suite-'));
  try {
    const args = [cliPath, 'run', '--out', out, ...(cases ? ['--cases', cases] : [])];
    const t0 = performance.now();
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NO_COLOR: '1' } });
      child.on('error', reject);
      child.on('exit', (code) => resolve(code));
    });
    const wallS = (performance.now() - t0) / 1000;
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { cases: { id: string; verdict: string }[] };
    const k = deviceTimers(defaultSimulatorProfile().ixit);
    const byId = new Map(ALL_CASES.map((c) => [c.meta.id, c]));
    const verdicts: Record<string, number> = {};
    let sumMs = 0;
    let notApplicable = 0;
    for (const r of results.cases) {
      verdicts[r.verdict] = (verdicts[r.verdict] ?? 0) + 1;
      if (r.verdict === 'not-applicable') {
        notApplicable += 1;
        continue;
      }
      const c = byId.get(r.id);
      if (!c) throw new Error(`results.json names ${r.id}, which is not in the suite`);
      sumMs += c.budget(k);
    }
    return {
      selection: cases ?? 'default',
      cases: results.cases.length,
      notApplicable,
      exitCode,
      verdicts,
      wallS: round(wallS),
      sumBudgetsS: round(sumMs / 1000),
      ratio: round(wallS / (sumMs / 1000)),
      basis: 'budgets',
      note: 'cases state no floor: the ratio is taken against their budgets (longest path with every retransmission, margin excluded), so below 1 is expected',
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
