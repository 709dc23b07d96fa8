/**
 * The harness's EST-coaps server as a separate registration authority (RA): its own DTLS
 * 1.2 endpoint with certificate authentication (RFC 9148 §3: ECDHE-ECDSA-AES128-CCM8,
 * client certificate requested), the EST resources of est-service.ts on it, and a record
 * of how each peer authenticated. The device finds it by DNS-SD (dns-sd.ts) or is told
 * its address; the same resources can be mounted on the Bootstrap-Server's endpoint.
 *
 * The DTLS layer asks for a client certificate but lets the handshake finish whatever it
 * is, and may also accept a PSK (when the case gives one): a device that authenticates
 * the wrong way is then seen at the EST layer, recorded, and refused there (4.01/4.03),
 * rather than lost in a failed handshake. Handshakes that do fail are in
 * `dtls.handshakeFailures`.
 */
import { CoapEndpoint, type Address, type DatagramTap } from '../coap/endpoint.js';
import type { TransmissionParams } from '../coap/params.js';
import { DtlsTransport } from '../dtls/dtls-transport.js';
import type { DtlsHandshakeEvent } from '../dtls/server-types.js';
import type { CertificateMaterial } from '../pki/certificates.js';
import type { EstCa } from '../pki/est-ca.js';
import { MANDATORY_CERT_SUITE, MANDATORY_PSK_SUITE } from '../servers/security.js';
import { EstService, type EstAnswerPolicy, type EstExchange, type EstOperation } from './est-service.js';
import { authenticationFromHandshake, peerKey, type PeerAuthentication, type TrustAnchor } from './peer-auth.js';

export interface EstServerOptions {
  listenAddress: string;
  /** Host the device is told (or finds by DNS-SD); the server certificate names it. */
  advertiseHost: string;
  /** Default 0: the OS chooses. */
  port?: number;
  params: TransmissionParams;
  tap?: DatagramTap;
  ca: EstCa;
  /** The EST server's DTLS certificate; default: one from `ca` naming advertiseHost. */
  serverCert?: CertificateMaterial;
  /** The CA(s) a device's IDevID chains to (PEM, one or more). */
  manufacturerCaPem: string;
  /** Default: the RFC 9148 §3 mandatory suite, plus PSK-AES128-CCM8 when pskLookup is given. */
  cipherSuites?: string[];
  /** Accepts DTLS-PSK handshakes too, so a device that uses PSK toward EST is recorded and refused by EST (4.01). */
  pskLookup?: (identity: string) => Buffer | null;
  /** Short root handed out in discovery (default '/est'). */
  shortRoot?: string;
  blockSize?: number;
  maxRequestBytes?: number;
  name?: string;
}

export class EstServer {
  /** The DTLS session each peer currently has, from its completed handshake. */
  private readonly sessions = new Map<string, DtlsHandshakeEvent>();

  /** The EST resources; set right after construction (they ask this server how a peer authenticated). */
  readonly service: EstService;

  private constructor(
    readonly endpoint: CoapEndpoint,
    readonly dtls: DtlsTransport,
    private readonly advertiseHost: string,
    private readonly anchors: TrustAnchor[],
    service: (server: EstServer) => EstService,
  ) {
    dtls.server.on('handshake', (h) => this.sessions.set(peerKey(h.remote), h));
    dtls.server.on('session-closed', (c) => this.sessions.delete(peerKey(c.remote)));
    this.service = service(this);
    endpoint.onRequest((r) => {
      if (!this.service.handle(r)) r.respond('4.04');
    });
  }

  static async open(opts: EstServerOptions): Promise<EstServer> {
    const name = opts.name ?? 'est-server';
    const serverCert = opts.serverCert ?? (await opts.ca.serverCertificate([opts.advertiseHost]));
    const anchors: TrustAnchor[] = [
      { label: 'manufacturer', pem: opts.manufacturerCaPem },
      { label: 'est-ca', pem: opts.ca.certPem },
    ];
    const cipherSuites = opts.cipherSuites ?? (opts.pskLookup ? [MANDATORY_CERT_SUITE, MANDATORY_PSK_SUITE] : [MANDATORY_CERT_SUITE]);
    const pskLookup = opts.pskLookup;
    const dtls = await DtlsTransport.listen(
      {
        address: opts.listenAddress,
        port: opts.port ?? 0,
        cipherSuites,
        certPem: serverCert.certPem,
        keyPem: serverCert.keyPem,
        // Both anchors: an IDevID enrolls, an LDevID we issued re-enrolls.
        caPem: `${opts.manufacturerCaPem.trim()}\n${opts.ca.certPem.trim()}\n`,
        requestClientCert: true,
        ...(pskLookup ? { pskLookup: (identity: string) => pskLookup(identity) } : {}),
      },
      name,
      opts.tap,
    );
    const endpoint = await CoapEndpoint.open({ name, params: opts.params, transport: dtls, ...(opts.tap ? { tap: opts.tap } : {}) });
    return new EstServer(
      endpoint,
      dtls,
      opts.advertiseHost,
      anchors,
      (server) =>
        new EstService({
          via: name,
          ca: opts.ca,
          authOf: (remote) => server.authenticationOf(remote),
          local: () => endpoint.local,
          ...(opts.shortRoot ? { shortRoot: opts.shortRoot } : {}),
          ...(opts.blockSize ? { blockSize: opts.blockSize } : {}),
          ...(opts.maxRequestBytes ? { maxRequestBytes: opts.maxRequestBytes } : {}),
        }),
    );
  }

  /** How the peer at `remote` authenticated its current DTLS session. */
  authenticationOf(remote: Address): PeerAuthentication {
    return authenticationFromHandshake(this.sessions.get(peerKey(remote)), this.anchors);
  }

  get exchanges() {
    return this.service.exchanges;
  }

  get policies(): Record<'crts' | 'sen' | 'sren', EstAnswerPolicy> {
    return this.service.policies;
  }

  expect(operation: EstOperation | EstOperation[], withinMs: number, signal?: AbortSignal): Promise<EstExchange | undefined> {
    return this.service.expect(operation, withinMs, signal);
  }

  get local(): Address {
    return this.endpoint.local;
  }

  get host(): string {
    return this.advertiseHost;
  }

  get port(): number {
    return this.endpoint.local.port;
  }

  /** coaps://host:port (IPv6 literals bracketed). */
  get uri(): string {
    const h = this.advertiseHost.includes(':') ? `[${this.advertiseHost}]` : this.advertiseHost;
    return `coaps://${h}:${this.port}`;
  }

  close(): Promise<void> {
    return this.endpoint.close();
  }
}
