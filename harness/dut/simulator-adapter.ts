/**
 * The bundled reference device as a DUT. It is driven exactly as a vendor's device would
 * be through exec actions — the out-of-band provisioning tool writes its state file, and
 * `start` runs it as its own process — so the simulator also exercises the exec adapter.
 * Each case gets a fresh state directory, hence a factory-fresh device.
 */
import { join } from 'node:path';
import { claims } from '../profile/ics-registry.js';
import type { Profile } from '../profile/load.js';
import { ExecAdapter } from './exec-adapter.js';
import { shellQuote } from './template.js';
import { packageRoot } from './package-root.js';

export interface SimulatorOptions {
  /** One of the reference device's defects (fixtures/device/defects.ts), or none. */
  defect?: string | null;
  /** The device keeps its registration across restarts (GEISA O-3 alternative). */
  persistRegistration?: boolean;
  /** The device leaves ep out of a Bootstrap-Request over DTLS (GEISA-ADM-BS-04, open). */
  omitEndpointOverDtls?: boolean;
  /** The device re-bootstraps only after its registration retries ran out, not at the first rejection (OMA 1.xml res 16 allows both). */
  bootstrapAfterRetries?: boolean;
  /** The device answers with an empty ACK and a separate response (RFC 7252 §5.2.2) instead of piggy-backing. */
  separateResponses?: boolean;
  /** The device announces a changed source address with a Register instead of an Update (GEISA O-2 alternative). */
  registerOnAddressChange?: boolean;
  /** The device sends its Uri-Query options in reverse order (RFC 7252 gives them no order that matters to LwM2M). */
  reverseQueryOrder?: boolean;
  /** The device adds the optional pct=<Content-Format> to its Bootstrap-Request (LwM2M Core 1.2 §6.1.7.1). */
  bootstrapRequestPct?: number;
  /** The code the device refuses a Bootstrap-Read of /0 with (LwM2M-CORE-BS-06: 4.05, 4.00 or 4.01); default 4.05. */
  bootstrapReadSecurityCode?: '4.00' | '4.01' | '4.05';
  /** The fraction of the lifetime at which the device sends its heartbeat Update (default 0.5; GEISA: SHALL before expiry, should at 50 %). */
  updateAtFraction?: number;
  /** The device loses what the Bootstrap-Server wrote on stop/start and bootstraps again (persistence is not required). */
  nonPersistent?: boolean;
}

export function simulatorCommandPrefix(): string {
  return `${shellQuote(process.execPath)} ${shellQuote(join(packageRoot(), 'dist', 'bin', 'geisa-adm.js'))} device`;
}

export function createSimulatorAdapter(profile: Profile, opts: SimulatorOptions = {}): ExecAdapter {
  const cli = simulatorCommandPrefix();
  const state = '{stateDir}/device-state.json';
  // changeAddress signals the running device process, which rebinds its socket to a new port.
  const pidFile = '{stateDir}/device.pid';
  const coap = profile.ixit.coap;
  const runFlags = [
    `--state ${state}`,
    `--pid-file ${pidFile}`,
    `--ack-timeout-ms ${Math.round(coap.ackTimeoutS * 1000)}`,
    `--ack-random-factor ${coap.ackRandomFactor}`,
    `--max-retransmit ${coap.maxRetransmit}`,
    ...(coap.maxLatencyS !== undefined ? [`--max-latency-ms ${Math.round(coap.maxLatencyS * 1000)}`] : []),
    ...(opts.defect ? [`--defect ${shellQuote(opts.defect)}`] : []),
    ...(opts.persistRegistration ? ['--persist-registration'] : []),
    ...(opts.omitEndpointOverDtls ? ['--omit-ep-over-dtls'] : []),
    ...(opts.bootstrapAfterRetries ? ['--bootstrap-after-retries'] : []),
    ...(opts.separateResponses ? ['--separate-responses'] : []),
    ...(opts.registerOnAddressChange ? ['--register-on-address-change'] : []),
    ...(opts.reverseQueryOrder ? ['--reverse-query-order'] : []),
    ...(opts.bootstrapRequestPct !== undefined ? [`--bootstrap-request-pct ${opts.bootstrapRequestPct}`] : []),
    ...(opts.bootstrapReadSecurityCode ? [`--bootstrap-read-security-code ${shellQuote(opts.bootstrapReadSecurityCode)}`] : []),
    ...(opts.updateAtFraction !== undefined ? [`--update-at-fraction ${opts.updateAtFraction}`] : []),
    ...(opts.nonPersistent ? ['--non-persistent'] : []),
  ].join(' ');
  // Like the hold-off from the IXIT, a feature the profile's ICS claims is provisioned into the device.
  const packFlag = claims(profile.ics, 'bootstrap.pack-request') ? ' --bootstrap-pack' : '';
  return new ExecAdapter({
    // The server-account placeholders are empty words unless a case provisions a factory server account;
    // the EST ones unless the case runs a registration authority found by DNS-SD.
    // The device's Client Hold Off Time is the one the profile declares (IXIT holdOffS).
    provision: {
      type: 'exec',
      command: `${cli} provision --state ${state} --bs-uri {bsUri} --endpoint {endpoint} --hold-off ${profile.ixit.holdOffS} --server-uri {serverUri} --server-ssid {serverSsid} --server-lifetime {serverLifetime} --est-dns-server {estDnsServer} --est-domain {estDomain}${packFlag}`,
      timeoutS: 30,
      background: false,
    },
    start: { type: 'exec', command: `exec ${cli} run ${runFlags}`, timeoutS: 30, background: true, readyLine: '^READY ' },
    changeAddress: { type: 'exec', command: `kill -USR2 $(cat ${pidFile})`, timeoutS: 10, background: false },
  });
}
