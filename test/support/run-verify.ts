/**
 * `geisa-adm run` of the shortest case then `geisa-adm verify` of its report, `times`
 * over, three at a time, through the built CLI (rebuild dist/ first). One line per pair.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

const CLI = resolve('dist/bin/geisa-adm.js');
const env = { ...process.env, NO_COLOR: '1' };

/** What a line says when both the run and its verify exited 0. */
export const RUN_VERIFY_OK = /exit 0, verify exit 0: all \d+ report files match the manifest/;

export async function runThenVerify(dir: string, times: number): Promise<string[]> {
  const runOnce = (i: number) =>
    new Promise<string>((resolveRun) => {
      const out = join(dir, `out-${i}`);
      // TC-BS-01 is the shortest case against the reference device.
      const run = spawn(process.execPath, [CLI, 'run', '--cases', 'TC-BS-01', '--out', out], { env, stdio: 'ignore' });
      const timer = setTimeout(() => run.kill('SIGKILL'), 60_000);
      run.on('exit', (code) => {
        clearTimeout(timer);
        const verify = spawnSync(process.execPath, [CLI, 'verify', out], { env, encoding: 'utf8', timeout: 30_000 });
        resolveRun(`run ${i}: exit ${code}, verify exit ${verify.status}: ${verify.stdout.trim()} ${verify.stderr.trim()}`);
      });
    });
  const started = Date.now();
  const lines: string[] = [];
  for (let i = 0; i < times; i += 3) lines.push(...(await Promise.all([i, i + 1, i + 2].filter((n) => n < times).map(runOnce))));
  process.stdout.write(`run+verify x${times}: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return lines;
}
