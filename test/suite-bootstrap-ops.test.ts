/**
 * The bootstrap-operation cases (hold-off, Discover, Read, Write formats, one Bootstrap-Server
 * account, back-off) against the reference device: each passes, its reason names the
 * exchange it judged, and each seeded defect aimed at it is caught with a reason that says
 * what was expected and what came.
 */
import { runOnSimulator, isBroken, explain } from './support/simulator-run.js';
import { SHARED_MATRIX_BOUND_MS, matrixRun, matrixTest, expectReferencePasses } from './support/shared-matrix.js';

const CASES: Record<string, RegExp[]> = {
  'TC-BS-03': [/POST \/bs/, /after the refused CON POST \/rd/, /\/0\/\d+\/11 = 3 s/],
  'TC-BS-04': [/Bootstrap-Discover \/ answered 2\.05/, /<\/>;lwm2m="1\.2"/, /<\/0\/\d+>;ssid=101/, /<\/1\/\d+>;ssid=101/],
  'TC-BS-05': [/Bootstrap-Read \/1 answered 2\.05/, /Bootstrap-Read \/0 was refused with 4\.05/],
  'TC-BS-06': [/Bootstrap-Writes in 11542 .*, 110 .*, 112 .*, 11544 \(application\/vnd\.oma\.lwm2m\+cbor\)/, /9999 was answered 4\.15/, /malformed payload 4\.00/, /lt=10/],
  'TC-BS-07': [/Bootstrap-Write \/0\/42/, /refused with 4\.00/],
  'TC-BS-08': [/answered 4\.00/, /waited 1\.\d{3} s before CON POST \/bs/],
};

const DEFECTS: { defect: string; caseId: string; reason: RegExp }[] = [
  { defect: 'no-hold-off', caseId: 'TC-BS-03', reason: /waits the written Client Hold Off Time .*expected 3\.000 s to .*observed \d+(\.\d)? ms/ },
  { defect: 'discover-omits-lwm2m-version', caseId: 'TC-BS-04', reason: /begins with <\/>;lwm2m="1\.x".*observed <\/0\/0>/ },
  { defect: 'bootstrap-read-exposes-security', caseId: 'TC-BS-05', reason: /Bootstrap-Read \/0 \(Security\) is refused.*observed 2\.05 Content with \d+ Security resources/ },
  { defect: 'accept-any-content-format', caseId: 'TC-BS-06', reason: /Content-Format 9999 .*expected 4\.15, observed .*2\.04 Changed/ },
  { defect: 'lwm2m-cbor-rejected', caseId: 'TC-BS-06', reason: /Bootstrap-Write \/0\/\d+ in 11544 \(application\/vnd\.oma\.lwm2m\+cbor\) answered 2\.04 Changed.*expected 2\.04, observed .*4\.15/ },
  { defect: 'second-bootstrap-account', caseId: 'TC-BS-07', reason: /two Bootstrap-Server accounts.*Write \/0\/42 answered 2\.04.*\/0\/42.*Bootstrap-Finish answered 2\.04/ },
  { defect: 'bootstrap-hammering', caseId: 'TC-BS-08', reason: /gap between the 4\.00 to Bootstrap-Request #1 and Bootstrap-Request #2: expected 1\.000 s/ },
];

describe('bootstrap operation cases against the reference device', () => {
  matrixTest('every case passes without advisory, its reason naming the exchange', async () => {
    await expectReferencePasses(CASES);
  });

  test('TC-BS-06 writes in every format the ICS claims', async () => {
    const ics = { 'content-format.tlv': true, 'content-format.senml-json': true, 'content-format.senml-cbor': true, 'content-format.lwm2m-cbor': false };
    const run = await runOnSimulator(['TC-BS-06', 'TC-BS-05'], null, {}, ics);
    const write = run.verdicts.get('TC-BS-06');
    expect(`TC-BS-06: ${explain(write)}`).toMatch(/^TC-BS-06: pass: Bootstrap-Writes in 11542 .*, 110 .*, 112 /);
    // The Lifetime written last (in SenML CBOR) is the one the device registers with.
    expect(write!.reason).toMatch(/lt=10/);
    expect(run.verdicts.get('TC-BS-05')?.verdict).toBe('pass');
    const writes = run.events.filter((e) => e.type === 'note' && e.caseId === 'TC-BS-06' && /^Bootstrap-Write \/[01]\/\d+ answered 2\.04/.test(e.text));
    expect(writes.length).toBe(6);
  }, 120_000);

  test('TC-BS-06 writes in LwM2M CBOR alone when the ICS claims only it', async () => {
    const only = { 'content-format.tlv': false, 'content-format.senml-json': false, 'content-format.senml-cbor': false, 'content-format.lwm2m-cbor': true };
    const alone = await runOnSimulator(['TC-BS-06'], null, {}, only);
    const v = alone.verdicts.get('TC-BS-06');
    expect(`TC-BS-06: ${explain(v)}`).toMatch(/^TC-BS-06: pass: Bootstrap-Writes in 11544 \(application\/vnd\.oma\.lwm2m\+cbor\) were answered 2\.04/);
    // With LwM2M CBOR the only format, the 4.15 and 4.00 writes carry LwM2M CBOR payloads too.
    expect(v!.reason).toMatch(/9999 was answered 4\.15 and a malformed payload 4\.00/);
    expect(v!.reason).toMatch(/lt=10/);
    const notes = alone.events.filter((e) => e.type === 'note' && e.caseId === 'TC-BS-06').map((e) => (e as { text: string }).text);
    expect(notes.filter((n) => /^Bootstrap-Write \/[01]\/\d+ answered 2\.04/.test(n)).length).toBe(2);
  }, 120_000);

  test.each(DEFECTS)(
    'defect $defect is caught by $caseId with a reason naming the exchange',
    async ({ defect, caseId, reason }) => {
      const run = await matrixRun([caseId], defect);
      const v = run.verdicts.get(caseId);
      const strength = caseId === 'TC-BS-08' ? 'SHOULD' : 'MUST';
      expect(`${caseId} broken: ${isBroken(v, strength)} — ${explain(v)}`).toMatch(new RegExp(`^${caseId} broken: true`));
      // A SHOULD-level miss leaves a pass whose advisory carries the check.
      expect(`${v!.reason} ${v!.advisory ?? ''}`).toMatch(reason);
    },
    SHARED_MATRIX_BOUND_MS,
  );
});
