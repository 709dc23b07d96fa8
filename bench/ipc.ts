/** What the bench's processes tell each other (node IPC, JSON: no bigint, no Buffer). */
import { createHash } from 'node:crypto';

export const STAMP_MAGIC = 'geisa-bench-stamp';

export type LoadMode = 'coap' | 'dtls';

/** main → load harness */
export interface LoadRequest {
  mode: LoadMode;
  devices: number;
  /** Devices in flight at once; the next starts when one finishes. */
  window: number;
}

/** load harness → devices */
export interface DevicesStart {
  mode: LoadMode;
  port: number;
  devices: number;
  window: number;
  /** dtls: each device's PSK is derived from this (never printed, never written). */
  pskSeedHex?: string;
}

export interface DeviceOutcome {
  ok: boolean;
  /** Start of the session to its end (2.01 for CoAP, established + echoed for DTLS), ms. */
  latencyMs: number;
  /** Why a lost one was lost. */
  reason?: string;
  /** CoAP retransmissions the device made. */
  retransmissions: number;
}

/** devices → load harness, once every device has finished (they then stay idle, sockets open). */
export interface DevicesReport {
  outcomes: DeviceOutcome[];
  elapsedMs: number;
}

export function benchPsk(seedHex: string, i: number): { identity: string; key: Buffer } {
  return { identity: `bench-dtls-${i}`, key: createHash('sha256').update(seedHex).update(String(i)).digest().subarray(0, 16) };
}
