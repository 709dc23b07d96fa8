/**
 * Child process of figure 2: sends `count` CoAP requests to the harness, each carrying
 * the monotonic time read just before it was handed to the socket, one at a time (the
 * next goes once the harness has answered, or after a bounded wait).
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import { CON, OPT, code, encode, strings } from './lite-coap.js';
import { STAMP_MAGIC } from './ipc.js';

const REPLY_WAIT_MS = 2000;

process.once('message', async (m: { port: number; count: number }) => {
  const socket = dgram.createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  let answered: (() => void) | undefined;
  socket.on('message', () => answered?.());
  let unanswered = 0;
  for (let i = 0; i < m.count; i++) {
    const payload = Buffer.concat([Buffer.from(STAMP_MAGIC), Buffer.alloc(8)]);
    const bytes = encode({ type: CON, code: code(0, 2), mid: i & 0xffff, token: Buffer.alloc(0), options: strings(OPT.URI_PATH, ['bench-stamp']), payload });
    const stampAt = bytes.length - 8;
    const replied = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), REPLY_WAIT_MS);
      answered = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
    bytes.writeBigUInt64BE(process.hrtime.bigint(), stampAt);
    socket.send(bytes, m.port, '127.0.0.1');
    if (!(await replied)) unanswered += 1;
  }
  socket.close();
  process.send!({ sent: m.count, unanswered }, () => process.exit(0));
});
