/**
 * TLS/DTLS cipher suites by IANA number (IANA "TLS Cipher Suites" registry names), so a
 * ClientHello is reported by name and a long offer is summarised. Covers every suite the
 * OpenSSL 3.0 in the node binary knows plus those IoT stacks offer that it does not
 * (static ECDH, ECDHE_PSK AEAD, ECJPAKE, TLS 1.3 CCM, the signalling values). The harness
 * keeps its own table: the reference device's (fixtures/device/ciphersuites.ts) is the
 * device's business.
 */

const NAMES: Readonly<Record<number, string>> = {
  0x0000: 'TLS_NULL_WITH_NULL_NULL',
  0x0001: 'TLS_RSA_WITH_NULL_MD5',
  0x0002: 'TLS_RSA_WITH_NULL_SHA',
  0x0004: 'TLS_RSA_WITH_RC4_128_MD5',
  0x0005: 'TLS_RSA_WITH_RC4_128_SHA',
  0x000a: 'TLS_RSA_WITH_3DES_EDE_CBC_SHA',
  0x0013: 'TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA',
  0x0016: 'TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA',
  0x002c: 'TLS_PSK_WITH_NULL_SHA',
  0x002d: 'TLS_DHE_PSK_WITH_NULL_SHA',
  0x002e: 'TLS_RSA_PSK_WITH_NULL_SHA',
  0x002f: 'TLS_RSA_WITH_AES_128_CBC_SHA',
  0x0032: 'TLS_DHE_DSS_WITH_AES_128_CBC_SHA',
  0x0033: 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA',
  0x0034: 'TLS_DH_anon_WITH_AES_128_CBC_SHA',
  0x0035: 'TLS_RSA_WITH_AES_256_CBC_SHA',
  0x0038: 'TLS_DHE_DSS_WITH_AES_256_CBC_SHA',
  0x0039: 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA',
  0x003a: 'TLS_DH_anon_WITH_AES_256_CBC_SHA',
  0x003b: 'TLS_RSA_WITH_NULL_SHA256',
  0x003c: 'TLS_RSA_WITH_AES_128_CBC_SHA256',
  0x003d: 'TLS_RSA_WITH_AES_256_CBC_SHA256',
  0x0040: 'TLS_DHE_DSS_WITH_AES_128_CBC_SHA256',
  0x0041: 'TLS_RSA_WITH_CAMELLIA_128_CBC_SHA',
  0x0044: 'TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA',
  0x0045: 'TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA',
  0x0046: 'TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA',
  0x0067: 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA256',
  0x006a: 'TLS_DHE_DSS_WITH_AES_256_CBC_SHA256',
  0x006b: 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA256',
  0x006c: 'TLS_DH_anon_WITH_AES_128_CBC_SHA256',
  0x006d: 'TLS_DH_anon_WITH_AES_256_CBC_SHA256',
  0x0084: 'TLS_RSA_WITH_CAMELLIA_256_CBC_SHA',
  0x0087: 'TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA',
  0x0088: 'TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA',
  0x0089: 'TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA',
  0x008a: 'TLS_PSK_WITH_RC4_128_SHA',
  0x008b: 'TLS_PSK_WITH_3DES_EDE_CBC_SHA',
  0x008c: 'TLS_PSK_WITH_AES_128_CBC_SHA',
  0x008d: 'TLS_PSK_WITH_AES_256_CBC_SHA',
  0x0090: 'TLS_DHE_PSK_WITH_AES_128_CBC_SHA',
  0x0091: 'TLS_DHE_PSK_WITH_AES_256_CBC_SHA',
  0x0094: 'TLS_RSA_PSK_WITH_AES_128_CBC_SHA',
  0x0095: 'TLS_RSA_PSK_WITH_AES_256_CBC_SHA',
  0x009c: 'TLS_RSA_WITH_AES_128_GCM_SHA256',
  0x009d: 'TLS_RSA_WITH_AES_256_GCM_SHA384',
  0x009e: 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256',
  0x009f: 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384',
  0x00a2: 'TLS_DHE_DSS_WITH_AES_128_GCM_SHA256',
  0x00a3: 'TLS_DHE_DSS_WITH_AES_256_GCM_SHA384',
  0x00a6: 'TLS_DH_anon_WITH_AES_128_GCM_SHA256',
  0x00a7: 'TLS_DH_anon_WITH_AES_256_GCM_SHA384',
  0x00a8: 'TLS_PSK_WITH_AES_128_GCM_SHA256',
  0x00a9: 'TLS_PSK_WITH_AES_256_GCM_SHA384',
  0x00aa: 'TLS_DHE_PSK_WITH_AES_128_GCM_SHA256',
  0x00ab: 'TLS_DHE_PSK_WITH_AES_256_GCM_SHA384',
  0x00ac: 'TLS_RSA_PSK_WITH_AES_128_GCM_SHA256',
  0x00ad: 'TLS_RSA_PSK_WITH_AES_256_GCM_SHA384',
  0x00ae: 'TLS_PSK_WITH_AES_128_CBC_SHA256',
  0x00af: 'TLS_PSK_WITH_AES_256_CBC_SHA384',
  0x00b0: 'TLS_PSK_WITH_NULL_SHA256',
  0x00b1: 'TLS_PSK_WITH_NULL_SHA384',
  0x00b2: 'TLS_DHE_PSK_WITH_AES_128_CBC_SHA256',
  0x00b3: 'TLS_DHE_PSK_WITH_AES_256_CBC_SHA384',
  0x00b4: 'TLS_DHE_PSK_WITH_NULL_SHA256',
  0x00b5: 'TLS_DHE_PSK_WITH_NULL_SHA384',
  0x00b6: 'TLS_RSA_PSK_WITH_AES_128_CBC_SHA256',
  0x00b7: 'TLS_RSA_PSK_WITH_AES_256_CBC_SHA384',
  0x00b8: 'TLS_RSA_PSK_WITH_NULL_SHA256',
  0x00b9: 'TLS_RSA_PSK_WITH_NULL_SHA384',
  0x00ba: 'TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256',
  0x00bd: 'TLS_DHE_DSS_WITH_CAMELLIA_128_CBC_SHA256',
  0x00be: 'TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA256',
  0x00bf: 'TLS_DH_anon_WITH_CAMELLIA_128_CBC_SHA256',
  0x00c0: 'TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256',
  0x00c3: 'TLS_DHE_DSS_WITH_CAMELLIA_256_CBC_SHA256',
  0x00c4: 'TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA256',
  0x00c5: 'TLS_DH_anon_WITH_CAMELLIA_256_CBC_SHA256',
  0x00ff: 'TLS_EMPTY_RENEGOTIATION_INFO_SCSV',
  0x1301: 'TLS_AES_128_GCM_SHA256',
  0x1302: 'TLS_AES_256_GCM_SHA384',
  0x1303: 'TLS_CHACHA20_POLY1305_SHA256',
  0x1304: 'TLS_AES_128_CCM_SHA256',
  0x1305: 'TLS_AES_128_CCM_8_SHA256',
  0x5600: 'TLS_FALLBACK_SCSV',
  0xc001: 'TLS_ECDH_ECDSA_WITH_NULL_SHA',
  0xc002: 'TLS_ECDH_ECDSA_WITH_RC4_128_SHA',
  0xc003: 'TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA',
  0xc004: 'TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA',
  0xc005: 'TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA',
  0xc006: 'TLS_ECDHE_ECDSA_WITH_NULL_SHA',
  0xc007: 'TLS_ECDHE_ECDSA_WITH_RC4_128_SHA',
  0xc008: 'TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA',
  0xc009: 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA',
  0xc00a: 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA',
  0xc00b: 'TLS_ECDH_RSA_WITH_NULL_SHA',
  0xc00c: 'TLS_ECDH_RSA_WITH_RC4_128_SHA',
  0xc00d: 'TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA',
  0xc00e: 'TLS_ECDH_RSA_WITH_AES_128_CBC_SHA',
  0xc00f: 'TLS_ECDH_RSA_WITH_AES_256_CBC_SHA',
  0xc010: 'TLS_ECDHE_RSA_WITH_NULL_SHA',
  0xc011: 'TLS_ECDHE_RSA_WITH_RC4_128_SHA',
  0xc012: 'TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA',
  0xc013: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA',
  0xc014: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA',
  0xc015: 'TLS_ECDH_anon_WITH_NULL_SHA',
  0xc018: 'TLS_ECDH_anon_WITH_AES_128_CBC_SHA',
  0xc019: 'TLS_ECDH_anon_WITH_AES_256_CBC_SHA',
  0xc01d: 'TLS_SRP_SHA_WITH_AES_128_CBC_SHA',
  0xc01e: 'TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA',
  0xc01f: 'TLS_SRP_SHA_DSS_WITH_AES_128_CBC_SHA',
  0xc020: 'TLS_SRP_SHA_WITH_AES_256_CBC_SHA',
  0xc021: 'TLS_SRP_SHA_RSA_WITH_AES_256_CBC_SHA',
  0xc022: 'TLS_SRP_SHA_DSS_WITH_AES_256_CBC_SHA',
  0xc023: 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256',
  0xc024: 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384',
  0xc025: 'TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256',
  0xc026: 'TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384',
  0xc027: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256',
  0xc028: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384',
  0xc029: 'TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256',
  0xc02a: 'TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384',
  0xc02b: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  0xc02c: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  0xc02d: 'TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256',
  0xc02e: 'TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384',
  0xc02f: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  0xc030: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  0xc031: 'TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256',
  0xc032: 'TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384',
  0xc034: 'TLS_ECDHE_PSK_WITH_3DES_EDE_CBC_SHA',
  0xc035: 'TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA',
  0xc036: 'TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA',
  0xc037: 'TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256',
  0xc038: 'TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384',
  0xc039: 'TLS_ECDHE_PSK_WITH_NULL_SHA',
  0xc03a: 'TLS_ECDHE_PSK_WITH_NULL_SHA256',
  0xc03b: 'TLS_ECDHE_PSK_WITH_NULL_SHA384',
  0xc050: 'TLS_RSA_WITH_ARIA_128_GCM_SHA256',
  0xc051: 'TLS_RSA_WITH_ARIA_256_GCM_SHA384',
  0xc052: 'TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256',
  0xc053: 'TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384',
  0xc056: 'TLS_DHE_DSS_WITH_ARIA_128_GCM_SHA256',
  0xc057: 'TLS_DHE_DSS_WITH_ARIA_256_GCM_SHA384',
  0xc05c: 'TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256',
  0xc05d: 'TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384',
  0xc060: 'TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256',
  0xc061: 'TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384',
  0xc06a: 'TLS_PSK_WITH_ARIA_128_GCM_SHA256',
  0xc06b: 'TLS_PSK_WITH_ARIA_256_GCM_SHA384',
  0xc06c: 'TLS_DHE_PSK_WITH_ARIA_128_GCM_SHA256',
  0xc06d: 'TLS_DHE_PSK_WITH_ARIA_256_GCM_SHA384',
  0xc06e: 'TLS_RSA_PSK_WITH_ARIA_128_GCM_SHA256',
  0xc06f: 'TLS_RSA_PSK_WITH_ARIA_256_GCM_SHA384',
  0xc072: 'TLS_ECDHE_ECDSA_WITH_CAMELLIA_128_CBC_SHA256',
  0xc073: 'TLS_ECDHE_ECDSA_WITH_CAMELLIA_256_CBC_SHA384',
  0xc076: 'TLS_ECDHE_RSA_WITH_CAMELLIA_128_CBC_SHA256',
  0xc077: 'TLS_ECDHE_RSA_WITH_CAMELLIA_256_CBC_SHA384',
  0xc094: 'TLS_PSK_WITH_CAMELLIA_128_CBC_SHA256',
  0xc095: 'TLS_PSK_WITH_CAMELLIA_256_CBC_SHA384',
  0xc096: 'TLS_DHE_PSK_WITH_CAMELLIA_128_CBC_SHA256',
  0xc097: 'TLS_DHE_PSK_WITH_CAMELLIA_256_CBC_SHA384',
  0xc098: 'TLS_RSA_PSK_WITH_CAMELLIA_128_CBC_SHA256',
  0xc099: 'TLS_RSA_PSK_WITH_CAMELLIA_256_CBC_SHA384',
  0xc09a: 'TLS_ECDHE_PSK_WITH_CAMELLIA_128_CBC_SHA256',
  0xc09b: 'TLS_ECDHE_PSK_WITH_CAMELLIA_256_CBC_SHA384',
  0xc09c: 'TLS_RSA_WITH_AES_128_CCM',
  0xc09d: 'TLS_RSA_WITH_AES_256_CCM',
  0xc09e: 'TLS_DHE_RSA_WITH_AES_128_CCM',
  0xc09f: 'TLS_DHE_RSA_WITH_AES_256_CCM',
  0xc0a0: 'TLS_RSA_WITH_AES_128_CCM_8',
  0xc0a1: 'TLS_RSA_WITH_AES_256_CCM_8',
  0xc0a2: 'TLS_DHE_RSA_WITH_AES_128_CCM_8',
  0xc0a3: 'TLS_DHE_RSA_WITH_AES_256_CCM_8',
  0xc0a4: 'TLS_PSK_WITH_AES_128_CCM',
  0xc0a5: 'TLS_PSK_WITH_AES_256_CCM',
  0xc0a6: 'TLS_DHE_PSK_WITH_AES_128_CCM',
  0xc0a7: 'TLS_DHE_PSK_WITH_AES_256_CCM',
  0xc0a8: 'TLS_PSK_WITH_AES_128_CCM_8',
  0xc0a9: 'TLS_PSK_WITH_AES_256_CCM_8',
  0xc0aa: 'TLS_PSK_DHE_WITH_AES_128_CCM_8',
  0xc0ab: 'TLS_PSK_DHE_WITH_AES_256_CCM_8',
  0xc0ac: 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM',
  0xc0ad: 'TLS_ECDHE_ECDSA_WITH_AES_256_CCM',
  0xc0ae: 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8',
  0xc0af: 'TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8',
  0xc0ff: 'TLS_ECJPAKE_WITH_AES_128_CCM_8',
  0xcca8: 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
  0xcca9: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
  0xccaa: 'TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
  0xccab: 'TLS_PSK_WITH_CHACHA20_POLY1305_SHA256',
  0xccac: 'TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256',
  0xccad: 'TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256',
  0xccae: 'TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256',
  0xd001: 'TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256',
  0xd002: 'TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384',
  0xd003: 'TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256',
  0xd005: 'TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256',
};

/** RFC 5746 / RFC 7507 values: signals in a ClientHello, not suites to negotiate. */
export const SIGNALLING_SUITE_IDS: ReadonlySet<number> = new Set([0x00ff, 0x5600]);

/** RFC 8701 GREASE values (0x0A0A, 0x1A1A, ... 0xFAFA): meant to be ignored. */
function isGrease(id: number): boolean {
  return (id & 0x0f0f) === 0x0a0a && id >> 8 === (id & 0xff);
}

function hex(id: number): string {
  return `0x${id.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The IANA name; a value the table lacks is shown with its number and said to be unknown. */
export function cipherSuiteName(id: number): string {
  const name = NAMES[id];
  if (name) return name;
  if (isGrease(id)) return `GREASE ${hex(id)}`;
  return `${hex(id)} (not a suite the harness knows)`;
}

/** The IANA number of a name, or undefined. */
export function cipherSuiteId(name: string): number | undefined {
  for (const [id, n] of Object.entries(NAMES)) if (n === name) return Number(id);
  return undefined;
}

/** Key exchange and authentication ("ECDHE_ECDSA", "PSK", "TLS 1.3"), for summaries. */
export function cipherSuiteFamily(id: number): string {
  if (SIGNALLING_SUITE_IDS.has(id)) return 'signalling';
  const name = NAMES[id];
  if (!name) return isGrease(id) ? 'GREASE' : 'unknown';
  const m = /^TLS_(.+?)_WITH_/.exec(name);
  return m ? m[1]! : 'TLS 1.3';
}

export interface CipherListOptions {
  /** Above this many suites the list is summarised (default 8). */
  max?: number;
  /** Suites that matter here (those the server accepts): each is said to be offered, with its position, or not. */
  highlight?: readonly number[];
}

/**
 * A ClientHello's suite list by name. Up to `max` suites: all of them, in order. More: how
 * many, how many per key exchange, the first few in the client's order, and where each
 * highlighted suite stands, so a list of 80 stays one readable line.
 */
export function describeCipherList(ids: readonly number[], opts: CipherListOptions = {}): string {
  const max = opts.max ?? 8;
  const highlight = (opts.highlight ?? []).map((h) => {
    const at = ids.indexOf(h);
    return at >= 0 ? `${cipherSuiteName(h)} offered (position ${at + 1})` : `${cipherSuiteName(h)} not offered`;
  });
  const tail = highlight.length ? `; ${highlight.join(', ')}` : '';
  if (ids.length === 0) return `no suites${tail}`;
  if (ids.length <= max) return `${ids.map(cipherSuiteName).join(', ')}${tail}`;
  const families = new Map<string, number>();
  for (const id of ids) families.set(cipherSuiteFamily(id), (families.get(cipherSuiteFamily(id)) ?? 0) + 1);
  const byCount = [...families].sort((a, b) => b[1] - a[1]).map(([f, n]) => `${f} ${n}`);
  const first = Math.max(1, Math.min(4, max - 2));
  return `${ids.length} suites (${byCount.join(', ')}), first ${ids.slice(0, first).map(cipherSuiteName).join(', ')}${tail}`;
}
