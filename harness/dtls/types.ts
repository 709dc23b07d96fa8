/**
 * What the DTLS server (server.ts) and client (client.ts) both speak in: peer addresses,
 * the datagram and message events a recorder or a CoAP endpoint listens to, alerts.
 * Kept apart so neither role imports the other.
 */
import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import type { NativeAlert } from './native.js';

export interface Address {
  address: string;
  port: number;
}

export interface DtlsRecordEvent {
  direction: 'in' | 'out';
  local: Address;
  remote: Address;
  /** process.hrtime.bigint(), taken in the socket callback (in) or at send (out). */
  monoNs: bigint;
  /** The whole UDP payload: one or more DTLS records. */
  bytes: Buffer;
}

export interface DtlsMessageEvent {
  bytes: Buffer;
  remote: Address;
  monoNs: bigint;
}

export interface DtlsAlert extends NativeAlert {}

/** `[::1]:5684` or `127.0.0.1:5684`: how a peer is named in messages and session keys. */
export function peerLabel(a: Address): string {
  return isIPv6(a.address) ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** `sha256:1a2b3c4d (16 bytes)`: how a key may be named, never by its bytes. */
export function keyFingerprint(key: Buffer): string {
  return `sha256:${createHash('sha256').update(key).digest('hex').slice(0, 8)} (${key.length} bytes)`;
}
