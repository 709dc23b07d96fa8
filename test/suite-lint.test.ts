/** The suite's own metadata: ids unique, requirements from the catalog, every case can fail. */
import { ALL_CASES } from '../suites/index.js';
import { REQUIREMENT_ROWS, inferredOnly, LEVEL_RANK } from '../harness/catalog/index.js';
import { DEFECTS } from '../fixtures/device/defects.js';
import type { DefectSpec } from '../fixtures/device/defects/spec.js';
import { ICS_KEYS, ICS_REGISTRY } from '../harness/profile/ics-registry.js';
import { CATALOG_GAPS } from '../suites/catalog-gaps.js';

const catalogIds = () => new Set(REQUIREMENT_ROWS.map((r) => r.id));

describe('suite metadata', () => {
  test('case ids are unique', () => {
    const ids = ALL_CASES.map((c) => c.meta.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('every requirement id a case cites is in the catalog', () => {
    const known = catalogIds();
    expect(known.size).toBeGreaterThan(40);
    for (const c of ALL_CASES) for (const r of c.meta.requirements) expect(`${c.meta.id} ${r.id} ${known.has(r.id)}`).toBe(`${c.meta.id} ${r.id} true`);
  });

  test('every ICS key a case needs is in the registry', () => {
    for (const c of ALL_CASES) if (c.meta.ics) expect(ICS_KEYS).toContain(c.meta.ics);
  });

  test('every SHALL/MUST/SHOULD case is broken by at least one seeded defect', () => {
    const targeted = new Set(DEFECTS.flatMap((d) => d.breaks));
    for (const c of ALL_CASES) if (c.meta.strength !== 'MAY') expect(`${c.meta.id} targeted: ${targeted.has(c.meta.id)}`).toBe(`${c.meta.id} targeted: true`);
  });

  test('defects name only existing cases, and never the same case as broken and left alone', () => {
    const ids = new Set(ALL_CASES.map((c) => c.meta.id));
    for (const d of DEFECTS) {
      for (const id of [...d.breaks, ...d.leavesAlone]) expect(`${d.name}: ${id} ${ids.has(id)}`).toBe(`${d.name}: ${id} true`);
      expect(d.breaks.filter((id) => d.leavesAlone.includes(id))).toEqual([]);
      // A behaviour the spec allows breaks nothing; anything else must be shown to break a case.
      const spec: DefectSpec = d;
      expect(`${d.name}: ${spec.allowedBySpec ? (d.breaks.length === 0 ? 'allowed, breaks nothing' : 'allowed but breaks') : d.breaks.length > 0 ? 'breaks' : 'breaks nothing'}`).toBe(
        `${d.name}: ${spec.allowedBySpec ? 'allowed, breaks nothing' : 'breaks'}`,
      );
      expect(d.leavesAlone.length).toBeGreaterThan(0);
    }
  });
});

describe('catalog traceability', () => {
  const catalog = catalogIds;
  const cited = () => new Set(ALL_CASES.flatMap((c) => c.meta.requirements.map((r) => r.id)));

  test('every catalog row has a case or a written reason from the fixed list, never both', () => {
    const rows = catalog();
    expect(rows.size).toBeGreaterThan(60);
    const reasons = ['not-observable-on-wire', 'needs-hardware-access', 'spec-open', 'later-issue'];
    for (const id of rows) {
      const gap = CATALOG_GAPS[id];
      const state = cited().has(id) ? (gap ? 'both' : 'case') : gap ? (reasons.includes(gap.reason) ? 'reason' : 'bad reason') : 'neither';
      expect(`${id}: ${state}`).toMatch(/: (case|reason)$/);
    }
  });

  test('the gap list names only catalog rows', () => {
    const rows = catalog();
    for (const id of Object.keys(CATALOG_GAPS)) expect(`${id} in catalog: ${rows.has(id)}`).toBe(`${id} in catalog: true`);
  });
});

describe('levels against the catalog', () => {
  test('every row has at least one level, ids are unique, and a row known only by inference is never judged above SHOULD', () => {
    expect(catalogIds().size).toBe(REQUIREMENT_ROWS.length);
    for (const r of REQUIREMENT_ROWS) {
      expect(`${r.id}: ${r.levels.length > 0}`).toBe(`${r.id}: true`);
      const tooStrong = inferredOnly(r.conf) && r.levels.some((l) => LEVEL_RANK[l] > LEVEL_RANK.SHOULD);
      expect(`${r.id} (Conf. ${r.conf}): ${tooStrong ? `judged at ${r.levels.join(' / ')}` : 'ok'}`).toBe(`${r.id} (Conf. ${r.conf}): ok`);
    }
  });

  test("a case's strength is the strongest main level of the rows it cites", () => {
    for (const c of ALL_CASES) {
      const best = c.meta.requirements.map((r) => REQUIREMENT_ROWS.find((x) => x.id === r.id)!.levels[0]!).reduce((a, b) => (LEVEL_RANK[b] > LEVEL_RANK[a] ? b : a));
      const expected = best === 'OPEN' ? 'MAY' : best;
      expect(`${c.meta.id}: ${LEVEL_RANK[c.meta.strength]}`).toBe(`${c.meta.id}: ${LEVEL_RANK[expected]}`);
    }
  });

  test('a MAY case names an optional ICS key, so a device that does not claim it gets not-applicable', () => {
    for (const c of ALL_CASES) {
      if (c.meta.strength !== 'MAY') continue;
      const entry = c.meta.ics ? ICS_REGISTRY.find((e) => e.key === c.meta.ics) : undefined;
      expect(`${c.meta.id}: ${entry?.status ?? 'no ICS key'}`).toBe(`${c.meta.id}: optional`);
    }
  });
});
