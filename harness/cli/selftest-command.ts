/**
 * `geisa-adm selftest`: the self-validation matrix (harness/selftest/matrix.ts) against the
 * bundled reference device, printed as a defect × case table. Exit 0 only when the
 * reference device passes every case, every declared break is killed and no defect
 * touches a case it declares to leave alone. `--full` adds every other defect × case
 * cell, for information (it takes long: outside CI).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ALL_CASES } from '../../suites/index.js';
import { DEFECTS } from '../../fixtures/device/defects.js';
import { bundledDevice } from '../../fixtures/simulator/simulator-adapter.js';
import { EXIT } from '../runner/exit-code.js';
import { DEFAULT_CONCURRENCY, explainCell, runMatrix, type MatrixDefect } from '../selftest/matrix.js';
import { renderMatrix } from '../selftest/render.js';
import { filterByGlobs, selectCases, UsageError } from './select.js';

export interface SelftestArgs {
  cases?: string;
  tags?: string;
  defects?: string;
  full: boolean;
  concurrency?: number;
  /** Skip the reference-device row (only the defects). */
  noReference?: boolean;
  json: boolean;
  /** Where to write matrix.json (and nothing else). */
  out?: string;
}

export async function selftestCommand(args: SelftestArgs, out: NodeJS.WriteStream = process.stdout, err: NodeJS.WriteStream = process.stderr): Promise<number> {
  let cases;
  let defects: MatrixDefect[];
  try {
    cases = selectCases(ALL_CASES, args.cases, args.tags);
    defects = filterByGlobs(DEFECTS, (d) => d.name, args.defects, '--defects');
    if (args.concurrency !== undefined && !(Number.isInteger(args.concurrency) && args.concurrency >= 1)) throw new UsageError(`--concurrency must be a whole number >= 1, got ${args.concurrency}`);
  } catch (e) {
    if (e instanceof UsageError) {
      err.write(`error: ${e.message}\n`);
      return EXIT.USAGE;
    }
    throw e;
  }

  const abort = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (abort.signal.aborted) process.exit(EXIT.ERROR);
    err.write(`\n${sig}: stopping the running cells and their devices (again to force quit)\n`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let result;
  try {
    result = await runMatrix({
      cases,
      createDevice: bundledDevice,
      defects,
      scope: args.full ? 'full' : 'declared',
      reference: !args.noReference,
      concurrency: args.concurrency ?? DEFAULT_CONCURRENCY,
      signal: abort.signal,
      onCell: args.json ? undefined : (cell, done, total) => err.write(`[${done}/${total}] ${cell.ok ? '' : 'NOT OK '}${explainCell(cell).slice(0, 200)}\n`),
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (args.out) {
    const dir = resolve(args.out);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'matrix.json'), JSON.stringify(result, null, 2) + '\n');
  }
  out.write(
    args.json
      ? JSON.stringify(result, null, 2) + '\n'
      : '\n' +
          renderMatrix(
            result,
            ALL_CASES.map((c) => c.meta.id),
          ),
  );
  if (result.interrupted) return EXIT.ERROR;
  return result.ok ? EXIT.OK : EXIT.FAILED;
}
