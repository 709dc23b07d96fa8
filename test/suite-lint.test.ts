/** The suite's own metadata: ids unique, requirements from the catalog, every case can fail. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ALL_CASES } from '../suites/index.js';
import { DEFECTS } from '../fixtures/device/defects.js';
import type { DefectSpec } from '../fixtures/device/defects/spec.js';
import { ICS_KEYS, ICS_REGISTRY } from '../harness/profile/ics-registry.js';
import { CATALOG_GAPS } from '../suites/catalog-gaps.js';

const catalogPath = resolve(process.cwd(), '../shared/spec/requirements.md');

describe('suite metadata', () => {
  test('case ids are unique', () => {
    const ids = ALL_CASES.map((c) => c.meta.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('every requirement id a case cites is in the catalog', () => {
    const catalog = readFileSync(catalogPath, 'utf8');
    const known = new Set([...catalog.matchAll(/^\| ([A-Z0-9-]+) \|/gm)].map((m) => m[1]));
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
  const catalog = () => new Set([...readFileSync(catalogPath, 'utf8').matchAll(/^\| ([A-Z][A-Z0-9-]+-\d{2}) \|/gm)].map((m) => m[1]!));
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
  /** The Conf. column (last cell) of every catalog row. */
  const confOf = () => {
    const conf = new Map<string, string>();
    for (const m of readFileSync(catalogPath, 'utf8').matchAll(/^\| ([A-Z][A-Z0-9-]+-\d{2}) \|(.*)\|\s*$/gm)) {
      const cells = m[2]!.split('|');
      conf.set(m[1]!, cells[cells.length - 1]!.trim());
    }
    return conf;
  };
  /** "I", "I (x)": inferred only. "C / I", "C\* / I (backoff)": part of the row is confirmed. */
  const inferredOnly = (conf: string) =>
    conf
      .replace(/\\/g, '')
      .replace(/\([^)]*\)/g, '')
      .split('/')
      .map((s) => s.trim())
      .filter(Boolean)
      .every((token) => token === 'I');

  test('a SHALL/MUST case citing only inferred (Conf. I) rows quotes the normative text it found (meta.normativeQuote)', () => {
    const conf = confOf();
    expect([...conf.values()].filter(inferredOnly).length).toBeGreaterThan(0);
    for (const c of ALL_CASES) {
      if (c.meta.strength !== 'SHALL' && c.meta.strength !== 'MUST') continue;
      const onlyInferred = c.meta.requirements.every((r) => inferredOnly(conf.get(r.id) ?? ''));
      const quoted = (c.meta.normativeQuote ?? '').trim().length >= 20;
      const state = onlyInferred && !quoted ? `${c.meta.strength} on inferred rows only (${c.meta.requirements.map((r) => r.id).join(', ')}): judge at SHOULD or quote the normative text in meta.normativeQuote` : 'ok';
      expect(`${c.meta.id}: ${state}`).toBe(`${c.meta.id}: ok`);
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
