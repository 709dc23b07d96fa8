/**
 * JSON Schema (draft-07) of a DUT profile. Kept as a TS module so the compiled harness
 * needs no JSON file next to it; profile.schema.json is the same object written out for
 * editors, and test/profile.test.ts fails when the two drift apart.
 */
import { DUT_ACTIONS } from './actions.js';
import { ICS_REGISTRY } from './ics-registry.js';

export const PROFILE_SCHEMA_VERSION = 'geisa-adm-profile/1';

/** Single source of the defaults: the loader applies them and the schema advertises them. */
export const PROFILE_DEFAULTS = {
  harness: { listenAddress: '127.0.0.1', bootstrapPort: 0, serverPort: 0 },
  ixit: {
    // RFC 7252 §4.8 transmission parameters.
    coap: { ackTimeoutS: 2, ackRandomFactor: 1.5, maxRetransmit: 4, nstart: 1 },
    startupBoundS: 30,
    // Short values the Bootstrap-Server writes so that lifetime and retry cases run in
    // seconds; the LwM2M defaults (86400 s lifetime, 60 s retry timer...) would take hours.
    lifetimeS: 20,
    retryTimerS: 1,
    retryCount: 3,
    sequenceDelayTimerS: 4,
    sequenceRetryCount: 1,
    holdOffS: 0,
    // Certificate mode with EST: what the device accepts and how it finds its EST server.
    est: { keyType: 'ec-p256', endpointNameInSubject: true, certificateLifetimeS: 30, raDiscovery: 'bootstrap-server' },
  },
  execTimeoutS: 60,
  /**
   * adapter.parallel of the bundled reference device (one device process per case): the
   * pool size the self-test measured best on 2 cores (harness/selftest/matrix.ts), see
   * docs/parallel.md. Every other kind of adapter defaults to 1.
   */
  simulatorParallel: 6,
} as const;

const positiveNumber = (description: string, dflt: number) => ({
  type: 'number',
  exclusiveMinimum: 0,
  default: dflt,
  description,
});

const wholeSeconds = (description: string, minimum: number, dflt: number) => ({
  type: 'integer',
  minimum,
  default: dflt,
  description,
});

const port = (description: string) => ({
  type: 'integer',
  minimum: 0,
  maximum: 65535,
  default: 0,
  description,
});

const ixitDefaults = PROFILE_DEFAULTS.ixit;

export const PROFILE_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'GEISA ADM conformance suite: DUT profile',
  description:
    'Describes one device under test: how the suite acts on it (adapter), where the fake servers listen (harness), the device\'s implementation parameters (ixit), the features it claims (ics) and test credentials (secrets).',
  type: 'object',
  additionalProperties: false,
  required: ['schema', 'dut', 'adapter'],
  properties: {
    $schema: { type: 'string', description: 'Editor hint only; ignored by the suite.' },
    schema: { const: PROFILE_SCHEMA_VERSION, description: 'Profile format version.' },
    dut: {
      type: 'object',
      additionalProperties: false,
      required: ['endpoint'],
      properties: {
        name: { type: 'string', minLength: 1, description: 'Free text shown in reports; defaults to the endpoint.' },
        endpoint: {
          type: 'string',
          minLength: 1,
          description: 'LwM2M Endpoint Client Name the device uses.',
        },
      },
    },
    adapter: {
      type: 'object',
      additionalProperties: false,
      required: ['kind'],
      properties: {
        kind: {
          enum: ['simulator', 'exec', 'manual', 'mixed'],
          description:
            'simulator: the bundled reference device; exec: shell commands; manual: an operator; mixed: both, per action.',
        },
        actions: {
          type: 'object',
          additionalProperties: false,
          properties: Object.fromEntries(DUT_ACTIONS.map((action) => [action, { $ref: '#/definitions/action' }])),
        },
        parallel: {
          type: 'integer',
          minimum: 1,
          description: `How many instances of the device can run at once, one per case (the most \`geisa-adm run --jobs\` may use). Only a device that can be instantiated once per case (a simulator behind exec actions) may declare more than 1; manual and mixed adapters are 1, and need OS-chosen harness ports. Default: ${PROFILE_DEFAULTS.simulatorParallel} for the bundled simulator, 1 otherwise.`,
        },
      },
      if: { properties: { kind: { enum: ['exec', 'manual', 'mixed'] } }, required: ['kind'] },
      then: { required: ['actions'], properties: { actions: { required: ['start'] } } },
    },
    harness: {
      type: 'object',
      additionalProperties: false,
      properties: {
        listenAddress: {
          type: 'string',
          minLength: 1,
          default: PROFILE_DEFAULTS.harness.listenAddress,
          description: 'IP address the fake servers bind to.',
        },
        advertiseHost: {
          type: 'string',
          minLength: 1,
          description:
            'Host the device must contact (written into URIs); defaults to listenAddress, and is required when that is 0.0.0.0 or ::.',
        },
        bootstrapPort: port('UDP port of the fake Bootstrap-Server; 0 lets the OS choose.'),
        serverPort: port('UDP port of the fake LwM2M Server; 0 lets the OS choose.'),
      },
    },
    ixit: {
      type: 'object',
      additionalProperties: false,
      properties: {
        coap: {
          type: 'object',
          additionalProperties: false,
          description: "The device's CoAP transmission parameters (RFC 7252 §4.8).",
          properties: {
            ackTimeoutS: positiveNumber('ACK_TIMEOUT in seconds.', ixitDefaults.coap.ackTimeoutS),
            ackRandomFactor: {
              type: 'number',
              minimum: 1,
              default: ixitDefaults.coap.ackRandomFactor,
              description: 'ACK_RANDOM_FACTOR.',
            },
            maxRetransmit: {
              type: 'integer',
              minimum: 0,
              default: ixitDefaults.coap.maxRetransmit,
              description: 'MAX_RETRANSMIT.',
            },
            nstart: { type: 'integer', minimum: 1, default: ixitDefaults.coap.nstart, description: 'NSTART.' },
            maxLatencyS: positiveNumber('MAX_LATENCY in seconds (RFC 7252 §4.8.2), used for EXCHANGE_LIFETIME; the RFC value when absent.', 100),
          },
        },
        startupBoundS: positiveNumber(
          'Seconds the device may take after start to send its first message.',
          ixitDefaults.startupBoundS,
        ),
        lifetimeS: wholeSeconds('Lifetime the Bootstrap-Server writes into /1/x/1.', 1, ixitDefaults.lifetimeS),
        retryTimerS: wholeSeconds('Communication Retry Timer written into /1/x/18.', 0, ixitDefaults.retryTimerS),
        retryCount: wholeSeconds('Communication Retry Count written into /1/x/17.', 1, ixitDefaults.retryCount),
        sequenceDelayTimerS: wholeSeconds(
          'Communication Sequence Delay Timer written into /1/x/19.',
          0,
          ixitDefaults.sequenceDelayTimerS,
        ),
        sequenceRetryCount: wholeSeconds(
          'Communication Sequence Retry Count written into /1/x/20.',
          1,
          ixitDefaults.sequenceRetryCount,
        ),
        holdOffS: wholeSeconds(
          'Client Hold Off Time /0/x/11 of the bootstrap account, when the profile provisions it.',
          0,
          ixitDefaults.holdOffS,
        ),
        est: {
          type: 'object',
          additionalProperties: false,
          description: 'Certificate mode with EST (Security Mode 4, RFC 9148): what the device enrolls with and how.',
          properties: {
            keyType: {
              enum: ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072'],
              default: ixitDefaults.est.keyType,
              description: 'Key type and size of the key pair the device generates for its CSR.',
            },
            endpointNameInSubject: {
              type: 'boolean',
              default: ixitDefaults.est.endpointNameInSubject,
              description: 'The CSR carries the Endpoint Client Name in its subject CN (LwM2M Transport §5.2.9.3: client certificates SHOULD).',
            },
            certificateLifetimeS: wholeSeconds(
              'Lifetime in seconds of the short-lived certificate the harness issues to watch a re-enrollment (sren); the shortest the device accepts.',
              5,
              ixitDefaults.est.certificateLifetimeS,
            ),
            raDiscovery: {
              enum: ['bootstrap-server', 'dns-sd'],
              default: ixitDefaults.est.raDiscovery,
              description: "Where the device finds its EST server: the Bootstrap-Server's own endpoint after Bootstrap-Finish, or a registration authority found by DNS-SD (_est-coaps._udp).",
            },
          },
        },
      },
    },
    ics: {
      type: 'object',
      additionalProperties: false,
      description:
        'Features the device claims (true) or disclaims (false). Undeclared mandatory features count as claimed, undeclared optional ones as not.',
      properties: Object.fromEntries(
        ICS_REGISTRY.map((entry) => [
          entry.key,
          { type: 'boolean', description: `${entry.description} [${entry.status}, ${entry.requirement}]` },
        ]),
      ),
    },
    certificates: {
      type: 'object',
      additionalProperties: false,
      description: 'Certificate-mode trust material (public: certificates only, never keys).',
      properties: {
        manufacturerCaFile: {
          type: 'string',
          minLength: 1,
          description: "PEM file (relative to the profile) of the CA the device's IDevID chains to; certificate-mode cases verify the device against it.",
        },
      },
    },
    secrets: {
      type: 'object',
      additionalProperties: false,
      description: 'Test credentials. Never printed: reports show only a length and a SHA-256 prefix.',
      properties: {
        bootstrapPsk: {
          type: 'object',
          additionalProperties: false,
          required: ['identity', 'keyHex'],
          properties: {
            identity: { type: 'string', minLength: 1, description: 'PSK identity (not secret).' },
            keyHex: {
              type: 'string',
              pattern: '^([0-9a-fA-F]{2})+$',
              description: 'The pre-shared key as hex; quote it in YAML so it stays a string.',
            },
          },
        },
      },
    },
  },
  definitions: {
    action: {
      type: 'object',
      additionalProperties: false,
      description: 'Either a shell command template (exec) or an instruction for the operator (manual).',
      properties: {
        exec: {
          type: 'string',
          minLength: 1,
          description:
            'Run with /bin/sh -c in the directory of the profile file. Placeholders {bsUri} {bsHost} {bsPort} {endpoint} {stateDir}, and for a factory-provisioned server account {serverUri} {serverSsid} {serverLifetime} (empty otherwise), and for an EST registration authority found by DNS-SD (ixit.est.raDiscovery dns-sd) {estDnsServer} (address:port) {estDomain} (empty otherwise; also $GEISA_EST_DNS_SERVER, $GEISA_EST_DOMAIN, and the RA trust anchor as the file $GEISA_EST_TRUST_FILE), are substituted already shell-quoted; secrets come only through $GEISA_PSK_IDENTITY, $GEISA_PSK_FILE and $GEISA_PSK_HEX (and $GEISA_SERVER_PSK_IDENTITY, $GEISA_SERVER_PSK_FILE, $GEISA_SERVER_PSK_HEX for the server account).',
        },
        manual: { type: 'string', minLength: 1, description: 'Shown to the operator, who presses Enter when done.' },
        timeoutS: {
          type: 'number',
          exclusiveMinimum: 0,
          default: PROFILE_DEFAULTS.execTimeoutS,
          description: 'Limit for an exec action (for a background start: the limit to become ready).',
        },
        background: {
          type: 'boolean',
          default: false,
          description: 'start only: the command keeps running (a device process); stopped on stop or at the end.',
        },
        readyLine: {
          type: 'string',
          minLength: 1,
          description: 'Regular expression; a background start is ready when an output line matches it.',
        },
      },
      oneOf: [{ required: ['exec'] }, { required: ['manual'] }],
      dependencies: { timeoutS: ['exec'], background: ['exec'], readyLine: ['background'] },
    },
  },
} as const;
