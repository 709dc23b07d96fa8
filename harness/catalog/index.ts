/** Looks rows up and answers at what level a check citing one is judged. */
import { CATALOG_VERSION, GEISA_COMMIT, REQUIREMENT_ROWS } from './requirements.js';
import { type CatalogRowData, type Level, LEVEL_RANK } from './types.js';

export { CATALOG_VERSION, GEISA_COMMIT, REQUIREMENT_ROWS };
export { type CatalogRowData, type Level, LEVEL_RANK, isMandatory } from './types.js';

const BY_ID = new Map(REQUIREMENT_ROWS.map((r) => [r.id, r]));

export function catalogRow(id: string): CatalogRowData | undefined {
  return BY_ID.get(id);
}

/**
 * The level a check of `rowId` is judged at: `chosen` when the row carries it (a row such
 * as "SHALL / SHOULD" holds two obligations), else the row's main level.
 */
export function judgedLevel(rowId: string, chosen?: Level): Level {
  const row = BY_ID.get(rowId);
  if (!row) throw new Error(`requirement row ${rowId} is not in the catalog (harness/catalog/requirements.ts)`);
  if (chosen === undefined) return row.levels[0]!;
  if (!row.levels.includes(chosen)) throw new Error(`requirement row ${rowId} is ${row.levels.join(' / ')}; a check cannot judge it at ${chosen}`);
  return chosen;
}

/** The strongest main level among rows: what a case citing them is listed as. */
export function strongestLevel(rowIds: readonly string[]): Level {
  let best: Level = 'OPEN';
  for (const id of rowIds) {
    const l = judgedLevel(id);
    if (LEVEL_RANK[l] > LEVEL_RANK[best]) best = l;
  }
  return best;
}

/** "C", "I (x)", "C* / I": true when the row is known only by inference. */
export function inferredOnly(conf: string): boolean {
  return conf
    .replace(/\([^)]*\)/g, '')
    .split('/')
    .map((s) => s.trim())
    .filter(Boolean)
    .every((token) => token === 'I');
}
