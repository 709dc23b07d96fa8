/**
 * TC-SEC-10 (DTLS handshake retransmission) against the reference device: the device
 * sends its withheld ClientHello flight again after 1 s and 2 s and then bootstraps; with
 * defect no-dtls-retransmission it sends the flight once and later starts a new
 * handshake, which the case fails as the flight never sent again.
 */
import { explain } from './support/simulator-run.js';
import { SHARED_MATRIX_BOUND_MS, matrixRun } from './support/shared-matrix.js';

describe('TC-SEC-10 against the reference device', () => {
  test(
    'passes: the withheld ClientHello comes again after about 1 s and 2 s, then the handshake completes and the device bootstraps',
    async () => {
      const run = await matrixRun(['TC-SEC-10']);
      const v = run.verdicts.get('TC-SEC-10');
      expect(`${explain(v)}`).toBe(`pass: ${v?.reason}`);
      expect(v!.reason).toMatch(
        /^3 copies of ClientHello message_seq 0 random [0-9a-f]{64} from port \d+, gaps (9\d\d\.\d ms|1\.\d{3} s), (1\.9\d\d|2\.\d{3}) s: the unanswered flight was sent again .*first after 1 s, then doubling; tolerance 300 ms/,
      );
      // The evidence: both withheld copies are on the wire record and named in the notes.
      const notes = run.events.filter((e) => e.type === 'note' && e.caseId === 'TC-SEC-10').map((e) => (e.type === 'note' ? e.text : ''));
      expect(notes.filter((n) => /^withheld ClientHello message_seq 0/.test(n))).toHaveLength(2);
      const hellosIn = run.events.filter((e) => e.type === 'datagram' && e.direction === 'in' && e.caseId === 'TC-SEC-10' && e.layer === 'dtls');
      expect(hellosIn.length).toBeGreaterThanOrEqual(3);
    },
    SHARED_MATRIX_BOUND_MS,
  );

  test(
    'no-dtls-retransmission: fails, naming the new handshake that came instead of the flight',
    async () => {
      const run = await matrixRun(['TC-SEC-10'], 'no-dtls-retransmission');
      expect(explain(run.verdicts.get('TC-SEC-10'))).toMatch(
        /^fail: copy #2: the unanswered flight is sent again \(same message_seq and random\): expected ClientHello message_seq 0 random [0-9a-f]{64} again, before any new handshake, observed ClientHello message_seq 0 random [0-9a-f]{64} from port \d+, \d+\.\d{3} s after copy #1: a new handshake, not a retransmission/,
      );
    },
    SHARED_MATRIX_BOUND_MS,
  );
});
