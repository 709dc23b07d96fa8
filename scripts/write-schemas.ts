/**
 * Regenerates the committed JSON Schema files from their TypeBox sources:
 *   npm run schemas
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCHEMA_FILES, schemaFileText } from './schemas.js';

const root = process.cwd();
for (const { path, schema } of SCHEMA_FILES) {
  const file = join(root, path);
  const text = schemaFileText(schema);
  let old: string | undefined;
  try {
    old = readFileSync(file, 'utf8');
  } catch {
    old = undefined;
  }
  if (old === text) {
    console.log(`${path}: unchanged`);
  } else {
    writeFileSync(file, text);
    console.log(`${path}: written`);
  }
}
