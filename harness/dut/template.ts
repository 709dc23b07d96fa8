/**
 * Placeholder expansion for profile actions. Which `{name}` is a placeholder, and where one
 * may stand, is decided in harness/profile/actions.ts (the profile loader checks it there).
 */
import { findPlaceholders, templateProblems, type DutAction, type TemplateMode, type TemplatePlaceholder } from '../profile/actions.js';
import { AdapterError, type ActionParams } from './adapter.js';

/** POSIX single-quoting: the only character that needs care inside '...' is ' itself. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function expandTemplate(template: string, params: ActionParams, action: DutAction, mode: TemplateMode): string {
  const problems = templateProblems(template, mode);
  if (problems.length > 0) throw new AdapterError(action, `bad template "${template}": ${problems.join('; ')}`);
  let out = '';
  let from = 0;
  for (const use of findPlaceholders(template, mode)) {
    const raw = params[use.name as TemplatePlaceholder];
    const value = raw === undefined ? '' : String(raw);
    out += template.slice(from, use.start) + (mode === 'shell' ? shellQuote(value) : value);
    from = use.end;
  }
  return out + template.slice(from);
}

/**
 * Whether an action can hand the device a server account: its template names {serverUri}
 * (exec commands may instead read $GEISA_SERVER_URI from the environment).
 */
export function templateTakesServerAccount(template: string, mode: TemplateMode): boolean {
  if (findPlaceholders(template, mode).some((use) => use.name === 'serverUri')) return true;
  return mode === 'shell' && /\$\{?GEISA_SERVER_URI\b/.test(template);
}
