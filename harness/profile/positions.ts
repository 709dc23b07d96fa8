/** Where in the YAML source a field path is, so every problem can point at file:line:column. */
import type { Document, LineCounter, Node } from 'yaml';
import { yaml } from './lazy-modules.js';
import type { ProfileProblem } from './problems.js';

export interface Place {
  line: number;
  col: number;
}

/** Maps a field path to the place in the YAML source that best shows the problem. */
export class Locator {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** The value at path, or the nearest existing ancestor when the path runs out. */
  value(path: readonly string[]): Place {
    const { value, key } = this.walk(path);
    return this.place(value ?? key);
  }

  /** The key naming the last segment (for unknown keys), or the object holding it. */
  key(path: readonly string[]): Place {
    const { key, value } = this.walk(path);
    return this.place(key ?? value);
  }

  private walk(path: readonly string[]): { value: Node | null; key: Node | null } {
    let value = this.doc.contents as Node | null;
    let key: Node | null = null;
    const { isMap, isScalar, isSeq } = yaml();
    for (const segment of path) {
      if (isMap(value)) {
        const pair = value.items.find((p) => isScalar(p.key) && String(p.key.value) === segment);
        if (!pair) break;
        key = pair.key as Node;
        value = (pair.value as Node | null) ?? null;
      } else if (isSeq(value)) {
        const item = value.items[Number(segment)] as Node | undefined;
        if (!item) break;
        key = null;
        value = item;
      } else {
        break;
      }
    }
    return { value, key };
  }

  private place(node: Node | null): Place {
    const offset = node?.range?.[0];
    return offset === undefined ? { line: 1, col: 1 } : this.lines.linePos(offset);
  }
}

export function sortByPlace(problems: ProfileProblem[]): ProfileProblem[] {
  return [...problems].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
}

/** Where the document's first alias (*name) is, to point a reader at the expansion. */
export function firstAlias(doc: Document, lines: LineCounter): Place | undefined {
  let offset: number | undefined;
  const { visit } = yaml();
  visit(doc, {
    Alias(_key, node) {
      offset = node.range?.[0];
      return visit.BREAK;
    },
  });
  if (offset === undefined) return undefined;
  const pos = lines.linePos(offset);
  return { line: pos.line, col: pos.col };
}

export function firstLine(message: string): string {
  return message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
}
