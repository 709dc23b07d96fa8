/**
 * The actions a profile defines for its device, and what their templates may say. They sit
 * with the profile, not with the DUT adapters that carry them out, because the loader checks
 * every template when the profile is read (and the profile layer imports no adapter).
 *
 * Placeholders: `{name}` is a placeholder when name is an identifier; `${name}` is left alone because it
 * is the shell's own parameter expansion, and `{ x }` (with spaces) stays literal for
 * commands such as awk programs that need braces (so does `\{x}` in exec commands).
 * Any other `{name}` must be a known placeholder: a misspelt one would otherwise reach
 * the device as literal text.
 */

/**
 * changeAddress: while it keeps running, the device's source address or port as the
 * servers see it changes (a new IP address, a modem reconnect, a NAT rebinding); optional,
 * only the cases of an address change (GEISA-ADM-REG-03) need it.
 */
export type DutAction = 'provision' | 'start' | 'stop' | 'reboot' | 'factoryReset' | 'changeAddress';

export const DUT_ACTIONS: readonly DutAction[] = ['provision', 'start', 'stop', 'reboot', 'factoryReset', 'changeAddress'];

export const TEMPLATE_PLACEHOLDERS = ['bsUri', 'bsHost', 'bsPort', 'endpoint', 'stateDir', 'serverUri', 'serverSsid', 'serverLifetime', 'estDnsServer', 'estDomain'] as const;

export type TemplatePlaceholder = (typeof TEMPLATE_PLACEHOLDERS)[number];

/** exec templates go through a shell and get quoted values; manual text is shown verbatim. */
export type TemplateMode = 'shell' | 'text';

export interface PlaceholderUse {
  name: string;
  start: number;
  end: number;
  /** The template author put quotes around it, which would defeat (or double) our quoting. */
  insideQuotes: boolean;
}

const IDENTIFIER_IN_BRACES = /\{([A-Za-z_][A-Za-z0-9_]*)\}/y;

function isPlaceholder(name: string): name is TemplatePlaceholder {
  return (TEMPLATE_PLACEHOLDERS as readonly string[]).includes(name);
}

export function findPlaceholders(template: string, mode: TemplateMode): PlaceholderUse[] {
  const uses: PlaceholderUse[] = [];
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (mode === 'shell') {
      if (quote === "'") {
        if (c === "'") quote = null;
      } else if (c === '\\') {
        i++;
        continue;
      } else if (quote === '"') {
        if (c === '"') quote = null;
      } else if (c === "'" || c === '"') {
        quote = c;
      }
    }
    if (c !== '{' || template[i - 1] === '$') continue;
    IDENTIFIER_IN_BRACES.lastIndex = i;
    const match = IDENTIFIER_IN_BRACES.exec(template);
    if (!match) continue;
    uses.push({ name: match[1], start: i, end: i + match[0].length, insideQuotes: quote !== null });
    i += match[0].length - 1;
  }
  return uses;
}

const KNOWN_LIST = TEMPLATE_PLACEHOLDERS.map((name) => `{${name}}`).join(' ');

/** Problems with a template, as sentences; empty when it can be expanded. Used at profile load. */
export function templateProblems(template: string, mode: TemplateMode): string[] {
  const problems: string[] = [];
  for (const use of findPlaceholders(template, mode)) {
    if (!isPlaceholder(use.name)) {
      problems.push(`unknown placeholder {${use.name}} (known: ${KNOWN_LIST}; write "{ ${use.name} }" with spaces for literal braces)`);
    } else if (mode === 'shell' && use.insideQuotes) {
      problems.push(`placeholder {${use.name}} is inside quotes; remove them, the harness quotes the value itself`);
    }
  }
  return problems;
}
