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
import { type VariantOptions, variantArgs } from '../../fixtures/device/variants.js';

/** The device's variants (fixtures/device/variants.ts) are options here too. */
export interface SimulatorOptions extends VariantOptions {
  /** One of the reference device's defects (fixtures/device/defects.ts), or none. */
  defect?: string | null;
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
    ...variantArgs(opts).map(([flag, value]) => (value === undefined ? flag! : `${flag} ${shellQuote(value)}`)),
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
