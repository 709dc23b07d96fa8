/**
 * Makes a DtlsServer look like a datagram transport, so the fake servers' CoAP endpoints
 * run unchanged over coaps://. The raw DTLS records go to the tap as layer 'dtls'; the
 * decrypted CoAP goes to the endpoint (and its tap) as layer 'coap'. Handshakes are kept
 * so cases can judge the cipher suite and the PSK identity the device presented.
 */
import { EventEmitter } from 'node:events';
import type { DatagramTap } from '../coap/endpoint.js';
import type { Address, DatagramTransport } from '../coap/transport.js';
import { Inbox } from '../coap/inbox.js';
import { DtlsServer } from './server.js';
import type { DtlsDroppedEvent, DtlsHandshakeEvent, DtlsHandshakeFailedEvent, DtlsServerOptions } from './server-types.js';
import { activeKeyLogSink } from '../recorder/keylog.js';
import { explainHandshakeFailure, type ExpectedServerCertificate, type FailureContext, type FailureExplanation } from './explain.js';

/** How a reason names the server behind an endpoint name. */
function serverLabel(name: string): string {
  if (name.includes('bootstrap-server')) return 'the Bootstrap-Server';
  if (name.includes('lwm2m-server')) return 'the LwM2M Server';
  return `the ${name}`;
}

export class DtlsTransport extends EventEmitter implements DatagramTransport {
  readonly scheme = 'coaps' as const;
  readonly handshakes = new Inbox<DtlsHandshakeEvent>();
  readonly handshakeFailures = new Inbox<DtlsHandshakeFailedEvent>();
  /**
   * Datagrams the DTLS layer could not take, with its reason: plaintext sent to a coaps
   * port, or DTLS records of an association it closed or never had (no session for the peer).
   */
  readonly dropped = new Inbox<DtlsDroppedEvent & { monoNs: bigint; bytes: Buffer | undefined }>();
  /**
   * The datagram being handled, so a dropped one can be shown for what it was: the server
   * reports a drop while it handles the datagram, so one is enough (a map per peer would
   * grow with every source port a flood uses).
   */
  private lastIn: { key: string; bytes: Buffer } | undefined;
  private expected: ExpectedServerCertificate | undefined;
  private serverCiphers: number[] | undefined;

  private constructor(
    readonly server: DtlsServer,
    readonly name: string,
  ) {
    super();
    server.on('message', (m) => this.emit('message', m));
    server.on('handshake', (h) => this.handshakes.push(h));
    server.on('handshake-failed', (f) => this.handshakeFailures.push(f));
    server.on('record', (r) => {
      if (r.direction === 'in') this.lastIn = { key: `${r.remote.address}|${r.remote.port}`, bytes: r.bytes };
    });
    server.on('dropped', (d) => {
      const last = this.lastIn?.key === `${d.remote.address}|${d.remote.port}` ? this.lastIn.bytes : undefined;
      this.dropped.push({ ...d, monoNs: process.hrtime.bigint(), bytes: last });
    });
    server.on('error', (e) => this.emit('error', e));
  }

  static async listen(options: DtlsServerOptions, name: string, tap?: DatagramTap): Promise<DtlsTransport> {
    // Key material leaves OpenSSL only for a run that asked for a key log (--keylog).
    const sink = options.keylog ? undefined : activeKeyLogSink();
    return DtlsTransport.over(await DtlsServer.listen(sink ? { ...options, keylog: (line) => sink(line) } : options), name, tap);
  }

  /** Carries CoAP over a DtlsServer that is already listening. */
  static over(server: DtlsServer, name: string, tap?: DatagramTap): DtlsTransport {
    if (tap) server.on('record', (r) => tap({ ...r, layer: 'dtls', endpoint: name }));
    return new DtlsTransport(server, name);
  }

  /**
   * Records the certificate the device was told to authenticate this server with (/0/x/4)
   * under which Certificate Usage (/0/x/15), so a refused handshake can say whether ours is it.
   */
  expectServerCertificate(expected: ExpectedServerCertificate): void {
    this.expected = { ...expected, der: Buffer.from(expected.der) };
  }

  /** What explain.ts needs to know of this server. */
  get failureContext(): FailureContext {
    this.serverCiphers ??= this.server.ciphers().map((c) => c.id);
    return { server: serverLabel(this.name), serverCiphers: this.serverCiphers, ...(this.expected ? { expected: this.expected } : {}) };
  }

  /** Who refused what in a failed handshake, from its records on the wire (explain.ts). */
  explainFailure(f: DtlsHandshakeFailedEvent): FailureExplanation {
    return explainHandshakeFailure(f, this.failureContext);
  }

  get local(): Address {
    return this.server.local;
  }

  send(bytes: Buffer, remote: Address): void {
    try {
      this.server.send(bytes, remote);
    } catch (e) {
      // No session with that peer (it went away): to CoAP this is a lost datagram.
      this.emit('error', e instanceof Error ? e : new Error(String(e)));
    }
  }

  /** Drops the DTLS state for one peer (close_notify first): its next exchange needs a new handshake. */
  dropSession(remote: Address): Promise<boolean> {
    return this.server.endPeerSession(remote);
  }

  close(): Promise<void> {
    return this.server.close();
  }
}
