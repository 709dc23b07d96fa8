/**
 * The JSON Schema files committed next to the code, each derived from its TypeBox schema.
 * write-schemas.ts writes them; test/schema-files.test.ts fails when a committed file
 * differs from what would be written, so the files never drift from the schemas the
 * harness validates with.
 */
import { PROFILE_SCHEMA } from '../harness/profile/schema.js';
import { RESULTS_SCHEMA } from '../harness/reports/results-schema.js';

export interface SchemaFile {
  /** Relative to the repository root. */
  path: string;
  schema: unknown;
}

export const SCHEMA_FILES: readonly SchemaFile[] = [
  { path: 'harness/profile/profile.schema.json', schema: PROFILE_SCHEMA },
  { path: 'harness/reports/results.schema.json', schema: RESULTS_SCHEMA },
];

export function schemaFileText(schema: unknown): string {
  return JSON.stringify(schema, null, 2) + '\n';
}
