/**
 * The DUT profile as TypeBox schemas: the one source of the profile's JSON Schema (which
 * ajv validates with, and scripts/write-schemas.ts writes out as profile.schema.json for
 * editors) and of the TS types of a validated profile (Static<>). The defaulted Profile
 * the harness works with is derived from these types in types.ts.
 */
import { Type, type Static } from 'typebox';
import { DUT_ACTIONS, type DutAction } from './actions.js';
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
   * adapter.parallel of the bundled reference device (one device per case, all in one device host process): the
   * pool size the self-test measured best on 2 cores (harness/selftest/matrix.ts), see
   * docs/parallel.md. Every other kind of adapter defaults to 1.
   */
  simulatorParallel: 6,
} as const;

/** keyHex; the error sentences name it in words rather than as a regular expression. */
export const HEX_PATTERN = '^([0-9a-fA-F]{2})+$';

const positiveNumber = (description: string, dflt: number) => Type.Optional(Type.Number({ exclusiveMinimum: 0, default: dflt, description }));

const wholeSeconds = (description: string, minimum: number, dflt: number) => Type.Optional(Type.Integer({ minimum, default: dflt, description }));

const port = (description: string) => Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, default: 0, description }));

const nonEmpty = (description: string) => Type.String({ minLength: 1, description });

const closed = { additionalProperties: false } as const;

const ixitDefaults = PROFILE_DEFAULTS.ixit;

export const ACTION_SCHEMA = Type.Object(
  {
    exec: Type.Optional(
      nonEmpty(
        'Run with /bin/sh -c in the directory of the profile file. Placeholders {bsUri} {bsHost} {bsPort} {endpoint} {stateDir}, and for a factory-provisioned server account {serverUri} {serverSsid} {serverLifetime} (empty otherwise), and for an EST registration authority found by DNS-SD (ixit.est.raDiscovery dns-sd) {estDnsServer} (address:port) {estDomain} (empty otherwise; also $GEISA_EST_DNS_SERVER, $GEISA_EST_DOMAIN, and the RA trust anchor as the file $GEISA_EST_TRUST_FILE), are substituted already shell-quoted; secrets come only through $GEISA_PSK_IDENTITY, $GEISA_PSK_FILE and $GEISA_PSK_HEX (and $GEISA_SERVER_PSK_IDENTITY, $GEISA_SERVER_PSK_FILE, $GEISA_SERVER_PSK_HEX for the server account).',
      ),
    ),
    manual: Type.Optional(nonEmpty('Shown to the operator, who presses Enter when done.')),
    timeoutS: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        default: PROFILE_DEFAULTS.execTimeoutS,
        description: 'Limit for an exec action (for a background start: the limit to become ready).',
      }),
    ),
    background: Type.Optional(Type.Boolean({ default: false, description: 'start only: the command keeps running (a device process); stopped on stop or at the end.' })),
    readyLine: Type.Optional(nonEmpty('Regular expression; a background start is ready when an output line matches it.')),
  },
  {
    ...closed,
    description: 'Either a shell command template (exec) or an instruction for the operator (manual).',
    oneOf: [{ required: ['exec'] }, { required: ['manual'] }],
    dependencies: { timeoutS: ['exec'], background: ['exec'], readyLine: ['background'] },
  },
);

/** A validated action (exactly one of exec and manual, by the schema's oneOf). */
export type RawAction = Static<typeof ACTION_SCHEMA>;

const actionRef = Type.Optional(Type.Unsafe<RawAction>({ $ref: '#/definitions/action' }));

const ADAPTER_KINDS = ['simulator', 'exec', 'manual', 'mixed'] as const;

const COAP_SCHEMA = Type.Object(
  {
    ackTimeoutS: positiveNumber('ACK_TIMEOUT in seconds.', ixitDefaults.coap.ackTimeoutS),
    ackRandomFactor: Type.Optional(Type.Number({ minimum: 1, default: ixitDefaults.coap.ackRandomFactor, description: 'ACK_RANDOM_FACTOR.' })),
    maxRetransmit: Type.Optional(Type.Integer({ minimum: 0, default: ixitDefaults.coap.maxRetransmit, description: 'MAX_RETRANSMIT.' })),
    nstart: Type.Optional(Type.Integer({ minimum: 1, default: ixitDefaults.coap.nstart, description: 'NSTART.' })),
    maxLatencyS: positiveNumber('MAX_LATENCY in seconds (RFC 7252 §4.8.2), used for EXCHANGE_LIFETIME; the RFC value when absent.', 100),
  },
  { ...closed, description: "The device's CoAP transmission parameters (RFC 7252 §4.8)." },
);

const EST_SCHEMA = Type.Object(
  {
    keyType: Type.Optional(
      Type.Enum(['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072'], {
        default: ixitDefaults.est.keyType,
        description: 'Key type and size of the key pair the device generates for its CSR.',
      }),
    ),
    endpointNameInSubject: Type.Optional(
      Type.Boolean({
        default: ixitDefaults.est.endpointNameInSubject,
        description: 'The CSR carries the Endpoint Client Name in its subject CN (LwM2M Transport §5.2.9.3: client certificates SHOULD).',
      }),
    ),
    certificateLifetimeS: wholeSeconds('Lifetime in seconds of the short-lived certificate the harness issues to watch a re-enrollment (sren); the shortest the device accepts.', 5, ixitDefaults.est.certificateLifetimeS),
    raDiscovery: Type.Optional(
      Type.Enum(['bootstrap-server', 'dns-sd'], {
        default: ixitDefaults.est.raDiscovery,
        description: "Where the device finds its EST server: the Bootstrap-Server's own endpoint after Bootstrap-Finish, or a registration authority found by DNS-SD (_est-coaps._udp).",
      }),
    ),
  },
  { ...closed, description: 'Certificate mode with EST (Security Mode 4, RFC 9148): what the device enrolls with and how.' },
);

export const PROFILE_SCHEMA = Type.Object(
  {
    $schema: Type.Optional(Type.String({ description: 'Editor hint only; ignored by the suite.' })),
    schema: Type.Literal(PROFILE_SCHEMA_VERSION, { description: 'Profile format version.' }),
    dut: Type.Object(
      {
        name: Type.Optional(nonEmpty('Free text shown in reports; defaults to the endpoint.')),
        endpoint: nonEmpty('LwM2M Endpoint Client Name the device uses.'),
      },
      closed,
    ),
    adapter: Type.Object(
      {
        kind: Type.Enum(ADAPTER_KINDS, {
          description: 'simulator: the bundled reference device; exec: shell commands; manual: an operator; mixed: both, per action.',
        }),
        actions: Type.Optional(Type.Unsafe<Partial<Record<DutAction, RawAction>>>(Type.Object(Object.fromEntries(DUT_ACTIONS.map((action) => [action, actionRef])), closed))),
        parallel: Type.Optional(
          Type.Integer({
            minimum: 1,
            description: `How many instances of the device can run at once, one per case (the most \`geisa-adm run --jobs\` may use). Only a device that can be instantiated once per case (a simulator behind exec actions) may declare more than 1; manual and mixed adapters are 1, and need OS-chosen harness ports. Default: ${PROFILE_DEFAULTS.simulatorParallel} for the bundled simulator, 1 otherwise.`,
          }),
        ),
      },
      {
        ...closed,
        if: { properties: { kind: { enum: ['exec', 'manual', 'mixed'] } }, required: ['kind'] },
        then: { required: ['actions'], properties: { actions: { required: ['start'] } } },
      },
    ),
    harness: Type.Optional(
      Type.Object(
        {
          listenAddress: Type.Optional(Type.String({ minLength: 1, default: PROFILE_DEFAULTS.harness.listenAddress, description: 'IP address the fake servers bind to.' })),
          advertiseHost: Type.Optional(nonEmpty('Host the device must contact (written into URIs); defaults to listenAddress, and is required when that is 0.0.0.0 or ::.')),
          bootstrapPort: port('UDP port of the fake Bootstrap-Server; 0: a port of the port block of the run (random, or from --port-base).'),
          serverPort: port('UDP port of the fake LwM2M Server; 0: a port of the port block of the run (random, or from --port-base).'),
        },
        closed,
      ),
    ),
    ixit: Type.Optional(
      Type.Object(
        {
          coap: Type.Optional(COAP_SCHEMA),
          startupBoundS: positiveNumber('Seconds the device may take after start to send its first message.', ixitDefaults.startupBoundS),
          lifetimeS: wholeSeconds('Lifetime the Bootstrap-Server writes into /1/x/1.', 1, ixitDefaults.lifetimeS),
          retryTimerS: wholeSeconds('Communication Retry Timer written into /1/x/18.', 0, ixitDefaults.retryTimerS),
          retryCount: wholeSeconds('Communication Retry Count written into /1/x/17.', 1, ixitDefaults.retryCount),
          sequenceDelayTimerS: wholeSeconds('Communication Sequence Delay Timer written into /1/x/19.', 0, ixitDefaults.sequenceDelayTimerS),
          sequenceRetryCount: wholeSeconds('Communication Sequence Retry Count written into /1/x/20.', 1, ixitDefaults.sequenceRetryCount),
          holdOffS: wholeSeconds('Client Hold Off Time /0/x/11 of the bootstrap account, when the profile provisions it.', 0, ixitDefaults.holdOffS),
          est: Type.Optional(EST_SCHEMA),
        },
        closed,
      ),
    ),
    ics: Type.Optional(
      Type.Object(Object.fromEntries(ICS_REGISTRY.map((entry) => [entry.key, Type.Optional(Type.Boolean({ description: `${entry.description} [${entry.status}, ${entry.requirement}]` }))])), {
        ...closed,
        description: 'Features the device claims (true) or disclaims (false). Undeclared mandatory features count as claimed, undeclared optional ones as not.',
      }),
    ),
    certificates: Type.Optional(
      Type.Object(
        {
          manufacturerCaFile: Type.Optional(nonEmpty("PEM file (relative to the profile) of the CA the device's IDevID chains to; certificate-mode cases verify the device against it.")),
        },
        { ...closed, description: 'Certificate-mode trust material (public: certificates only, never keys).' },
      ),
    ),
    secrets: Type.Optional(
      Type.Object(
        {
          bootstrapPsk: Type.Optional(
            Type.Object(
              {
                identity: nonEmpty('PSK identity (not secret).'),
                keyHex: Type.String({ pattern: HEX_PATTERN, description: 'The pre-shared key as hex; quote it in YAML so it stays a string.' }),
              },
              closed,
            ),
          ),
        },
        { ...closed, description: 'Test credentials. Never printed: reports show only a length and a SHA-256 prefix.' },
      ),
    ),
  },
  {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'GEISA ADM conformance suite: DUT profile',
    description: "Describes one device under test: how the suite acts on it (adapter), where the fake servers listen (harness), the device's implementation parameters (ixit), the features it claims (ics) and test credentials (secrets).",
    ...closed,
    definitions: { action: ACTION_SCHEMA },
  },
);

/** A profile as validated by PROFILE_SCHEMA, before defaults are applied. */
export type RawProfile = Static<typeof PROFILE_SCHEMA>;
