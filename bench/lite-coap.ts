/**
 * The few CoAP messages a simulated device needs (RFC 7252 §3), written apart from the
 * harness's codec on purpose: a load generator that shared the harness's decoder would
 * share its bugs, and would cost as much CPU per message as the process it loads.
 * Only what the bench sends and receives: no Block, no Observe, no DTLS.
 */

export type LiteType = 0 | 1 | 2 | 3; // CON NON ACK RST

export interface LiteMessage {
  type: LiteType;
  /** class * 32 + detail, as on the wire (0x44 = 2.04). */
  code: number;
  mid: number;
  token: Buffer;
  options: { number: number; value: Buffer }[];
  payload: Buffer;
}

export const CON = 0;
export const NON = 1;
export const ACK = 2;
export const RST = 3;

export const OPT = { LOCATION_PATH: 8, URI_PATH: 11, CONTENT_FORMAT: 12, URI_QUERY: 15, ACCEPT: 17 } as const;

export const code = (cls: number, detail: number): number => cls * 32 + detail;
export const codeText = (c: number): string => `${c >> 5}.${String(c & 31).padStart(2, '0')}`;

function nibble(n: number): { n: number; ext: Buffer } {
  if (n < 13) return { n, ext: Buffer.alloc(0) };
  if (n < 269) return { n: 13, ext: Buffer.from([n - 13]) };
  const ext = Buffer.alloc(2);
  ext.writeUInt16BE(n - 269);
  return { n: 14, ext };
}

export function encode(m: LiteMessage): Buffer {
  const parts: Buffer[] = [Buffer.from([0x40 | (m.type << 4) | m.token.length, m.code, m.mid >> 8, m.mid & 0xff]), m.token];
  let last = 0;
  for (const o of [...m.options].sort((a, b) => a.number - b.number)) {
    const d = nibble(o.number - last);
    const l = nibble(o.value.length);
    parts.push(Buffer.from([(d.n << 4) | l.n]), d.ext, l.ext, o.value);
    last = o.number;
  }
  if (m.payload.length) parts.push(Buffer.from([0xff]), m.payload);
  return Buffer.concat(parts);
}

/** Throws on anything malformed: the bench counts it, a device under load must not see one. */
export function decode(b: Buffer): LiteMessage {
  if (b.length < 4 || b[0]! >> 6 !== 1) throw new Error('not a CoAP 1 message');
  const tkl = b[0]! & 15;
  if (tkl > 8) throw new Error('token length > 8');
  const m: LiteMessage = { type: ((b[0]! >> 4) & 3) as LiteType, code: b[1]!, mid: b.readUInt16BE(2), token: b.subarray(4, 4 + tkl), options: [], payload: Buffer.alloc(0) };
  let i = 4 + tkl;
  let num = 0;
  const ext = (n: number): number => {
    if (n < 13) return n;
    if (n === 13) return b[i++]! + 13;
    if (n === 14) {
      const v = b.readUInt16BE(i) + 269;
      i += 2;
      return v;
    }
    throw new Error('reserved option nibble');
  };
  while (i < b.length) {
    if (b[i] === 0xff) {
      m.payload = b.subarray(i + 1);
      break;
    }
    const head = b[i++]!;
    num += ext(head >> 4);
    const len = ext(head & 15);
    if (i + len > b.length) throw new Error('option runs past the datagram');
    m.options.push({ number: num, value: b.subarray(i, i + len) });
    i += len;
  }
  return m;
}

export function pathOf(m: LiteMessage): string {
  return (
    '/' +
    m.options
      .filter((o) => o.number === OPT.URI_PATH)
      .map((o) => o.value.toString('utf8'))
      .join('/')
  );
}

export function strings(number: number, values: string[]): { number: number; value: Buffer }[] {
  return values.map((v) => ({ number, value: Buffer.from(v, 'utf8') }));
}

/**
 * The string value of one resource in an OMA-TLV object-instance payload (LwM2M Core
 * §7.4.3): enough to read the Server URI (/0/x/0) the Bootstrap-Server wrote.
 */
export function tlvResourceString(payload: Buffer, resourceId: number): string | undefined {
  const walk = (b: Buffer): string | undefined => {
    let i = 0;
    while (i < b.length) {
      const t = b[i]!;
      const kind = t >> 6; // 0 object instance, 1 resource instance, 2 multiple resource, 3 resource
      const idLen = t & 0x20 ? 2 : 1;
      const id = idLen === 2 ? b.readUInt16BE(i + 1) : b[i + 1]!;
      let p = i + 1 + idLen;
      const lenType = (t >> 3) & 3;
      let len = t & 7;
      if (lenType > 0) {
        len = b.readUIntBE(p, lenType);
        p += lenType;
      }
      const value = b.subarray(p, p + len);
      if (kind === 0) {
        const inner = walk(value);
        if (inner !== undefined) return inner;
      } else if (kind === 3 && id === resourceId) return value.toString('utf8');
      i = p + len;
    }
    return undefined;
  };
  return walk(payload);
}
