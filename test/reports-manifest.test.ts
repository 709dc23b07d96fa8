/** The integrity manifest: a changed byte or a deleted report is named; a withheld key log is not tampering. */
import { mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyManifest, writeManifest } from '../harness/reports/manifest.js';

describe('manifest.sha256', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'geisa-manifest-'));
    writeFileSync(join(dir, 'results.json'), '{"cases":[]}\n');
    writeFileSync(join(dir, 'junit.xml'), '<testsuites/>\n');
    writeFileSync(join(dir, 'SECRETS-dtls-keylog.txt'), 'CLIENT_RANDOM aa bb\n');
    writeManifest(
      dir,
      ['results.json', 'junit.xml', 'SECRETS-dtls-keylog.txt'].map((f) => join(dir, f)),
    );
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('an untouched directory matches', () => {
    expect(verifyManifest(dir)).toEqual({ checked: 3, changed: [], missing: [], withheld: [] });
  });

  test('a changed byte and a deleted report are named', () => {
    appendFileSync(join(dir, 'results.json'), ' ');
    rmSync(join(dir, 'junit.xml'));
    const r = verifyManifest(dir);
    expect(r.changed).toEqual(['results.json']);
    expect(r.missing).toEqual(['junit.xml']);
  });

  test('a key log removed before sharing is withheld, not missing', () => {
    rmSync(join(dir, 'SECRETS-dtls-keylog.txt'));
    const r = verifyManifest(dir);
    expect(r.missing).toEqual([]);
    expect(r.withheld).toEqual(['SECRETS-dtls-keylog.txt']);
  });
});
