/** The harness's servers over DTLS on 127.0.0.1, opened as the DTLS-layer tests open them most. */
import { DtlsServer, type DtlsServerOptions } from '../../harness/dtls/index.js';
import { RFC7252_DEFAULTS } from '../../harness/coap/params.js';
import { BootstrapServer } from '../../harness/servers/bootstrap-server.js';

/**
 * A DtlsServer at an OS-chosen port offering TLS_PSK_WITH_AES_128_CCM_8, whose PSK lookup
 * knows `identity` alone; `over` replaces any option. The caller closes it.
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

/** A Bootstrap-Server in certificate mode at an OS-chosen port, trusting devices whose certificate chains to `trustedClientCaPem`. The caller closes it. */
export function openCertificateBootstrapServer(own: { certPem: string; keyPem: string }, trustedClientCaPem: string): Promise<BootstrapServer> {
  return BootstrapServer.open({
    listenAddress: '127.0.0.1',
    advertiseHost: '127.0.0.1',
    port: 0,
    params: RFC7252_DEFAULTS,
    security: { mode: 'certificate', certPem: own.certPem, keyPem: own.keyPem, trustedClientCaPem },
  });
}
