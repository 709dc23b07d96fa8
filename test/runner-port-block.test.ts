/**
 * The run's port block: reserved by binding it, moved whole when a port of it is taken,
 * refused (never moved) at a fixed base, handed out by lane least recently used first,
 * held again when a server closes, and let go at the end. Real UDP sockets on 127.0.0.1;
 * the ports in play come from the OS (a socket bound to port 0), never a fixed number.
 */
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EXIT } from '../harness/runner/exit-code.js';
import { capturePlan } from '../harness/recorder/pcapng.js';
import { parseEventLog } from '../harness/reports/event-log.js';
import { PortBlock, PortBlockError, portsPerLane } from '../harness/runner/port-block.js';

const HOST = '127.0.0.1';
const opened: dgram.Socket[] = [];
const blocks: PortBlock[] = [];

afterEach(async () => {
  for (const b of blocks.splice(0)) await b.release();
  for (const s of opened.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

/** Binds a UDP socket; resolves to its port, or to the error code when the port is taken. */
function bind(port: number): Promise<{ port: number; socket: dgram.Socket } | { error: string }> {
  const socket = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    socket.once('error', (e: NodeJS.ErrnoException) => {
      socket.close();
      resolve({ error: e.code ?? e.message });
    });
    socket.bind(port, HOST, () => {
      opened.push(socket);
      resolve({ port: socket.address().port, socket });
    });
  });
}

async function osPort(): Promise<number> {
  const got = await bind(0);
  if (!('port' in got)) throw new Error(`could not bind an OS-chosen port: ${got.error}`);
  return got.port;
}

/** A closable "server" on the port, as run-case opens one. */
async function server(port: number): Promise<{ port: number; close(): Promise<void> }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', (e) => reject(new Error(`cannot listen on ${HOST}:${port}: ${e.message}`)));
    socket.bind(port, HOST, () => resolve());
  });
  return { port: socket.address().port, close: () => new Promise<void>((r) => socket.close(() => r())) };
}

async function reserve(opts: Partial<Parameters<typeof PortBlock.reserve>[0]> = {}): Promise<PortBlock> {
  const b = await PortBlock.reserve({ address: HOST, perLane: 4, ...opts });
  blocks.push(b);
  return b;
}

test('the block size follows the jobs: a lane has room for every case in flight', () => {
  expect(portsPerLane(1)).toBe(16);
  expect(portsPerLane(6)).toBe(48);
});

test('a port of the block already in use: the whole block moves, and says from where', async () => {
  const busy = await osPort();
  // First try: a block with the occupied port inside it; then anywhere.
  const tried = busy - 3;
  const b = await reserve({ pickBase: (attempt) => (attempt === 0 ? tried : 20000 + Math.floor(Math.random() * 10000)) });
  expect(b.first).not.toBe(tried);
  expect(busy >= b.first && busy <= b.last).toBe(false);
  expect(b.last - b.first + 1).toBe(8);
  expect(b.moves[0]).toMatch(new RegExp(`^${tried}-${tried + 7}: port \\d+ in use$`));
  // Every port of the block is held: nobody else can bind one.
  for (let p = b.first; p <= b.last; p += 1) expect(await bind(p)).toEqual({ error: 'EADDRINUSE' });
});

test('a fixed base over a port in use is refused, naming the port, never moved', async () => {
  const busy = await osPort();
  await expect(reserve({ base: busy - 1 })).rejects.toThrow(PortBlockError);
  await expect(reserve({ base: busy - 1 })).rejects.toThrow(`port ${busy} of the block ${busy - 1}-${busy + 6} on ${HOST} is not free (EADDRINUSE)`);
  await expect(reserve({ base: 65530 })).rejects.toThrow('must lie within 1-65535');
});

test('ports a profile fixes for its servers are never in the block: a random block moves off them, a fixed base over one is refused', async () => {
  // Any port number will do: the block never binds it, so it need not be free.
  const fixedByProfile = (await osPort()) - 2;
  const b = await reserve({ exclude: [fixedByProfile], pickBase: (attempt) => (attempt === 0 ? fixedByProfile - 1 : 20000 + Math.floor(Math.random() * 10000)) });
  expect(b.moves[0]).toBe(`${fixedByProfile - 1}-${fixedByProfile + 6}: port ${fixedByProfile} fixed by a profile`);
  expect(fixedByProfile >= b.first && fixedByProfile <= b.last).toBe(false);
  await expect(reserve({ exclude: [fixedByProfile], base: fixedByProfile })).rejects.toThrow(`contains port ${fixedByProfile}, which a profile fixes for a server`);
});

test('servers get ports of their lane, least recently used first; a closed server gives its port back to the block', async () => {
  const b = await reserve();
  const plain = b.range('plain');
  const dtls = b.range('dtls');
  expect(plain).toEqual({ low: b.first, high: b.first + 3 });
  expect(dtls).toEqual({ low: b.first + 4, high: b.last });

  const bs = await b.withPort('plain', server);
  const dm = await b.withPort('dtls', server);
  expect(bs.port).toBe(plain.low);
  expect(dm.port).toBe(dtls.low);
  await bs.close();
  // Held again by the block, not free for anyone.
  expect(await bind(bs.port)).toEqual({ error: 'EADDRINUSE' });
  // The next server does not land on the port just closed (a late datagram of the last case goes nowhere).
  const next = await b.withPort('plain', server);
  expect(next.port).toBe(plain.low + 1);
  await next.close();
  await dm.close();
  await b.release();
  // Let go at the end: the ports are free again.
  const freed = await bind(bs.port);
  expect('port' in freed).toBe(true);
});

test('a port another process took meanwhile is skipped and never handed out again; a full lane falls back to an OS-chosen port', async () => {
  const b = await reserve({ perLane: 2 });
  const first = b.range('dtls').low;
  let calls = 0;
  const s = await b.withPort('dtls', async (port) => {
    calls += 1;
    if (port === first) throw new Error(`cannot listen on ${HOST}:${port}: bind EADDRINUSE ${HOST}:${port}`);
    return server(port);
  });
  expect(calls).toBe(2);
  expect(s.port).toBe(first + 1);
  // The lane's one other port was lost: the next server gets an OS-chosen port, outside the block.
  const outside = await b.withPort('dtls', server);
  expect(outside.port < b.first || outside.port > b.last).toBe(true);
  expect(b.overflow).toBe(true);
  await outside.close();
  await s.close();
  // Any other failure is the server's own: passed on, the port kept.
  await expect(b.withPort('plain', () => Promise.reject(new Error('no certificate')))).rejects.toThrow('no certificate');
  const again = await b.withPort('plain', server);
  expect(again.port).toBe(b.range('plain').low + 1);
  await again.close();
});

describe('geisa-adm run --port-base', () => {
  const CLI = resolve('dist/bin/geisa-adm.js');
  const run = (args: string[]) =>
    spawnSync(process.execPath, [CLI, 'run', '--cases', 'TC-BS-01', '--out', mkdtempSync(join(tmpdir(), 'geisa-port-base-')), ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });

  test('a free base: every server of the run listens in the block from it, plaintext below, DTLS above, and the run note names it', async () => {
    // A range free a moment ago: found by reserving a block, then letting it go.
    const probe = await PortBlock.reserve({ address: HOST, perLane: portsPerLane(2) });
    const base = probe.first;
    await probe.release();
    const out = mkdtempSync(join(tmpdir(), 'geisa-port-base-'));
    const r = spawnSync(process.execPath, [CLI, 'run', '--cases', 'TC-BS-01,TC-SEC-01', '--jobs', '2', '--port-base', String(base), '--out', out], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });
    expect(r.stdout).toMatch(/TC-BS-01 PASS/);
    expect(r.stdout).toMatch(/TC-SEC-01 PASS/);
    const events = parseEventLog(readFileSync(join(out, 'events.jsonl'), 'utf8'));
    const ports = capturePlan(events).ports;
    expect(ports.length).toBeGreaterThanOrEqual(3);
    const half = portsPerLane(2);
    for (const p of ports) {
      const [low, high] = p.scheme === 'coap' ? [base, base + half - 1] : [base + half, base + 2 * half - 1];
      expect(`${p.caseId} ${p.endpoint} ${p.port >= low && p.port <= high}`).toBe(`${p.caseId} ${p.endpoint} true`);
    }
    const note = events.find((e) => e.type === 'note' && e.text.startsWith('the fake servers listened on UDP ports'));
    expect(note && note.type === 'note' && note.text).toBe(
      `the fake servers listened on UDP ports ${base}-${base + 2 * half - 1} of ${HOST}: CoAP and DNS-SD on ${base}-${base + half - 1}, DTLS on ${base + half}-${base + 2 * half - 1}, except ports the profile fixes`,
    );
    // Let go at the end of the run.
    const again = await PortBlock.reserve({ address: HOST, perLane: half, base });
    await again.release();
  }, 150_000);

  test('not a port: a usage error naming the flag', () => {
    const r = run(['--port-base', '70000']);
    expect(r.status).toBe(EXIT.USAGE);
    expect(r.stderr).toBe('error: --port-base must be a UDP port (1-65535), got 70000\n');
  });

  test('a block over a port in use: refused before any case runs, naming the port, no stack trace', async () => {
    const busy = await osPort();
    const r = run(['--port-base', String(busy - 1)]);
    expect(r.status).toBe(EXIT.USAGE);
    expect(r.stderr).toMatch(new RegExp(`^error: port base ${busy - 1}: port ${busy} of the block ${busy - 1}-\\d+ on 127\\.0\\.0\\.1 is not free \\(EADDRINUSE\\); free it or choose another base\\n$`));
    expect(r.stdout).not.toContain('TC-BS-01');
  });
});
