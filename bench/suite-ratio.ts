/**
 * Figure 4: the suite's wall time against the protocol waits its cases must observe.
 * `geisa-adm run` is run as a user runs it (a process, the bundled reference device); the
 * waits come from each case's `floor` under the same profile: the least a conformant device
 * lets the case finish in, from the timers it writes or waits out. Wall / Σ floors reads
 * "the run's time over the protocol time it cannot avoid": above 1 with one case at a
 * time, below 1 when cases run in parallel (their waits overlap). A second figure takes
 * the ratio against the budgets (the longest path with every retransmission): "fraction of
 * the allowed protocol time used".
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
  /** Cases that were judged not applicable wait for nothing and count no floor or budget. */
  notApplicable: number;
  exitCode: number | null;
  verdicts: Record<string, number>;
  wallS: number;
  sumFloorsS: number;
  /** wall / Σ floors; null when the cases judged floor at nothing (no wait of their own on this profile). */
  ratio: number | null;
  basis: 'floors';
  sumBudgetsS: number;
  /** wall / Σ budgets. */
  budgetRatio: number;
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
    let sumFloorsMs = 0;
    let sumBudgetsMs = 0;
    let notApplicable = 0;
    for (const r of results.cases) {
      verdicts[r.verdict] = (verdicts[r.verdict] ?? 0) + 1;
      if (r.verdict === 'not-applicable') {
        notApplicable += 1;
        continue;
      }
      const c = byId.get(r.id);
      if (!c) throw new Error(`results.json names ${r.id}, which is not in the suite`);
      sumFloorsMs += c.floor(k);
      sumBudgetsMs += c.budget(k);
    }
    return {
      selection: cases ?? 'default',
      cases: results.cases.length,
      notApplicable,
      exitCode,
      verdicts,
      wallS: round(wallS),
      sumFloorsS: round(sumFloorsMs / 1000),
      ratio: sumFloorsMs > 0 ? round(wallS / (sumFloorsMs / 1000)) : null,
      basis: 'floors',
      sumBudgetsS: round(sumBudgetsMs / 1000),
      budgetRatio: round(wallS / (sumBudgetsMs / 1000)),
      note: 'ratio: wall over the floors (the least each case takes on a conformant device, from its timers; cases in parallel overlap their waits, so below 1 is possible); budget ratio: wall over the budgets (longest path with every retransmission, margin excluded)',
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
