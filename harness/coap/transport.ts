/**
 * What a CoAP endpoint sends its datagrams through: plain UDP, or the application-data
 * channel of DTLS sessions (coaps://). The timestamp of an incoming datagram is taken by
 * the transport, as close to the socket as it gets.
 */
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';

export interface Address {
  address: string;
  port: number;
}

export interface TransportMessage {
  bytes: Buffer;
  remote: Address;
  monoNs: bigint;
}

/**
 * Emits 'message' (TransportMessage) and 'error' (Error). `send` never throws for a
 * network problem: it reports through 'error', since a lost datagram is a protocol event.
 */
export interface DatagramTransport extends EventEmitter {
  readonly local: Address;
  /** 'coap' for plain UDP; 'coaps' when every datagram travels inside a DTLS session. */
  readonly scheme: 'coap' | 'coaps';
  send(bytes: Buffer, remote: Address): void;
  close(): Promise<void>;
}

export class UdpTransport extends EventEmitter implements DatagramTransport {
  readonly scheme = 'coap' as const;
  private localAddress: Address = { address: '', port: 0 };
  private closed = false;

  private constructor(private readonly socket: dgram.Socket) {
    super();
    socket.on('message', (bytes, rinfo) => {
      const monoNs = process.hrtime.bigint();
      this.emit('message', { bytes, remote: { address: rinfo.address, port: rinfo.port }, monoNs } satisfies TransportMessage);
    });
    // An ICMP error surfaced by the OS must not kill the run.
    socket.on('error', (err) => this.emit('error', err));
  }

  static open(address: string, port: number): Promise<UdpTransport> {
    const socket = dgram.createSocket({ type: address.includes(':') ? 'udp6' : 'udp4' });
    const t = new UdpTransport(socket);
    return bindSocket(socket, address, port).then((local) => {
      t.localAddress = local;
      return t;
    });
  }

  get local(): Address {
    return this.localAddress;
  }

  send(bytes: Buffer, remote: Address): void {
    if (this.closed) return;
    this.socket.send(bytes, remote.port, remote.address, (err) => {
      if (err) this.emit('error', err);
    });
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** Binds a UDP socket and says where it listens; a failure names the address asked for. */
export function bindSocket(socket: dgram.Socket, address: string, port: number): Promise<Address> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(new Error(`cannot listen on ${address}:${port}: ${err.message}`));
    socket.once('error', onError);
    socket.bind(port, address, () => {
      socket.off('error', onError);
      const a = socket.address();
      resolve({ address: a.address, port: a.port });
    });
  });
}
