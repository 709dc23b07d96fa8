// ESLint: typescript-eslint's recommended rules, and the layer boundaries of the harness
// derived from the one table below (docs/authoring.md points here rather than copying it).
import { readdirSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const ROOT = dirname(fileURLToPath(import.meta.url));

/**
 * The layers, lowest first. Code may import its own layer and any layer listed before it,
 * never one after it: a lower layer that reached up would make every change above it a
 * change below it, and the bottom could no longer be tested (or reused) on its own.
 * `folders` are paths from the project root; the longest one holding a file decides its
 * layer. `mayImport` narrows a layer to the folders listed (besides its own); `importedBy`
 * names the only layers allowed to import it.
 */
export const LAYERS = [
  {
    name: 'wire',
    folders: ['harness/coap', 'harness/lwm2m', 'harness/profile', 'harness/catalog'],
    why: 'message formats, codecs, the DUT profile and the requirement rows: vocabulary every layer speaks, acting on nothing',
  },
  {
    name: 'transport',
    folders: ['harness/dtls', 'harness/pki', 'harness/recorder', 'harness/events', 'harness/dut'],
    why: 'sessions and keys, the record of what crossed the wire (with the result events it writes), and the hands on the device',
  },
  {
    name: 'servers',
    folders: ['harness/servers', 'harness/est'],
    why: 'the fake Bootstrap-Server, Server and EST authority, built on the transport',
  },
  {
    name: 'device',
    folders: ['fixtures/device'],
    mayImport: ['harness/coap', 'harness/lwm2m', 'harness/dtls'],
    importedBy: ['simulator', 'cli', 'programs', 'tests'],
    why: 'the reference device is its own program, the far end of the wire: it shares only codecs and the DTLS client, and the harness never depends on it (a real device has none of it); only the CLI (defect names, the device command), its simulator adapter and tests reach it',
  },
  {
    name: 'simulator',
    folders: ['fixtures/simulator'],
    mayImport: ['harness/profile', 'harness/dut', 'fixtures/device'],
    importedBy: ['cli', 'programs', 'tests'],
    why: "the bundled device as a DUT: the adapter the CLI and the self-test hand to the runner (which knows only harness/dut's interface), and the device host processes it drives",
  },
  {
    name: 'runner',
    folders: ['harness/runner'],
    why: 'runs a case: servers, device actions, budgets and verdicts',
  },
  {
    name: 'cases and outputs',
    folders: ['suites', 'harness/reports', 'harness/selftest'],
    why: 'the cases, the reports made from their results, and the defect-matrix selftest, all on top of the runner',
  },
  {
    name: 'cli',
    folders: ['harness/cli'],
    why: 'the commands: argument handling over everything below',
  },
  {
    name: 'programs',
    folders: ['bin', 'fuzz', 'bench'],
    why: 'entry points and tools, each a program of its own',
  },
  {
    name: 'tests',
    folders: ['test'],
    why: 'tests may reach anything',
  },
];

/** Upward imports kept on purpose until a larger redesign; each names the reason. */
// Upward imports allowed by name, each with its reason. None today: the simulator adapter,
// which used to sit in harness/dut reading the device's variants table, is fixtures/simulator.
const KNOWN_EXCEPTIONS = [];

/** Where source lives; every folder below them that holds code must be in a layer. */
const SOURCE_ROOTS = ['bin', 'harness', 'suites', 'fixtures', 'fuzz', 'bench', 'test'];

const IGNORED = ['dist/**', 'node_modules/**', 'reports/**', 'bench/results/**', 'harness/dtls/native/build/**', '.tmp/**'];

function layerOf(path) {
  let best;
  for (const layer of LAYERS) {
    for (const folder of layer.folders) {
      if ((path === folder || path.startsWith(`${folder}/`)) && (!best || folder.length > best.folder.length)) best = { layer, folder };
    }
  }
  return best;
}

/** Folders (relative to the root) that hold source files, walked once when the config loads. */
function sourceDirs() {
  const found = [];
  const walk = (rel) => {
    const entries = readdirSync(join(ROOT, rel), { withFileTypes: true });
    if (entries.some((e) => e.isFile() && /\.(ts|js|cjs|mjs)$/.test(e.name))) found.push(rel);
    for (const e of entries) {
      if (!e.isDirectory() || e.name.startsWith('.') || e.name === 'node_modules') continue;
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (IGNORED.some((glob) => `${child}/x`.startsWith(glob.replace('**', '')))) continue;
      walk(child);
    }
  };
  for (const root of SOURCE_ROOTS) walk(root);
  // A folder in no layer would go unchecked without anyone noticing: refuse to run instead.
  const unmapped = found.filter((dir) => !layerOf(dir));
  if (unmapped.length > 0) throw new Error(`eslint.config.js: ${unmapped.join(', ')} in no layer: add it to LAYERS`);
  return found;
}

const escapeRegex = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The folders code in `dir` may not import, each with the reason ESLint prints. */
function forbiddenFor(dir) {
  const own = layerOf(dir);
  const rank = LAYERS.indexOf(own.layer);
  const out = [];
  for (const [i, layer] of LAYERS.entries()) {
    if (layer === own.layer) continue;
    for (const folder of layer.folders) {
      let reason;
      if (i > rank) reason = 'a lower layer never imports a higher one';
      else if (layer.importedBy && !layer.importedBy.includes(own.layer.name)) reason = `only ${layer.importedBy.join(', ')} may import layer "${layer.name}"`;
      else if (own.layer.mayImport && !own.layer.mayImport.includes(folder)) reason = `layer "${own.layer.name}" may import only ${own.layer.mayImport.join(', ')}`;
      if (!reason || KNOWN_EXCEPTIONS.some((e) => own.folder === e.from && folder === e.to)) continue;
      out.push({ folder, layer, reason });
    }
  }
  return out;
}

/** One `files` block per source folder: import specifiers are relative, so each folder gets its own spelling. */
function boundaryBlocks() {
  return sourceDirs().map((dir) => {
    const own = layerOf(dir);
    const patterns = forbiddenFor(dir).map(({ folder, layer, reason }) => {
      let rel = posix.normalize(relative(dir, folder).split('\\').join('/'));
      if (!rel.startsWith('.')) rel = `./${rel}`;
      return {
        regex: `^${escapeRegex(rel)}(/|$)`,
        message: `layer boundary: ${own.folder} (layer "${own.layer.name}") may not import ${folder} (layer "${layer.name}"): ${reason}. Layers: eslint.config.js.`,
      };
    });
    const restricted = patterns.length > 0 ? ['error', { patterns }] : 'off';
    const dynamic = patterns.map((p) => ({ selector: `ImportExpression[source.value=/${p.regex.replace(/\//g, '\\/')}/]`, message: p.message }));
    return {
      name: `layers/${dir}`,
      files: [`${dir}/*.{ts,js,cjs,mjs}`],
      rules: {
        'no-restricted-imports': restricted,
        // no-restricted-imports sees only static imports; await import() is checked here.
        'no-restricted-syntax': dynamic.length > 0 ? ['error', ...dynamic] : 'off',
      },
    };
  });
}

const NODE_GLOBALS = Object.fromEntries(['console', 'process', 'Buffer', 'URL', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'require', 'module', '__dirname', '__filename'].map((g) => [g, 'readonly']));

export default defineConfig(
  { ignores: IGNORED },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    name: 'project',
    languageOptions: { globals: NODE_GLOBALS },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Sanitizers and tests match control characters on purpose (device text, ANSI escapes).
      'no-control-regex': 'off',
      // `_name` marks a parameter an interface makes us accept and the body does not need.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // A closure written before the value it reads exists (runCase's emitVerdict and its recorder).
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // `interface A extends B {}` names B in our own vocabulary (DtlsAlert for NativeAlert).
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
    },
  },
  {
    name: 'tests',
    files: ['test/**'],
    // Expected console output is matched column-aligned, spaces as printed.
    rules: { 'no-regex-spaces': 'off' },
  },
  {
    name: 'commonjs',
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    // jest loads its reporter and global setup files through require().
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  ...boundaryBlocks(),
);
