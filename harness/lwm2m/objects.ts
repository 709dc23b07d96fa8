import { pathLevel, type Lwm2mPath } from './path.js';
import type { ResourceType } from './values.js';

export type Operations = 'R' | 'W' | 'RW' | 'E' | '';

export interface ResourceDefinition {
  id: number;
  name: string;
  type: ResourceType;
  multiple: boolean;
  mandatory: boolean;
  operations: Operations;
}

export interface ObjectDefinition {
  id: number;
  name: string;
  /** Object version from the OMA registry file the table follows. */
  version: string;
  multipleInstances: boolean;
  mandatory: boolean;
  resources: ReadonlyMap<number, ResourceDefinition>;
}

type Row = [id: number, name: string, type: ResourceType, operations: Operations, instances: 'single' | 'multiple', presence: 'mandatory' | 'optional'];

function defineObject(id: number, name: string, version: string, instances: 'single' | 'multiple', rows: Row[]): ObjectDefinition {
  const resources = new Map<number, ResourceDefinition>();
  for (const [rid, rname, type, operations, multi, presence] of rows) {
    resources.set(rid, { id: rid, name: rname, type, operations, multiple: multi === 'multiple', mandatory: presence === 'mandatory' });
  }
  return { id, name, version, multipleInstances: instances === 'multiple', mandatory: true, resources };
}

// Security resources have no operations in the registry: only a Bootstrap-Server (which
// is not bound by operations) may touch them, so every row carries ''.
export const SECURITY_OBJECT = defineObject(0, 'LwM2M Security', '1.2', 'multiple', [
  [0, 'LwM2M Server URI', 'string', '', 'single', 'mandatory'],
  [1, 'Bootstrap-Server', 'boolean', '', 'single', 'mandatory'],
  [2, 'Security Mode', 'integer', '', 'single', 'mandatory'],
  [3, 'Public Key or Identity', 'opaque', '', 'single', 'mandatory'],
  [4, 'Server Public Key', 'opaque', '', 'single', 'mandatory'],
  [5, 'Secret Key', 'opaque', '', 'single', 'mandatory'],
  [6, 'SMS Security Mode', 'integer', '', 'single', 'optional'],
  [7, 'SMS Binding Key Parameters', 'opaque', '', 'single', 'optional'],
  [8, 'SMS Binding Secret Key(s)', 'opaque', '', 'single', 'optional'],
  [9, 'LwM2M Server SMS Number', 'string', '', 'single', 'optional'],
  [10, 'Short Server ID', 'integer', '', 'single', 'optional'],
  [11, 'Client Hold Off Time', 'integer', '', 'single', 'optional'],
  [12, 'Bootstrap-Server Account Timeout', 'integer', '', 'single', 'optional'],
  [13, 'Matching Type', 'unsigned', '', 'single', 'optional'],
  [14, 'SNI', 'string', '', 'single', 'optional'],
  [15, 'Certificate Usage', 'unsigned', '', 'single', 'optional'],
  [16, 'DTLS/TLS Ciphersuite', 'unsigned', '', 'multiple', 'optional'],
  [17, 'OSCORE Security Mode', 'objlnk', '', 'single', 'optional'],
  [18, 'Groups To Use by Client', 'unsigned', '', 'multiple', 'optional'],
  [19, 'Signature Algorithms Supported by Server', 'unsigned', '', 'multiple', 'optional'],
  [20, 'Signature Algorithms To Use by Client', 'unsigned', '', 'multiple', 'optional'],
  [21, 'Signature Algorithm Certs Supported by Server', 'unsigned', '', 'multiple', 'optional'],
  [22, 'TLS 1.3 Features To Use by Client', 'unsigned', '', 'single', 'optional'],
  [23, 'TLS Extensions Supported by Server', 'unsigned', '', 'single', 'optional'],
  [24, 'TLS Extensions To Use by Client', 'unsigned', '', 'single', 'optional'],
  [25, 'Secondary LwM2M Server URI', 'string', '', 'multiple', 'optional'],
  [26, 'MQTT Server', 'objlnk', '', 'single', 'optional'],
  [27, 'LwM2M COSE Security', 'objlnk', '', 'multiple', 'optional'],
  [28, 'RDS Destination Port', 'integer', '', 'single', 'optional'],
  [29, 'RDS Source Port', 'integer', '', 'single', 'optional'],
  [30, 'RDS Application ID', 'string', '', 'single', 'optional'],
]);

export const SERVER_OBJECT = defineObject(1, 'LwM2M Server', '1.2', 'multiple', [
  [0, 'Short Server ID', 'integer', 'R', 'single', 'mandatory'],
  [1, 'Lifetime', 'integer', 'RW', 'single', 'mandatory'],
  [2, 'Default Minimum Period', 'integer', 'RW', 'single', 'optional'],
  [3, 'Default Maximum Period', 'integer', 'RW', 'single', 'optional'],
  [4, 'Disable', 'none', 'E', 'single', 'optional'],
  [5, 'Disable Timeout', 'integer', 'RW', 'single', 'optional'],
  [6, 'Notification Storing When Disabled or Offline', 'boolean', 'RW', 'single', 'mandatory'],
  [7, 'Binding', 'string', 'RW', 'single', 'mandatory'],
  [8, 'Registration Update Trigger', 'none', 'E', 'single', 'mandatory'],
  [9, 'Bootstrap-Request Trigger', 'none', 'E', 'single', 'optional'],
  [10, 'APN Link', 'objlnk', 'RW', 'single', 'optional'],
  [11, 'TLS-DTLS Alert Code', 'unsigned', 'R', 'single', 'optional'],
  [12, 'Last Bootstrapped', 'time', 'R', 'single', 'optional'],
  [13, 'Registration Priority Order', 'unsigned', 'RW', 'single', 'optional'],
  [14, 'Initial Registration Delay Timer', 'unsigned', 'RW', 'single', 'optional'],
  [15, 'Registration Failure Block', 'boolean', 'RW', 'single', 'optional'],
  [16, 'Bootstrap on Registration Failure', 'boolean', 'RW', 'single', 'optional'],
  [17, 'Communication Retry Count', 'unsigned', 'RW', 'single', 'optional'],
  [18, 'Communication Retry Timer', 'unsigned', 'RW', 'single', 'optional'],
  [19, 'Communication Sequence Delay Timer', 'unsigned', 'RW', 'single', 'optional'],
  [20, 'Communication Sequence Retry Count', 'unsigned', 'RW', 'single', 'optional'],
  [21, 'Trigger', 'boolean', 'RW', 'single', 'optional'],
  [22, 'Preferred Transport', 'string', 'RW', 'single', 'optional'],
  [23, 'Mute Send', 'boolean', 'RW', 'single', 'optional'],
  [24, 'Alternate APN Links', 'objlnk', 'RW', 'multiple', 'optional'],
  [25, 'Supported Server Versions', 'string', 'RW', 'multiple', 'optional'],
  [26, 'Default Notification Mode', 'integer', 'RW', 'single', 'optional'],
]);

export const DEVICE_OBJECT = defineObject(3, 'Device', '1.2', 'single', [
  [0, 'Manufacturer', 'string', 'R', 'single', 'optional'],
  [1, 'Model Number', 'string', 'R', 'single', 'optional'],
  [2, 'Serial Number', 'string', 'R', 'single', 'optional'],
  [3, 'Firmware Version', 'string', 'R', 'single', 'optional'],
  [4, 'Reboot', 'none', 'E', 'single', 'mandatory'],
  [5, 'Factory Reset', 'none', 'E', 'single', 'optional'],
  [6, 'Available Power Sources', 'integer', 'R', 'multiple', 'optional'],
  [7, 'Power Source Voltage', 'integer', 'R', 'multiple', 'optional'],
  [8, 'Power Source Current', 'integer', 'R', 'multiple', 'optional'],
  [9, 'Battery Level', 'integer', 'R', 'single', 'optional'],
  [10, 'Memory Free', 'integer', 'R', 'single', 'optional'],
  [11, 'Error Code', 'integer', 'R', 'multiple', 'mandatory'],
  [12, 'Reset Error Code', 'none', 'E', 'single', 'optional'],
  [13, 'Current Time', 'time', 'RW', 'single', 'optional'],
  [14, 'UTC Offset', 'string', 'RW', 'single', 'optional'],
  [15, 'Timezone', 'string', 'RW', 'single', 'optional'],
  [16, 'Supported Binding and Modes', 'string', 'R', 'single', 'mandatory'],
  [17, 'Device Type', 'string', 'R', 'single', 'optional'],
  [18, 'Hardware Version', 'string', 'R', 'single', 'optional'],
  [19, 'Software Version', 'string', 'R', 'single', 'optional'],
  [20, 'Battery Status', 'integer', 'R', 'single', 'optional'],
  [21, 'Memory Total', 'integer', 'R', 'single', 'optional'],
  [22, 'ExtDevInfo', 'objlnk', 'R', 'multiple', 'optional'],
]);

/** An optional object (4.xml): the reference device holds /4/0, which a Bootstrap-Delete / must remove. */
export const CONNECTIVITY_MONITORING_OBJECT: ObjectDefinition = {
  ...defineObject(4, 'Connectivity Monitoring', '1.3', 'single', [
    [0, 'Network Bearer', 'integer', 'R', 'single', 'mandatory'],
    [1, 'Available Network Bearer', 'integer', 'R', 'multiple', 'mandatory'],
    [2, 'Radio Signal Strength', 'integer', 'R', 'single', 'mandatory'],
    [3, 'Link Quality', 'integer', 'R', 'single', 'optional'],
    [4, 'IP Addresses', 'string', 'R', 'multiple', 'mandatory'],
    [5, 'Router IP Addresses', 'string', 'R', 'multiple', 'optional'],
    [6, 'Link Utilization', 'integer', 'R', 'single', 'optional'],
    [7, 'APN', 'string', 'R', 'multiple', 'optional'],
    [8, 'Cell ID', 'integer', 'R', 'single', 'optional'],
    [9, 'SMNC', 'integer', 'R', 'single', 'optional'],
    [10, 'SMCC', 'integer', 'R', 'single', 'optional'],
    [11, 'SignalSNR', 'integer', 'R', 'single', 'optional'],
    [12, 'LAC', 'integer', 'R', 'single', 'optional'],
    [13, 'Coverage Enhancement Level', 'integer', 'R', 'single', 'optional'],
  ]),
  mandatory: false,
};

export const OBJECT_DEFINITIONS: readonly ObjectDefinition[] = [SECURITY_OBJECT, SERVER_OBJECT, DEVICE_OBJECT, CONNECTIVITY_MONITORING_OBJECT];

const byId = new Map(OBJECT_DEFINITIONS.map((o) => [o.id, o]));

export function objectDefinition(objectId: number): ObjectDefinition | undefined {
  return byId.get(objectId);
}

export function resourceDefinition(objectId: number, resourceId: number): ResourceDefinition | undefined {
  return byId.get(objectId)?.resources.get(resourceId);
}

/** Type of the resource a path addresses; undefined above resource level or for unknown resources. */
export function resourceType(p: Lwm2mPath): ResourceType | undefined {
  const level = pathLevel(p);
  if (level !== 'resource' && level !== 'resourceInstance') return undefined;
  return resourceDefinition(p.objectId, p.resourceId!)?.type;
}

export interface SecretResource {
  objectId: number;
  resourceId: number;
  name: string;
}

/**
 * Resources whose values must never reach logs or reports. Kept as data so private-key
 * resources of other objects can be appended without touching the lookup functions.
 */
export const SECRET_RESOURCES: readonly SecretResource[] = [{ objectId: 0, resourceId: 5, name: 'Security Secret Key' }];

/** True when the path is a secret resource or one of its instances. */
export function isSecretPath(p: Lwm2mPath): boolean {
  return SECRET_RESOURCES.some((s) => s.objectId === p.objectId && s.resourceId === p.resourceId);
}

/** True when a payload for this path may include a secret (e.g. a read of /0 or /0/1). */
export function mayContainSecret(p: Lwm2mPath): boolean {
  const level = pathLevel(p);
  if (level === 'root') return SECRET_RESOURCES.length > 0;
  return SECRET_RESOURCES.some((s) => s.objectId === p.objectId && (p.resourceId === undefined || s.resourceId === p.resourceId));
}
