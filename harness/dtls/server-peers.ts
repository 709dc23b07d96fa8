/**
 * The DTLS server's per-peer state and the decisions taken on it alone: whether a
 * ClientHello restarts an association, which session gives way to a new peer, what an
 * established handshake reports. server.ts owns the socket and the session table.
 */
import type { HandshakeDriver } from './handshake-driver.js';
import type { HandshakeWire } from './handshake-wire.js';
import type { NativeSession, SessionInfo } from './native.js';
import type { ClientHelloView } from './records.js';
import { HANDSHAKE_INFO_FIELDS, type DtlsHandshakeEvent } from './server-types.js';
import type { Address, DtlsAlert } from './types.js';

export type SessionState = 'handshaking' | 'established' | 'closed';

export interface PeerSession {
  key: string;
  remote: Address;
  native: NativeSession;
  state: SessionState;
  startedNs: bigint;
  lastActivity: number;
  handshakeBytes: number;
  cookieVerified: boolean;
  /** ClientHello randoms this session has seen: a late duplicate must not restart it. */
  helloRandoms: Set<string>;
  alerts: DtlsAlert[];
  offered: { identity: string | null };
  /** The handshake as seen on the wire; dropped once it is established. */
  wire?: HandshakeWire;
  driver: HandshakeDriver;
  /** A new handshake from the same address:port, kept apart until the peer proves it is there. */
  pending?: PeerSession;
}

/**
 * RFC 6347 §4.2.8: a ClientHello in epoch 0 on a live association may be a rebooted
 * client on the same port. It gets a fresh session, and the old one stays until the
 * new one returns a valid cookie (the peer has shown it owns the address).
 */
export function startsNewHandshake(s: PeerSession, hello: ClientHelloView): boolean {
  if (s.pending) return true;
  if (s.state === 'established') return hello.random === undefined || !s.helloRandoms.has(hello.random);
  // Mid-handshake: a ClientHello carrying a cookie is the client's retransmission,
  // which OpenSSL answers; one without a cookie after ours was accepted is a restart.
  return s.cookieVerified && hello.messageSeq === 0 && hello.cookieLength === 0;
}

/**
 * The session to drop to make room for a new peer. A handshake that never returned our
 * cookie costs a spoofer one datagram, so those go first, then unfinished handshakes, and
 * an established session (a real device between two exchanges) only when every session is
 * one: a flood of ClientHellos from new ports cannot push a device out of its association.
 */
export function evictionVictim(sessions: Iterable<PeerSession>): PeerSession | undefined {
  const rank = (s: PeerSession) => (s.state === 'established' ? 2 : s.cookieVerified ? 1 : 0);
  let victim: PeerSession | undefined;
  for (const s of sessions) {
    if (!victim || rank(s) < rank(victim) || (rank(s) === rank(victim) && s.lastActivity < victim.lastActivity)) victim = s;
  }
  return victim;
}

export function handshakeEvent(s: PeerSession, local: Address): DtlsHandshakeEvent {
  const info = s.native.info();
  const picked = Object.fromEntries(HANDSHAKE_INFO_FIELDS.map((k) => [k, info[k]])) as Pick<SessionInfo, (typeof HANDSHAKE_INFO_FIELDS)[number]>;
  return { remote: s.remote, local, ...picked, durationMs: elapsedMs(s.startedNs) };
}

export function elapsedMs(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e6;
}
