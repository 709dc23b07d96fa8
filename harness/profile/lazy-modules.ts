/**
 * yaml and ajv are needed only to read a profile file; the suites and the budgets reach the
 * profile modules for their types and defaults, so listing the cases does not load them.
 * Both are CommonJS packages: require gives the instance an import would.
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type AjvModule from 'ajv';

const requireHere = createRequire(import.meta.url);
let yamlModule: typeof Yaml | undefined;
let ajvModule: typeof AjvModule | undefined;

export const yaml = (): typeof Yaml => (yamlModule ??= requireHere('yaml') as typeof Yaml);
export const ajv = (): typeof AjvModule => (ajvModule ??= requireHere('ajv') as typeof AjvModule);
