/**
 * A hostile device on the wire (issue 13, findings 4 and 5): datagrams sent over a real UDP
 * socket to the Bootstrap-Server of a running case, beside the reference device that the
 * case judges. A truncated datagram is malformed evidence, never a request the suite
 * answers or judges; a flood of them keeps the evidence and the reports under a bound.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import type { DatagramEvent, NoteEvent, ResultEvent, VerdictEvent } from '../harness/events/events.js';
import { defaultSimulatorProfile } from '../harness/profile/load.js';
import { createSimulatorAdapter } from '../fixtures/simulator/simulator-adapter.js';
import type { ActionHooks, ActionParams, ActionSecrets, DutAction, DutAdapter } from '../harness/dut/adapter.js';
import { runSuite } from '../harness/runner/runner.js';
import { ALL_CASES } from '../suites/index.js';
import { foldEvents } from '../harness/reports/run-record.js';
import { buildResults, renderResultsJson } from '../harness/reports/results.js';
import { renderHtml } from '../harness/reports/html.js';
import { EVIDENCE_LIMITS } from '../harness/recorder/wire-recorder.js';
import { decodeCoap, encodeCoap } from '../harness/coap/message.js';

/** `40 02 e8 22 be ff ff 62 73`: CON POST, a Uri-Path declaring 65,804 bytes that carries "bs". */
const TRUNCATED_POST_BS = Buffer.from('4002e822beffff6273', 'hex');

/** A socket of the hostile peer: sends datagrams, learns from a CoAP ping that the server has read them. */
class HostilePeer {
  private constructor(readonly socket: dgram.Socket) {}

  static async open(): Promise<HostilePeer> {
    const socket = dgram.createSocket('udp4');
    socket.bind(0, '127.0.0.1');
    await once(socket, 'listening');
    return new HostilePeer(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(bytes: Buffer, port: number): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(bytes, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  }

  /**
   * An empty CON (CoAP ping) is answered with RST (RFC 7252 §4.3); the endpoint handles
   * datagrams in order, so the RST means everything sent before it has been read.
   * Resolves with every other datagram the server sent meanwhile.
   */
  async sync(port: number, mid: number): Promise<Buffer[]> {
    const others: Buffer[] = [];
    const rst = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.socket.off('message', onMessage);
        reject(new Error(`no RST to the ping mid=${mid} within 5 s`));
      }, 5000);
      const onMessage = (b: Buffer) => {
        if (b.length === 4 && (b[0]! & 0x30) === 0x30 && b.readUInt16BE(2) === mid) {
          clearTimeout(timer);
          this.socket.off('message', onMessage);
          resolve();
        } else others.push(b);
      };
      this.socket.on('message', onMessage);
    });
    await this.send(encodeCoap({ type: 'CON', code: '0.00', mid, token: Buffer.alloc(0), options: [], payload: Buffer.alloc(0) }), port);
    await rst;
    return others;
  }

  close(): void {
    this.socket.close();
  }
}

/** The reference device, with something done to the case's Bootstrap-Server just before it starts. */
function hostileBeforeStart(inner: DutAdapter, attack: (bsPort: number) => Promise<void>): DutAdapter {
  return {
    kind: inner.kind,
    supports: (a) => inner.supports(a),
    takesServerAccount: inner.takesServerAccount?.bind(inner),
    async run(action: DutAction, params: ActionParams, secrets: ActionSecrets, hooks: ActionHooks) {
      if (action === 'start') await attack(params.bsPort);
      return inner.run(action, params, secrets, hooks);
    },
    dispose: () => inner.dispose(),
  };
}

async function runTcBs01(attack: (bsPort: number) => Promise<void>): Promise<{ events: ResultEvent[]; verdict: VerdictEvent }> {
  const profile = defaultSimulatorProfile();
  const events: ResultEvent[] = [];
  await runSuite({
    cases: ALL_CASES.filter((c) => c.meta.id === 'TC-BS-01'),
    profile,
    defect: null,
    createAdapter: () => hostileBeforeStart(createSimulatorAdapter(profile), attack),
    emit: (e) => events.push(e),
    signal: new AbortController().signal,
    strict: false,
  });
  const verdict = events.find((e): e is VerdictEvent => e.type === 'verdict');
  if (!verdict) throw new Error('TC-BS-01 ended without a verdict');
  return { events, verdict };
}

const datagrams = (events: ResultEvent[]) => events.filter((e): e is DatagramEvent => e.type === 'datagram');
const notes = (events: ResultEvent[]) => events.filter((e): e is NoteEvent => e.type === 'note').map((n) => n.text);

describe('a hostile peer beside the device, over real UDP on 127.0.0.1', () => {
  test('a datagram whose Uri-Path runs past its end is malformed evidence: not answered, not judged', async () => {
    const peer = await HostilePeer.open();
    let answered: Buffer[] = [];
    try {
      const { events, verdict } = await runTcBs01(async (bsPort) => {
        await peer.send(TRUNCATED_POST_BS, bsPort);
        answered = await peer.sync(bsPort, 0x4242);
      });
      // Not answered: the only reply to the hostile port was the RST to its ping.
      expect(answered.map((b) => b.toString('hex'))).toEqual([]);
      const toPeer = datagrams(events).filter((d) => d.direction === 'out' && d.remote.port === peer.port);
      expect(toPeer.map((d) => decodeCoap(Buffer.from(d.bytes, 'hex')).type)).toEqual(['RST']);
      // In the evidence, as malformed.
      const fromPeer = datagrams(events).filter((d) => d.direction === 'in' && d.remote.port === peer.port);
      expect(fromPeer.map((d) => d.bytes)).toEqual([TRUNCATED_POST_BS.toString('hex'), '40004242']);
      expect((fromPeer[0]!.decoded as { error: string }).error).toMatch(/Uri-Path declares 65804 bytes but only 2 remain in the 9-byte datagram/);
      expect(notes(events).some((n) => n.includes(`malformed datagram from 127.0.0.1:${peer.port} at bootstrap-server, not taken as a message`))).toBe(true);
      // Not judged: the case judged the device's own Bootstrap-Request, and passed.
      expect(verdict.verdict).toBe('pass');
      const checks = events.filter((e) => e.type === 'check');
      expect(checks.filter((c) => c.type === 'check' && !c.ok)).toEqual([]);
      expect(JSON.stringify(checks)).not.toContain(String(peer.port));
    } finally {
      peer.close();
    }
  }, 60_000);

  test('20,000 malformed datagrams in one case: the first and last are kept, the rest counted, the reports stay small', async () => {
    const peer = await HostilePeer.open();
    const FLOOD = 20_000;
    const BATCH = 50;
    // Kinds of malformed framing (RFC 7252 §3, §3.1), each a format error.
    const shapes = ['4002e822beffff6273', '49010001aabbccddeeff00112233', '40020001f0', '40020001b26273ff', '400200010d', '8001000a'].map((h) => Buffer.from(h, 'hex'));
    try {
      const { events, verdict } = await runTcBs01(async (bsPort) => {
        for (let sent = 0, mid = 1; sent < FLOOD; mid++) {
          for (let i = 0; i < BATCH; i++, sent++) await peer.send(shapes[sent % shapes.length]!, bsPort);
          const replies = await peer.sync(bsPort, mid);
          if (replies.length) throw new Error(`the Bootstrap-Server answered a malformed datagram: ${replies[0]!.toString('hex')}`);
        }
      });
      expect(verdict.verdict).toBe('pass');

      const malformed = datagrams(events).filter((d) => d.direction === 'in' && d.remote.port === peer.port && 'error' in d.decoded);
      expect(malformed.length).toBe(EVIDENCE_LIMITS.malformedHead + EVIDENCE_LIMITS.malformedTail);
      // The first and the last of the flood are the ones kept.
      expect(malformed[0]!.bytes).toBe(shapes[0]!.toString('hex'));
      expect(malformed[malformed.length - 1]!.bytes).toBe(shapes[(FLOOD - 1) % shapes.length]!.toString('hex'));
      const elision = notes(events).find((n) => n.includes('malformed CoAP in at bootstrap-server'));
      const kept = EVIDENCE_LIMITS.malformedHead + EVIDENCE_LIMITS.malformedTail;
      expect(elision).toMatch(
        new RegExp(
          `^wire recorder: ${FLOOD - kept} malformed CoAP in at bootstrap-server datagrams elided from the evidence \\(${FLOOD} seen in this case, ${kept} kept: the first ${EVIDENCE_LIMITS.malformedHead} and the last ${EVIDENCE_LIMITS.malformedTail};`,
        ),
      );
      // The pings are a flood too (400 of them, and their RSTs): bounded the same way.
      expect(datagrams(events).length).toBeLessThan(4 * (EVIDENCE_LIMITS.head + EVIDENCE_LIMITS.tail) + 100);
      // One note per malformed datagram for the first five, then one saying the rest are counted.
      expect(notes(events).filter((n) => n.startsWith('malformed datagram from')).length).toBe(5);
      const harnessNotes = events.filter((e): e is NoteEvent => e.type === 'note' && e.source === 'harness').map((n) => n.text);
      expect(harnessNotes.length).toBeLessThan(20);

      // The reports of this run stay under a stated bound (the unbounded harness wrote 24 MB / 12 MB).
      const results = buildResults(foldEvents(events));
      const json = renderResultsJson(results);
      const html = renderHtml(results);
      process.stdout.write(`flood of ${FLOOD}: ${datagrams(events).length} datagram events kept, results.json ${json.length} bytes, report.html ${html.length} bytes\n`);
      expect(json.length).toBeLessThan(1_000_000);
      expect(html.length).toBeLessThan(1_000_000);
      // The trace is in wire order although the tail was recorded at the end.
      const trace = results.cases[0]!.trace.map((d) => BigInt(d.monoNs));
      expect(trace.every((t, i) => i === 0 || t >= trace[i - 1]!)).toBe(true);
    } finally {
      peer.close();
    }
  }, 120_000);
});
