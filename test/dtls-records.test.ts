/** The DTLS record reader that turns handshake datagrams into evidence. */
import { decodeDtlsDatagram, describeDtls, looksLikeDtls } from '../harness/recorder/dtls-records.js';
import { clientHelloBody, dtlsHandshake, dtlsRecord } from './support/dtls-wire.js';

/** A record of sequence 7 (any will do). */
const record = (type: number, epoch: number, body: Buffer): Buffer => dtlsRecord(type, epoch, 7, body);
const handshake = (type: number, msg: Buffer): Buffer => dtlsHandshake(type, 0, msg);
/** With an empty extensions block, as a real ClientHello may end. */
const clientHello = (ciphers: number[], cookie = Buffer.alloc(0)): Buffer => Buffer.concat([clientHelloBody(Buffer.alloc(32, 0xaa), cookie, ciphers), Buffer.from([0, 0])]);

describe('DTLS record reader', () => {
  test('a ClientHello shows its cipher list and cookie', () => {
    const dg = record(22, 0, handshake(1, clientHello([0xc0a8, 0x00ae], Buffer.alloc(16, 1))));
    expect(looksLikeDtls(dg)).toBe(true);
    const d = decodeDtlsDatagram(dg);
    expect(d.records).toHaveLength(1);
    expect(d.records[0]!.handshake).toMatchObject({ type: 'client_hello', clientVersion: 'DTLS 1.2', cookieLength: 16, cipherSuites: [0xc0a8, 0x00ae] });
    expect(describeDtls(d)).toBe('DTLS client_hello (ciphers TLS_PSK_WITH_AES_128_CCM_8,TLS_PSK_WITH_AES_128_CBC_SHA256; cookie 16 B)');
  });

  test('a PSK ClientKeyExchange shows the identity; several records in one datagram are all read', () => {
    const identity = Buffer.from('dev-1');
    const cke = handshake(16, Buffer.concat([Buffer.from([0, identity.length]), identity]));
    const dg = Buffer.concat([record(22, 0, cke), record(20, 0, Buffer.from([1])), record(22, 1, Buffer.alloc(40, 9))]);
    const d = decodeDtlsDatagram(dg);
    expect(d.records.map((r) => r.contentType)).toEqual(['handshake', 'change_cipher_spec', 'handshake']);
    expect(d.records[0]!.handshake!.pskIdentity).toBe('dev-1');
    expect(d.records[2]!.encrypted).toBe(true);
    expect(d.records[2]!.handshake).toBeUndefined();
  });

  test('an alert is named', () => {
    const d = decodeDtlsDatagram(record(21, 0, Buffer.from([2, 40])));
    expect(d.records[0]!.alert).toEqual({ level: 'fatal', description: 'handshake_failure' });
  });

  test('truncated or garbage input is described, never thrown', () => {
    const dg = record(22, 0, handshake(1, clientHello([0xc0a8])));
    expect(decodeDtlsDatagram(dg.subarray(0, 20)).trailing).toMatch(/runs past the end/);
    expect(decodeDtlsDatagram(Buffer.from('0102', 'hex')).trailing).toMatch(/shorter than a record header/);
    let seed = 7;
    for (let n = 0; n < 2000; n++) {
      const len = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 80;
      const b = Buffer.alloc(len);
      for (let k = 0; k < len; k++) b[k] = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
      if (n % 2 === 0 && len > 13) {
        b[0] = 22;
        b[1] = 0xfe;
        b[3] = 0;
        b[4] = 0;
      }
      expect(() => describeDtls(decodeDtlsDatagram(b))).not.toThrow();
    }
  });
});
