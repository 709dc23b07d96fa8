/**
 * ICS (Implementation Conformance Statement) registry: the one list of features a DUT
 * profile may claim or disclaim. Cases name an ICS key to say which feature they need; the
 * profile schema accepts exactly these keys, so a typo in a profile is an error rather than
 * a silently unclaimed feature.
 */

export type IcsStatus = 'mandatory' | 'optional';

export interface IcsEntry {
  key: string;
  description: string;
  status: IcsStatus;
  /** Catalog row id (harness/catalog/requirements.ts) that makes the feature mandatory or optional. */
  requirement: string;
}

export const ICS_REGISTRY: readonly IcsEntry[] = [
  {
    key: 'bootstrap.client-initiated',
    description: 'Client-Initiated Bootstrap (Bootstrap-Request to the Bootstrap-Server URI)',
    status: 'mandatory',
    requirement: 'GEISA-ADM-BS-01',
  },
  {
    key: 'bootstrap.out-of-band-provisioning',
    description: 'Out-of-band mechanism to pre-provision the Bootstrap-Server URI and credentials (the profile "provision" action)',
    status: 'mandatory',
    requirement: 'GEISA-ADM-BS-02',
  },
  {
    key: 'bootstrap.provisionable-endpoint-name',
    description: 'The Endpoint Client Name can be set at provisioning (many meters derive it from a hardware identity instead)',
    status: 'optional',
    requirement: 'GEISA-ADM-BS-02',
  },
  {
    key: 'bootstrap.factory',
    description: 'Factory bootstrap: the device registers directly with pre-configured Server accounts',
    status: 'optional',
    requirement: 'GEISA-ADM-BS-03',
  },
  {
    key: 'bootstrap.pack-request',
    description: 'Bootstrap-Pack-Request (LwM2M 1.2): the device asks GET /bspack for its bootstrap configuration in one pack before any Bootstrap-Request',
    status: 'optional',
    requirement: 'LWM2M-CORE-BSPACK-01',
  },
  {
    key: 'bootstrap.server-initiated',
    description: 'Server-Initiated Bootstrap',
    status: 'optional',
    requirement: 'GEISA-ADM-BS-03',
  },
  {
    key: 'content-format.tlv',
    description: 'OMA-TLV content format (11542) in Bootstrap-Write',
    status: 'optional',
    requirement: 'LWM2M-CORE-BS-07',
  },
  {
    key: 'content-format.senml-json',
    description: 'SenML JSON content format (110) in Bootstrap-Write',
    status: 'optional',
    requirement: 'LWM2M-CORE-BS-07',
  },
  {
    key: 'content-format.senml-cbor',
    description: 'SenML CBOR content format (112) in Bootstrap-Write',
    status: 'optional',
    requirement: 'LWM2M-CORE-BS-07',
  },
  {
    key: 'content-format.lwm2m-cbor',
    description: 'LwM2M CBOR content format (11544, LwM2M 1.2) in Bootstrap-Write',
    status: 'optional',
    requirement: 'LWM2M-CORE-BS-07',
  },
  {
    key: 'server.bootstrap-request-trigger',
    description: 'Bootstrap-Request Trigger resource /1/x/9 (Execute starts Client-Initiated Bootstrap)',
    status: 'optional',
    requirement: 'LWM2M-CORE-BS-17',
  },
  {
    key: 'server.communication-retry',
    description: 'Communication retry resources /1/x/17-20 and the retry sequence they drive',
    status: 'mandatory',
    requirement: 'LWM2M-CORE-RETRY-01',
  },
  {
    key: 'registration.persisted-state',
    description: 'Registration state survives a reboot (the device may send an Update instead of a new Register)',
    status: 'optional',
    requirement: 'GEISA-ADM-REG-05',
  },
  {
    key: 'transport.dtls-psk',
    description: 'DTLS 1.2 in PSK mode with TLS_PSK_WITH_AES_128_CCM_8',
    status: 'mandatory',
    requirement: 'LWM2M-TRANS-DTLS-02',
  },
  {
    key: 'transport.dtls-certificate',
    description: 'DTLS 1.2 in certificate mode with TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8',
    status: 'mandatory',
    requirement: 'LWM2M-TRANS-DTLS-03',
  },
  {
    key: 'transport.est',
    description: 'Certificate mode with EST (Security Mode 4): the device enrolls its own certificate by EST-coaps (RFC 9148) after bootstrap',
    status: 'mandatory',
    requirement: 'GEISA-ADM-LWM2M-04',
  },
  {
    key: 'coap.block1',
    description: 'CoAP Block1 transfers (RFC 7959) for large Bootstrap-Writes',
    status: 'optional',
    requirement: 'COAP-06',
  },
];

export const ICS_KEYS: readonly string[] = ICS_REGISTRY.map((entry) => entry.key);

const BY_KEY = new Map(ICS_REGISTRY.map((entry) => [entry.key, entry]));

/** Throws on an unknown key: a case naming a key that does not exist is a programming error. */
export function icsEntry(key: string): IcsEntry {
  const entry = BY_KEY.get(key);
  if (!entry) throw new Error(`unknown ICS key '${key}'`);
  return entry;
}

export function isIcsKey(key: string): boolean {
  return BY_KEY.has(key);
}

/**
 * Whether the DUT claims a feature. A device is presumed to implement what is mandatory
 * unless it says otherwise, and to lack what is optional unless it says it has it.
 */
export function claims(ics: Readonly<Record<string, boolean>>, key: string): boolean {
  const entry = icsEntry(key);
  const declared = ics[key];
  return declared ?? entry.status === 'mandatory';
}

/** Mandatory keys the profile explicitly declares false: a conformance finding, not a load error. */
export function missingMandatory(ics: Readonly<Record<string, boolean>>): string[] {
  return ICS_REGISTRY.filter((entry) => entry.status === 'mandatory' && ics[entry.key] === false).map((entry) => entry.key);
}
