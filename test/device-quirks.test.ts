/**
 * The reference device's defect and variant tables: each defect turns on quirks of its own,
 * the device's code names no defect, and the variant table round-trips between the device's
 * options and its `device run` flags.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEFECTS, quirksOf } from '../fixtures/device/defects.js';
import { VARIANTS, variantArgs, variantOptions, type VariantOptions } from '../fixtures/device/variants.js';

const DEVICE_DIR = join(process.cwd(), 'fixtures', 'device');

describe('defects are quirks', () => {
  test('every defect turns on at least one quirk, and no two turn on the same ones', () => {
    const seen = new Map<string, string>();
    for (const d of DEFECTS) {
      const key = JSON.stringify(d.quirks);
      expect(`${d.name}: ${Object.values(d.quirks).some((group) => Object.keys(group ?? {}).length > 0)}`).toBe(`${d.name}: true`);
      expect(`${d.name} same as ${seen.get(key) ?? 'none'}`).toBe(`${d.name} same as none`);
      seen.set(key, d.name);
    }
  });

  test('no defect, no quirks', () => {
    expect(quirksOf(undefined)).toEqual({});
    expect(quirksOf('no-update')).toEqual({ registration: { noUpdate: true } });
  });

  test('the device modules name no defect: they read quirks only', () => {
    const sources = readdirSync(DEVICE_DIR).filter((f) => f.endsWith('.ts') && f !== 'defects.ts');
    const named: string[] = [];
    for (const f of sources) {
      const text = readFileSync(join(DEVICE_DIR, f), 'utf8');
      for (const d of DEFECTS) if (new RegExp(`'${d.name}'`).test(text)) named.push(`${f}: '${d.name}'`);
    }
    expect(named).toEqual([]);
  });
});

describe('variants table', () => {
  test('options and flags are unique', () => {
    expect(new Set(VARIANTS.map((v) => v.option)).size).toBe(VARIANTS.length);
    expect(new Set(VARIANTS.map((v) => v.flag)).size).toBe(VARIANTS.length);
  });

  test('options become flags and flags become the same options', () => {
    const opts: VariantOptions = { persistRegistration: true, separateResponses: false, bootstrapRequestPct: 112, bootstrapReadSecurityCode: '4.01', updateAtFraction: 0.7 };
    const args = variantArgs(opts);
    expect(args).toEqual([['--persist-registration'], ['--bootstrap-request-pct', '112'], ['--bootstrap-read-security-code', '4.01'], ['--update-at-fraction', '0.7']]);
    const parsed = variantOptions({ 'persist-registration': true, 'bootstrap-request-pct': 112, 'bootstrap-read-security-code': '4.01', 'update-at-fraction': 0.7 });
    expect(parsed).toEqual({ persistRegistration: true, bootstrapRequestPct: 112, bootstrapReadSecurityCode: '4.01', updateAtFraction: 0.7 });
  });
});
