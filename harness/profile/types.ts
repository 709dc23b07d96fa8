/**
 * The profile the harness works with: fully defaulted, actions resolved, the PSK as bytes.
 * Field names and value types come from the TypeBox schema (schema.ts), so a field added
 * there reaches these types without a second hand-kept copy.
 */
import type { DutAction } from './actions.js';
import { PROFILE_DEFAULTS, type PROFILE_SCHEMA_VERSION, type RawAction, type RawProfile } from './schema.js';

type RawAdapter = RawProfile['adapter'];
type RawIxit = NonNullable<RawProfile['ixit']>;
type RawCoap = NonNullable<RawIxit['coap']>;

export type AdapterKind = RawAdapter['kind'];

export interface ExecAction {
  type: 'exec';
  /** Template; see harness/dut/template.ts. */
  command: string;
  timeoutS: number;
  /** start only: the command is a long-running device process. */
  background: boolean;
  /** Regular expression source; a background start is ready once an output line matches. */
  readyLine?: RawAction['readyLine'];
}

export interface ManualAction {
  type: 'manual';
  instruction: string;
}

export type ProfileAction = ExecAction | ManualAction;

/** RFC 7252 §4.8 parameters; maxLatencyS (a property of the network) absent means the RFC's 100 s. */
export type CoapTransmission = Required<Omit<RawCoap, 'maxLatencyS'>> & Pick<RawCoap, 'maxLatencyS'>;

/** Certificate mode with EST (IXIT): what the device enrolls with and where it finds the EST server. */
export type EstIxit = Required<NonNullable<RawIxit['est']>>;

/** est is filled by the loader with its defaults; optional so a hand-made profile may leave it out. */
export type Ixit = Required<Omit<RawIxit, 'coap' | 'est'>> & { coap: CoapTransmission; est?: EstIxit };

/** The EST IXIT of a profile, defaults applied. */
export function estIxit(ixit: Ixit): EstIxit {
  return { ...PROFILE_DEFAULTS.ixit.est, ...ixit.est };
}

export type HarnessNetwork = Required<NonNullable<RawProfile['harness']>>;

export interface Psk {
  identity: string;
  key: Buffer;
}

export interface Profile {
  schema: typeof PROFILE_SCHEMA_VERSION;
  /** File the profile came from, for reports. */
  source: string;
  dut: Required<RawProfile['dut']>;
  /** parallel: how many instances of the device can run at once, one per case (1: a physical device). */
  adapter: { kind: AdapterKind; actions: Partial<Record<DutAction, ProfileAction>>; parallel: number };
  harness: HarnessNetwork;
  ixit: Ixit;
  /** Only what the profile declares; use claims() from ics-registry.ts to apply defaults. */
  ics: Record<string, boolean>;
  secrets: { bootstrapPsk?: Psk };
  /** Certificate-mode trust material; the manufacturer CA is read from its file at load time. */
  certificates: { manufacturerCaPem?: string; manufacturerCaFile?: string };
}
