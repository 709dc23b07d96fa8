/**
 * TC-SEC-10 (DTLS handshake retransmission) against the reference device: the device
 * sends its withheld ClientHello flight again after 1 s and 2 s and then bootstraps; with
 * defect no-dtls-retransmission it sends the flight once and later starts a new
 * handshake, which the case fails as the flight never sent again.
 */
import { explain, expectPass } from './support/simulator-run.js';
import { matrixRun, matrixTest } from './support/shared-matrix.js';

describe('TC-SEC-10 against the reference device', () => {
  matrixTest('passes: the withheld ClientHello comes again after about 1 s and 2 s, then the handshake completes and the device bootstraps', async () => {
    const run = await matrixRun(['TC-SEC-10']);
    const v = run.verdicts.get('TC-SEC-10');
    expectPass('TC-SEC-10', v);
    const shape = /^3 copies of ClientHello message_seq 0 random [0-9a-f]{64} from port \d+, gaps (\d+\.\d+) (ms|s), (\d+\.\d+) s: the unanswered flight was sent again .*first after 1 s, then doubling; tolerance 300 ms/;
    expect(v!.reason).toMatch(shape);
    // The gaps, within the tolerance the case states (300 ms here): each arrival's
    // timestamp can be late by the harness's own scheduling, which shortens the next gap
    // as much as it lengthens this one (seen: 1.078 s then 1.889 s with cases in parallel).
    const [, first, unit, second] = shape.exec(v!.reason)!;
    const firstS = Number(first) / (unit === 'ms' ? 1000 : 1);
    expect(Math.abs(firstS - 1)).toBeLessThanOrEqual(0.3);
    expect(Math.abs(Number(second) - 2)).toBeLessThanOrEqual(0.3);
    expect(Math.abs(firstS + Number(second) - 3)).toBeLessThanOrEqual(0.3);
    // The evidence: both withheld copies are on the wire record and named in the notes.
    const notes = run.events.filter((e) => e.type === 'note' && e.caseId === 'TC-SEC-10').map((e) => (e.type === 'note' ? e.text : ''));
    expect(notes.filter((n) => /^withheld ClientHello message_seq 0/.test(n))).toHaveLength(2);
    const hellosIn = run.events.filter((e) => e.type === 'datagram' && e.direction === 'in' && e.caseId === 'TC-SEC-10' && e.layer === 'dtls');
    expect(hellosIn.length).toBeGreaterThanOrEqual(3);
  });

  matrixTest('no-dtls-retransmission: fails, naming the new handshake that came instead of the flight', async () => {
    const run = await matrixRun(['TC-SEC-10'], 'no-dtls-retransmission');
    expect(explain(run.verdicts.get('TC-SEC-10'))).toMatch(
      /^fail: copy #2: the unanswered flight is sent again \(same message_seq and random\): expected ClientHello message_seq 0 random [0-9a-f]{64} again, before any new handshake, observed ClientHello message_seq 0 random [0-9a-f]{64} from port \d+, \d+\.\d{3} s after copy #1: a new handshake, not a retransmission/,
    );
  });
});
