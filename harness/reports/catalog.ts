/**
 * The requirement catalog (shared/spec/requirements.md, sections A–F) as the compliance
 * matrix needs it: every row, so that a requirement no case judged is shown ABSENT rather
 * than left out. The catalog lives outside the repository; a run without it still reports,
 * with a matrix built from the cases' own requirement references and a note saying so.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../runner/tool-info.js';

export interface CatalogRow {
  id: string;
  /** Section heading, e.g. "A. GEISA ADM (device role)". */
  section: string;
  /** The catalog's paraphrase of the requirement. */
  text: string;
  strength: string;
  /** C, C*, I, O ... as the catalog marks it. */
  conf: string;
}

export interface Catalog {
  source: string;
  sha256: string;
  rows: CatalogRow[];
  /** GEISA specification commit the catalog was written against, when it names one. */
  geisaCommit: string | null;
}

/** ../shared/spec/requirements.md relative to the package root. */
export function defaultCatalogPath(): string {
  return join(packageRoot(), '..', 'shared', 'spec', 'requirements.md');
}

/** null when the file does not exist; a file that exists but has no rows is an error. */
export function loadCatalog(file: string = defaultCatalogPath()): Catalog | null {
  if (!existsSync(file)) return null;
  const text = readFileSync(file, 'utf8');
  const catalog = parseCatalog(text, file);
  if (catalog.rows.length === 0) throw new Error(`${file} has no requirement rows under "## Requirement catalog"`);
  return catalog;
}

export function parseCatalog(text: string, source: string): Catalog {
  const rows: CatalogRow[] = [];
  let inCatalog = false;
  let section: string | null = null;
  for (const line of text.split('\n')) {
    const h2 = /^## (.*)$/.exec(line);
    if (h2) {
      inCatalog = /requirement catalog/i.test(h2[1]!);
      section = null;
      continue;
    }
    const h3 = /^### ([A-F])\. (.*)$/.exec(line);
    if (h3) {
      section = inCatalog ? `${h3[1]}. ${h3[2]!.trim()}` : null;
      continue;
    }
    if (!inCatalog || section === null) continue;
    const row = /^\| ([A-Z][A-Z0-9-]+-\d{2}) \|(.*)\|\s*$/.exec(line);
    if (!row) continue;
    const cells = row[2]!.split(' | ').map((c) => c.trim());
    // ID | Requirement | Source | Strength | Observation | Conf.
    rows.push({ id: row[1]!, section, text: cells[0] ?? '', strength: cells[2] ?? '', conf: cells[cells.length - 1] ?? '' });
  }
  const commit = /\bcommit ([0-9a-f]{7,40})\b/.exec(text.slice(text.indexOf('GEISA:'))) ?? null;
  return { source, sha256: createHash('sha256').update(text).digest('hex'), rows, geisaCommit: text.includes('GEISA:') && commit ? commit[1]! : null };
}
