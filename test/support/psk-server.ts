/** The harness's DTLS server as the tests of the DTLS layer open it most: PSK, one known identity. */
import { DtlsServer, type DtlsServerOptions } from '../../harness/dtls/index.js';

/**
 * A DtlsServer on 127.0.0.1 at an OS-chosen port offering TLS_PSK_WITH_AES_128_CCM_8, whose
 * PSK lookup knows `identity` alone; `over` replaces any option. The caller closes it.
 */
export function listenPskServer(identity: string, key: Buffer, over: Partial<DtlsServerOptions> = {}): Promise<DtlsServer> {
  return DtlsServer.listen({
    address: '127.0.0.1',
    port: 0,
    cipherSuites: ['PSK-AES128-CCM8'],
    pskLookup: (id) => (id === identity ? key : null),
    ...over,
  });
}
