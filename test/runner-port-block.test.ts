/**
 * The run's port block: reserved by binding it, moved whole when a port of it is taken,
 * refused (never moved) at a fixed base, handed out by lane least recently used first,
 * held again when a server closes, and let go at the end. Real UDP sockets on 127.0.0.1;
 * the ports in play come from the OS (a socket bound to port 0), never a fixed number.
 */
import dgram from 'node:dgram';
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

test("ports a profile fixes for its servers are never in the block: a random block moves off them, a fixed base over one is refused", async () => {
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
