/** The shape of a requirement row and of the levels checks are judged at. */

/**
 * SHALL and MUST are the same level (GEISA writes SHALL, LwM2M and the RFCs MUST); the
 * word is kept so reports quote the source. OPEN: the spec leaves the point open.
 */
export type Level = 'SHALL' | 'MUST' | 'SHOULD' | 'MAY' | 'OPEN';

export interface CatalogRowData {
  id: string;
  /** Section heading, e.g. "A. GEISA ADM (device role)". */
  section: string;
  /** Paraphrase of the requirement. */
  text: string;
  /** Where the normative text is (GEISA file, LwM2M clause, RFC section, object XML). */
  source: string;
  /** The strength as the source writes it, e.g. "SHALL / SHOULD", "MUST (I)", "—". */
  strength: string;
  /** How the harness observes it on the wire and decides. */
  observed: string;
  /** C confirmed from normative text, C* from implementations citing it, I inferred, O open. */
  conf: string;
  /** Levels a check may be judged at, the main one first (see requirements.ts). */
  levels: readonly Level[];
}

export const LEVEL_RANK: Record<Level, number> = { OPEN: 0, MAY: 1, SHOULD: 2, SHALL: 3, MUST: 3 };

export function isMandatory(level: Level): boolean {
  return level === 'SHALL' || level === 'MUST';
}
