import { readFileSync } from 'node:fs';
import { SCHEMA_FILES, schemaFileText } from '../scripts/schemas.js';

// Editors and other tools read the committed JSON files; the harness validates with the
// TypeBox schemas. `npm run schemas` rewrites the files after a schema change.
describe('committed JSON Schema files', () => {
  test.each(SCHEMA_FILES.map((f) => [f.path, f.schema] as const))('%s is what npm run schemas writes', (path, schema) => {
    const committed = readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
    expect(committed).toBe(schemaFileText(schema));
  });
});
