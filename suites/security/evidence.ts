/**
 * What the security cases conclude when an expected message does not come: the row the
 * DTLS evidence points at, not the case's first row by default.
 */
import type { CaseContext } from '../../harness/runner/context.js';
import type { RegistrationMessage } from '../../harness/servers/lwm2m-server.js';
import { MANDATORY_PSK_SUITE_ID } from '../../harness/servers/security.js';
import { dtlsTrouble } from '../steps.js';

/**
 * The Register toward the coaps:// LwM2M Server after a PSK bootstrap. If none comes: a
 * handshake with another PSK identity than the one written, or failing with it, breaks
 * /0/x/3 and /0/x/5 (DTLS-04); one that never offers TLS_PSK_WITH_AES_128_CCM_8 breaks DTLS-02;
 * plaintext CoAP to the coaps:// port breaks "DTLS for CoAP" (GEISA-ADM-LWM2M-03); silence
 * with neither is the Register itself missing (LWM2M-CORE-REG-01).
 */
export async function expectRegisterOverDtls(t: CaseContext, writtenIdentity: string): Promise<RegistrationMessage> {
  const withinMs = t.timers.startupMs;
  const register = await t.lwm2mServer.expectRegister(withinMs, t.signal);
  if (register) return register;
  const dtls = t.lwm2mServer.dtls;
  const what = `no Register (POST /rd) reached the LwM2M Server at ${t.lwm2mServer.uri} within ${withinMs / 1000} s of Bootstrap-Finish${dtlsTrouble(dtls)}`;
  const failures = dtls?.handshakeFailures.all ?? [];
  if (failures.some((f) => f.pskIdentity !== null && f.pskIdentity !== writtenIdentity)) {
    t.fail('LWM2M-TRANS-DTLS-04', `${what}; the handshake presented a PSK identity other than "${writtenIdentity}" written to /0/x/3`);
  }
  if (failures.some((f) => f.clientOfferedCiphers.length > 0 && !f.clientOfferedCiphers.includes(MANDATORY_PSK_SUITE_ID))) {
    t.fail('LWM2M-TRANS-DTLS-02', `${what}; the ClientHello did not offer TLS_PSK_WITH_AES_128_CCM_8, the only suite the server accepts`);
  }
  if (failures.length > 0) t.fail('LWM2M-TRANS-DTLS-04', `${what}; the handshake with the identity written to /0/x/3 failed (the key is /0/x/5)`);
  if (dtls && dtls.dropped.all.length > 0) t.fail('GEISA-ADM-LWM2M-03', `${what}; the device sent datagrams that were not DTLS to the coaps:// server`);
  t.fail('LWM2M-CORE-REG-01', what);
}
