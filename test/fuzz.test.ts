/**
 * The fuzzer (fuzz/, `npm run fuzz`) runs a few seconds against a running case: the
 * harness stays alive, the case ends with a verdict, and the run says so. Spawned from
 * dist/ as `npm run fuzz` does (the reference device runs from there too).
 */
import { join } from 'node:path';
import { parseArgs } from '../fuzz/main.js';
import { runNode } from './support/cli-child.js';

const SECONDS = Number(process.env['GEISA_FUZZ_SECONDS']) || 3;

const runFuzz = (args: string[], boundMs: number) => runNode(['--expose-gc', join(process.cwd(), 'dist', 'fuzz', 'main.js'), ...args], boundMs, 'fuzz');

describe('npm run fuzz', () => {
  test(`a ${SECONDS} s seeded run ends alive, every case with a verdict`, async () => {
    const { status: code, stdout, stderr } = await runFuzz(['--seconds', String(SECONDS), '--seed', '13'], 120_000);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^fuzz: seed 13 \(replay: npm run fuzz -- --seconds \d+ --seed 13\)/);
    const cases = stdout.split('\n').filter((l) => l.startsWith('case '));
    expect(cases.length).toBeGreaterThan(0);
    for (const line of cases) expect(line).toMatch(/^case \d+ TC-[A-Z]+-\d+ \(.*\): (pass|fail|inconclusive|not-applicable) in /);
    expect(stdout).toMatch(/crashes: 0, unhandled rejections: 0, without verdict: 0, in error: 0/);
    expect(stdout).toMatch(/RSS: \d+ MB at start, .* growth -?\d+\.\d MB \(limit 50 MB\)/);
    expect(stdout).toContain('fuzz: OK');
    expect(code).toBe(0);
  }, 150_000);

  test('a bad flag is a usage error naming it', async () => {
    expect(() => parseArgs(['--seconds', 'ten'])).toThrow("--seconds takes a positive number, not 'ten'");
    expect(() => parseArgs(['--speed', '3'])).toThrow("unknown argument '--speed'");
    expect(parseArgs(['--seconds=2', '--seed', '5', '--rate', '100'])).toEqual({ seconds: 2, seed: 5, rate: 100 });
    const { status: code, stderr } = await runFuzz(['--seconds', '0'], 30_000);
    expect(code).toBe(2);
    expect(stderr).toBe("fuzz: --seconds takes a positive number, not '0'\n");
  }, 60_000);
});
