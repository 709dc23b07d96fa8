/**
 * The layer boundaries of eslint.config.js catch an upward import and let a downward one
 * through. Sources are linted as text under a path inside the tree (no file is written),
 * so the rules that apply are exactly those `npm run lint` applies to that folder.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const eslint = new ESLint({ cwd: root });
const probe = `lint-probe-${process.pid}`;

async function lint(file: string, text: string): Promise<ESLint.LintResult['messages']> {
  const [result] = await eslint.lintText(text, { filePath: path.join(root, file) });
  return result.messages;
}

function boundaryMessages(messages: ESLint.LintResult['messages']): string[] {
  return messages.filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === 'no-restricted-syntax').map((m) => m.message);
}

test('a bottom-layer file importing the runner is an error naming both layers', async () => {
  const messages = await lint(`harness/coap/${probe}.ts`, `import { runCase } from '../runner/run-case.js';\n\nexport const probe = runCase;\n`);
  expect(boundaryMessages(messages)).toEqual([expect.stringMatching(/harness\/coap \(layer "wire"\) may not import harness\/runner \(layer "runner"\)/)]);
  expect(messages[0].severity).toBe(2);
});

test('a type-only or dynamic upward import is caught too', async () => {
  const typed = await lint(`harness/dut/${probe}.ts`, `import type { RunOptions } from '../runner/runner.js';\n\nexport type Probe = RunOptions;\n`);
  expect(boundaryMessages(typed)).toEqual([expect.stringContaining('harness/dut (layer "transport") may not import harness/runner')]);
  const dynamic = await lint(`harness/servers/${probe}.ts`, `export const probe = await import('../../suites/index.js');\n`);
  expect(boundaryMessages(dynamic)).toEqual([expect.stringContaining('harness/servers (layer "servers") may not import suites (layer "cases and outputs")')]);
});

test('a downward import, and one within a layer, pass', async () => {
  const messages = await lint(`harness/runner/${probe}.ts`, `import { Inbox } from '../coap/inbox.js';\nimport { runCase } from './run-case.js';\n\nexport const probe = [Inbox, runCase];\n`);
  expect(messages).toEqual([]);
  const nested = await lint(`suites/bootstrap/${probe}.ts`, `import type { ConformanceCase } from '../../harness/runner/case.js';\n\nexport type Probe = ConformanceCase;\n`);
  expect(nested).toEqual([]);
});

test('the reference device reaches only codecs and the DTLS client, and the harness never reaches it', async () => {
  const device = await lint(`fixtures/device/${probe}.ts`, `import { OPTION } from '../../harness/coap/message.js';\nimport * as server from '../../harness/servers/lwm2m-server.js';\n\nexport const probe = [OPTION, server];\n`);
  expect(boundaryMessages(device)).toEqual([expect.stringContaining('fixtures/device (layer "device") may not import harness/servers')]);
  const runner = await lint(`harness/runner/${probe}.ts`, `import { DEFECTS } from '../../fixtures/device/defects.js';\n\nexport const probe = DEFECTS;\n`);
  expect(boundaryMessages(runner)).toEqual([expect.stringContaining('harness/runner (layer "runner") may not import fixtures/device (layer "device")')]);
  const cli = await lint(`harness/cli/${probe}.ts`, `import { DEFECTS } from '../../fixtures/device/defects.js';\n\nexport const probe = DEFECTS;\n`);
  expect(cli).toEqual([]);
});
