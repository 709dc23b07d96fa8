/**
 * The Registration-interface cases against the reference device, read from the shared
 * matrix (their runs of their own are in test/suite-registration-runs.test.ts): each
 * passes without advisory and its reason names the exchange it judged.
 */
import { explain, expectPass } from './support/simulator-run.js';
import { matrixRun, matrixTest, matrixVerdict } from './support/shared-matrix.js';
import type { DtlsTransport } from '../harness/dtls/dtls-transport.js';
import { describePlaintext, dtlsTrouble } from '../suites/steps.js';
import { dtlsRecord } from './support/dtls-wire.js';

/** An application_data record of epoch 1 (sealed: its 43 bytes are never read). */
const sealed = (sequence: number): Buffer => dtlsRecord(23, 1, sequence, Buffer.alloc(43, 0xa5));

const QUICK_CASES = ['TC-REG-03', 'TC-REG-04', 'TC-REG-05', 'TC-REG-06', 'TC-REG-07', 'TC-REG-09', 'TC-REG-11', 'TC-REG-12'];

describe('what TC-REG-10 says of datagrams the DTLS layer dropped', () => {
  const remote = { address: '127.0.0.1', port: 40000 };
  const fakeDtls = (dropped: Buffer[], handshakes: number) =>
    ({
      handshakeFailures: { all: [] },
      handshakes: { all: Array.from({ length: handshakes }, () => ({ remote })) },
      dropped: { all: dropped.map((bytes) => ({ remote, reason: 'no session with this peer and not a ClientHello', length: bytes.length, monoNs: 0n, bytes })) },
    }) as unknown as DtlsTransport;

  test('application_data of a closed association is described as DTLS: content type, version, epoch, sequence and the reason', () => {
    expect(describePlaintext(sealed(7))).toBe('DTLS application_data record (DTLS 1.2, epoch 1, sequence 7, 43 bytes encrypted)');
    const text = dtlsTrouble(fakeDtls([sealed(7), sealed(8), sealed(9)], 1));
    expect(text).toBe(' — DTLS application_data record (DTLS 1.2, epoch 1, 43 bytes encrypted) from 127.0.0.1:40000 dropped: no session with this peer and not a ClientHello (sequence 7, 8, 9) (3 times)');
    expect(text).not.toMatch(/not DTLS|neither DTLS nor CoAP/);
  });

  test('plaintext CoAP and bytes that are neither stay described as such; a clean DTLS history adds nothing', () => {
    expect(describePlaintext(Buffer.from([0x40, 0x01, 0x12, 0x34]))).toMatch(/^plaintext CoAP /);
    expect(describePlaintext(Buffer.from('hello'))).toBe('5 bytes, neither DTLS nor CoAP');
    expect(dtlsTrouble(fakeDtls([], 1))).toBe('');
    expect(dtlsTrouble(fakeDtls([], 0))).toBe(' (no DTLS handshake was attempted)');
  });
});

describe('Registration-interface cases against the reference device', () => {
  matrixTest('TC-REG-03 … -07, -09, -11, -12 pass without advisory and name the exchange they judged', async () => {
    const run = await matrixRun(QUICK_CASES);
    for (const id of QUICK_CASES) expectPass(id, run.verdicts.get(id));
    const reason = (id: string) => run.verdicts.get(id)!.reason;
    expect(reason('TC-REG-03')).toMatch(/^Register CON POST \/rd\?.*lwm2m=1\.2.* with Content-Format 40 .* lists \/1\/\d+ and \/3$/);
    expect(reason('TC-REG-04')).toMatch(/^Register CON POST \/rd\?.* none of the Security or OSCORE objects/);
    expect(reason('TC-REG-05')).toMatch(/Update CON POST (\/rd\/[0-9a-f]{4}\/[0-9a-f]{6}) .*De-register CON DELETE \1 .*exactly the location \1/);
    expect(reason('TC-REG-06')).toMatch(/heartbeat CON POST \/rd\/\S+ \(mid \d+\) had no parameters.*Update CON POST \/rd\/\S+\?lt=20 .*carried only lt=20/);
    expect(reason('TC-REG-07')).toMatch(/^Execute \/1\/\d+\/8 answered 2\.04 Changed and the Update CON POST \/rd\/\S+ .* followed/);
    expect(reason('TC-REG-09')).toMatch(/^Update CON POST \/rd\/\S+ .*answered 4\.04 was followed .* by Register CON POST \/rd\?/);
    expect(reason('TC-REG-11')).toMatch(/^Execute \/1\/\d+\/4 answered 2\.04 Changed and De-register CON DELETE \/rd\/\S+ .*answered 2\.02/);
    expect(reason('TC-REG-12')).toMatch(/renewed its registration only with Updates \(CON POST \/rd\/.*and sent no new Register/);
    expect(run.exitCode).toBe(0);
  });

  matrixTest('defect update-trigger-ignored (2.04 to Execute /1/x/8, no Update) fails TC-REG-07 naming the trigger; TC-REG-05 and -06, which never use it, pass', async () => {
    const run = await matrixRun(['TC-REG-07', 'TC-REG-05', 'TC-REG-06'], 'update-trigger-ignored');
    const v = run.verdicts.get('TC-REG-07');
    expect(v?.verdict).toBe('fail');
    expect(v?.reason).toMatch(/^no Update reached coap:\/\/127\.0\.0\.1:\d+ within 10 s \(IXIT startupBoundS\) of Execute \/1\/\d+\/8 answered 2\.04 Changed; the lifetime is 86400 s, so no heartbeat was due$/);
    for (const id of ['TC-REG-05', 'TC-REG-06']) expect(`${id}: ${explain(run.verdicts.get(id))}`).toMatch(new RegExp(`^${id}: pass: `));
  });

  matrixTest('TC-REG-10: after the DM drops its DTLS session the device handshakes again and registers (PSK)', async () => {
    const v = await matrixVerdict('TC-REG-10');
    expect(explain(v)).toMatch(/^pass: after the DM dropped the DTLS session, the device made a new handshake and its first request over it was Register CON POST \/rd\?/);
  });
});
