/**
 * DTLS 1.2 records and handshake messages built by hand (RFC 6347 §4.1, §4.2.2), for tests
 * that speak to a DTLS stack, or to what reads its datagrams, below any DTLS library.
 */

/** A record: content type, version DTLS 1.2, epoch, 48-bit sequence number, length, then `body`. */
export function dtlsRecord(contentType: number, epoch: number, sequence: number, body: Buffer): Buffer {
  const h = Buffer.alloc(13);
  h[0] = contentType;
  h[1] = 0xfe;
  h[2] = 0xfd;
  h.writeUInt16BE(epoch, 3);
  h.writeUIntBE(sequence, 5, 6);
  h.writeUInt16BE(body.length, 11);
  return Buffer.concat([h, body]);
}

/** A handshake message in one fragment: type, length, message_seq, offset 0, fragment length, then `body`. */
export function dtlsHandshake(msgType: number, msgSeq: number, body: Buffer): Buffer {
  const h = Buffer.alloc(12);
  h[0] = msgType;
  h.writeUIntBE(body.length, 1, 3);
  h.writeUInt16BE(msgSeq, 4);
  h.writeUIntBE(0, 6, 3);
  h.writeUIntBE(body.length, 9, 3);
  return Buffer.concat([h, body]);
}

/** A ClientHello body: DTLS 1.2, `random` (32 bytes), no session id, `cookie`, `suites`, null compression only, no extensions block. */
export function clientHelloBody(random: Buffer, cookie: Buffer, suites: number[]): Buffer {
  const cs = Buffer.alloc(2 + suites.length * 2);
  cs.writeUInt16BE(suites.length * 2, 0);
  suites.forEach((s, i) => cs.writeUInt16BE(s, 2 + i * 2));
  return Buffer.concat([Buffer.from([0xfe, 0xfd]), random, Buffer.from([0]), Buffer.from([cookie.length]), cookie, cs, Buffer.from([1, 0])]);
}
