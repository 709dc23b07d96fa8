/**
 * The commit a report names, and when it says `-dirty`: only when what judged differs from
 * the commit. A rewritten package-lock.json (npm install does that) or an edited test or
 * doc leaves it clean; an edited or new source file does not.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SOURCE_PATHS, gitCommit, sourcesDirty } from '../harness/runner/tool-info.js';

let repo: string;
let head: string;

function git(...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] })
    .toString()
    .trim();
}

function write(file: string, text: string): void {
  mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
  writeFileSync(path.join(repo, file), text);
}

beforeEach(() => {
  repo = mkdtempSync(path.join(tmpdir(), 'geisa-toolinfo-'));
  git('init', '-q');
  write('package.json', '{"name":"x"}\n');
  write('package-lock.json', '{"lockfileVersion":3}\n');
  write('tsconfig.json', '{}\n');
  write('.gitignore', 'dist/\n');
  write('harness/runner/a.ts', 'export const a = 1;\n');
  write('suites/bootstrap/bs-01.ts', 'export const c = 1;\n');
  write('test/a.test.ts', 'test("x", () => {});\n');
  write('docs/a.md', '# a\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'init');
  head = git('rev-parse', 'HEAD');
});

afterEach(() => rmSync(repo, { recursive: true, force: true }));

test('a fresh checkout names its commit without -dirty', () => {
  expect(sourcesDirty(repo)).toBe(false);
  expect(gitCommit(repo)).toBe(head);
});

test('a rewritten package-lock.json, an edited test or doc and build output leave it clean', () => {
  write('package-lock.json', '{"lockfileVersion":3,"packages":{"node_modules/@unrs/resolver-binding-linux-x64-gnu":{}}}\n');
  write('test/a.test.ts', 'test("y", () => {});\n');
  write('docs/a.md', '# b\n');
  write('docs/new.md', '# new\n');
  write('dist/harness/runner/a.js', 'export const a = 2;\n');
  expect(git('status', '--porcelain')).not.toBe('');
  expect(gitCommit(repo)).toBe(head);
});

test.each([
  ['an edited harness file', 'harness/runner/a.ts'],
  ['an edited case', 'suites/bootstrap/bs-01.ts'],
  ['an edited package.json', 'package.json'],
  ['a new case not yet committed', 'suites/bootstrap/bs-99.ts'],
  ['a new reference-device file', 'fixtures/device/defects/x.ts'],
])('%s makes it -dirty', (_what, file) => {
  write(file, 'changed\n');
  expect(gitCommit(repo)).toBe(`${head}-dirty`);
});

test('a staged change to a source counts as much as an unstaged one', () => {
  write('harness/runner/a.ts', 'export const a = 3;\n');
  git('add', 'harness/runner/a.ts');
  expect(sourcesDirty(repo)).toBe(true);
});

test('the source paths are the code that judges, and the lock file is not one of them', () => {
  expect(SOURCE_PATHS).toEqual(expect.arrayContaining(['bin', 'harness', 'suites', 'fixtures']));
  expect(SOURCE_PATHS).not.toContain('package-lock.json');
});

test('outside a git checkout there is no commit to name', () => {
  const bare = mkdtempSync(path.join(tmpdir(), 'geisa-nogit-'));
  try {
    // GIT_CEILING_DIRECTORIES keeps git from finding a repository above the temp dir.
    const saved = process.env['GIT_CEILING_DIRECTORIES'];
    process.env['GIT_CEILING_DIRECTORIES'] = path.dirname(bare);
    try {
      expect(gitCommit(bare)).toBeNull();
    } finally {
      if (saved === undefined) delete process.env['GIT_CEILING_DIRECTORIES'];
      else process.env['GIT_CEILING_DIRECTORIES'] = saved;
    }
  } finally {
    rmSync(bare, { recursive: true, force: true });
  }
});
