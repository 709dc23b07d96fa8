/*
 * Expected sequence (both servers coaps:// with PSK; the Bootstrap-Server writes the
 * LwM2M Server account with /0/x/16 DTLS/TLS Ciphersuite = [0xC0A8 TLS_PSK_WITH_AES_128_CCM_8],
 * the suite every PSK device must implement):
 *   (precondition) DTLS-PSK bootstrap completes with Finish 2.04
 *   device -> DM   DTLS ClientHello proposing exactly the suites of /0/x/16 (signalling values
 *                  such as TLS_EMPTY_RENEGOTIATION_INFO_SCSV are not suites and are set aside)
 *   device -> DM   (in DTLS) CON POST /rd?ep=<endpoint>...
 */
import { defineCase } from '../../harness/runner/case.js';
import { bootstrapAndRegisterMs, bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { MANDATORY_PSK_SUITE_ID } from '../../harness/servers/security.js';
import { expectProposedSuites, registered, serverAccount } from '../steps.js';

export default defineCase(
  {
    id: 'TC-SEC-07',
    title: 'PSK mode: the ClientHello toward the LwM2M Server proposes exactly the suites written in /0/x/16',
    area: 'security',
    requirements: [
      {
        id: 'LWM2M-TRANS-DTLS-05',
        section: 'OMA 0.xml res 16 (DTLS/TLS Ciphersuite)',
        quote: 'When this resource is present it instructs the TLS/DTLS client to propose the indicated ciphersuite(s) in the ClientHello of the handshake',
      },
    ],
    ics: 'transport.dtls-psk',
    budget: (k) => bootstrapAndRegisterMs(k),
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['security', 'dtls', 'registration'],
    security: 'psk',
  },
  async (t: CaseContext) => {
    const written = [MANDATORY_PSK_SUITE_ID];
    await registered(t, serverAccount(t, { ciphersuites: written }), { until: 'finish', what: 'DTLS-PSK bootstrap completed, /0/x/16 written', tool: { feature: 'the bootstrap session over DTLS', judgedBy: 'TC-SEC-01' } });
    await expectProposedSuites(t, written, t.bootstrapServer.dtls?.handshakes.all[0]?.clientOfferedCiphers, 'LWM2M-TRANS-DTLS-05');
  },
);
