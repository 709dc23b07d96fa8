/**
 * Schema errors as sentences: ajv's errors against PROFILE_SCHEMA rephrased for whoever
 * wrote the profile by hand (what the field must be, what was found, a near-miss key).
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { ajv } from './lazy-modules.js';
import { ICS_KEYS } from './ics-registry.js';
import type { Locator } from './positions.js';
import type { ProfileProblem } from './problems.js';
import { HEX_PATTERN, PROFILE_SCHEMA } from './schema.js';

type SchemaNode = Record<string, unknown>;

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  // verbose: each error carries its schema node, from which the expectation is phrased.
  compiled ??= new (ajv().default)({ allErrors: true, verbose: true, strictTypes: false }).compile(PROFILE_SCHEMA);
  return compiled;
}

export function validateAgainstSchema(data: unknown, where: Locator): ProfileProblem[] {
  const validate = validator();
  if (validate(data)) return [];
  const problems: ProfileProblem[] = [];
  const seen = new Set<string>();
  for (const error of validate.errors ?? []) {
    const problem = describeError(error, data, where);
    if (!problem) continue;
    const id = `${problem.path}\u0000${problem.text}`;
    if (seen.has(id)) continue;
    seen.add(id);
    problems.push(problem);
  }
  return problems;
}

const VALUE_KEYWORDS = new Set(['type', 'const', 'enum', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'pattern']);

function describeError(error: ErrorObject, data: unknown, where: Locator): ProfileProblem | undefined {
  // Branch failures inside oneOf are summarised by the oneOf error itself, and an `if`
  // failure only says which branch was taken.
  if (error.schemaPath.includes('/oneOf/') || error.keyword === 'if') return undefined;
  const path = pointerToSegments(error.instancePath);
  const parentSchema = (error.parentSchema ?? {}) as SchemaNode;

  if (VALUE_KEYWORDS.has(error.keyword)) {
    if (path.length === 0) {
      return { ...where.value(path), path: '', text: 'the profile must be a mapping of keys to values' };
    }
    const shown = displayPath(path);
    return {
      ...where.value(path),
      path: shown,
      text: `${shown} must be ${expectation(parentSchema)}${gotSuffix(path, error.data, parentSchema)}`,
    };
  }

  switch (error.keyword) {
    case 'required': {
      const missing = (error.params as { missingProperty: string }).missingProperty;
      const full = [...path, missing];
      const shown = displayPath(full);
      const propertySchema = ((parentSchema.properties ?? {}) as Record<string, SchemaNode>)[missing];
      let text = `${shown} is required`;
      if (propertySchema && 'const' in propertySchema) text += ` (set it to ${JSON.stringify(propertySchema.const)})`;
      if (error.schemaPath.includes('/then/')) text += ` when adapter.kind is ${JSON.stringify(adapterKindOf(data))}`;
      return { ...where.key(path), path: shown, text };
    }
    case 'additionalProperties': {
      const extra = (error.params as { additionalProperty: string }).additionalProperty;
      const full = [...path, extra];
      const shown = displayPath(full);
      const known = Object.keys((parentSchema.properties ?? {}) as SchemaNode);
      return { ...where.key(full), path: shown, text: unknownKeyText(path, extra, shown, known) };
    }
    case 'oneOf': {
      const shown = displayPath(path);
      const branches = (parentSchema.oneOf ?? []) as SchemaNode[];
      const alternatives = branches.map((b) => (b.required as string[] | undefined)?.[0]).filter(Boolean);
      const text = alternatives.length === branches.length ? `${shown} must have exactly one of ${alternatives.map((a) => JSON.stringify(a)).join(' or ')}` : `${shown} does not match any allowed form`;
      return { ...where.value(path), path: shown, text };
    }
    case 'dependencies': {
      const { property, missingProperty } = error.params as { property: string; missingProperty: string };
      const full = [...path, property];
      const shown = displayPath(full);
      return { ...where.key(full), path: shown, text: `${shown} is only allowed together with "${missingProperty}"` };
    }
    default: {
      const shown = displayPath(path);
      return { ...where.value(path), path: shown, text: `${shown || 'the profile'} ${error.message ?? 'is invalid'}` };
    }
  }
}

function unknownKeyText(parent: string[], extra: string, shown: string, known: string[]): string {
  const suggestion = closest(extra, parent.length === 1 && parent[0] === 'ics' ? ICS_KEYS : known);
  const hint = suggestion ? ` (did you mean "${suggestion}"?)` : '';
  if (parent.length === 1 && parent[0] === 'ics') return `${shown} is not a known ICS key${hint}`;
  if (parent.length === 0) return `unknown top-level key "${extra}"${hint || ` (known: ${known.join(', ')})`}`;
  return `${shown} is not a known key${hint || ` (known: ${known.join(', ')})`}`;
}

/** Phrase what a schema node accepts, e.g. "a number > 0", "an integer from 0 to 65535". */
function expectation(schema: SchemaNode): string {
  if ('const' in schema) return JSON.stringify(schema.const);
  if (Array.isArray(schema.enum)) return `one of ${schema.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  switch (schema.type) {
    case 'number':
    case 'integer': {
      const noun = schema.type === 'integer' ? 'an integer' : 'a number';
      const { minimum, maximum, exclusiveMinimum } = schema as Record<string, number | undefined>;
      if (minimum !== undefined && maximum !== undefined) return `${noun} from ${minimum} to ${maximum}`;
      if (exclusiveMinimum !== undefined) return `${noun} > ${exclusiveMinimum}`;
      if (minimum !== undefined) return `${noun} >= ${minimum}`;
      return noun;
    }
    case 'string':
      if (schema.pattern === HEX_PATTERN) {
        return 'a string of hex digits, two per byte';
      }
      if (typeof schema.pattern === 'string') return `a string matching /${schema.pattern}/`;
      return schema.minLength ? 'a non-empty string' : 'a string';
    case 'boolean':
      return 'true or false';
    case 'object':
      return 'a mapping of keys to values';
    default:
      return 'valid';
  }
}

function gotSuffix(path: string[], value: unknown, schema: SchemaNode): string {
  if (path[0] === 'secrets') return '';
  const quoteHint = schema.type === 'string' && (typeof value === 'number' || typeof value === 'boolean') ? '; YAML read it as a ' + typeof value + ', put it in quotes' : '';
  return ` (got ${renderValue(value)}${quoteHint})`;
}

function renderValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function adapterKindOf(data: unknown): unknown {
  return (data as { adapter?: { kind?: unknown } } | null)?.adapter?.kind;
}

function pointerToSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** `ixit.coap.ackTimeoutS`; keys that are not identifiers (ICS keys) in brackets. */
export function displayPath(path: readonly string[]): string {
  return path.reduce((acc, seg) => (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(seg) ? (acc ? `${acc}.${seg}` : seg) : `${acc}[${JSON.stringify(seg)}]`), '');
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
