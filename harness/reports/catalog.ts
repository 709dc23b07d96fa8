/**
 * The requirement catalog (harness/catalog) as the compliance matrix needs it: every row,
 * so that a requirement no case judged is shown ABSENT rather than left out.
 */
import { createHash } from 'node:crypto';
import { CATALOG_VERSION, GEISA_COMMIT, REQUIREMENT_ROWS, type CatalogRowData } from '../catalog/index.js';

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
  /** GEISA specification commit the catalog was written against. */
  geisaCommit: string | null;
}

/** A catalog of the given rows; `source` names where they come from in the reports. */
export function catalogOf(rows: readonly CatalogRowData[], source: string, geisaCommit: string | null = null): Catalog {
  const sha256 = createHash('sha256').update(JSON.stringify(rows)).digest('hex');
  return { source, sha256, geisaCommit, rows: rows.map((r) => ({ id: r.id, section: r.section, text: r.text, strength: r.strength, conf: r.conf })) };
}

/** The catalog this tool carries. */
export function builtInCatalog(): Catalog {
  return catalogOf(REQUIREMENT_ROWS, `harness/catalog/requirements.ts (catalog ${CATALOG_VERSION})`, GEISA_COMMIT);
}
