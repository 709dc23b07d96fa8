/**
 * The reference device's own flag parser (fixtures/device/cli.ts), which replaced yargs
 * for `geisa-adm device`: what the simulator adapter and vendor-style exec profiles pass
 * still parses, and each wrong flag is refused naming it. No sockets, no processes.
 */
import { DEVICE_COMMANDS, DeviceUsageError, deviceHelp, parseDeviceFlags } from '../fixtures/device/cli.js';

const RUN = DEVICE_COMMANDS.run!.flags;
const PROVISION = DEVICE_COMMANDS.provision!.flags;

function refusal(args: string[], table = RUN): string {
  try {
    parseDeviceFlags(args, table);
  } catch (e) {
    expect(e).toBeInstanceOf(DeviceUsageError);
    return (e as Error).message;
  }
  throw new Error(`${args.join(' ')} was accepted`);
}

describe('device flags', () => {
  test('the run flags of the simulator adapter: values, booleans, defaults', () => {
    const a = parseDeviceFlags(
      ['--state', 's.json', '--pid-file', 'p', '--ack-timeout-ms', '1000', '--ack-random-factor', '1.5', '--max-retransmit', '2', '--defect', 'no-update', '--persist-registration', '--bootstrap-read-security-code', '4.01'],
      RUN,
    );
    expect(a).toMatchObject({ state: 's.json', 'pid-file': 'p', 'ack-timeout-ms': 1000, 'ack-random-factor': 1.5, 'max-retransmit': 2, defect: 'no-update', 'persist-registration': true });
    expect(a['bootstrap-read-security-code']).toBe('4.01');
    expect(a['max-latency-ms']).toBe(100_000);
    expect(a['separate-responses']).toBe(false);
    expect(a['bootstrap-request-pct']).toBeUndefined();
  });

  test('--name=value, --no-flag, and an empty value (an exec template with an empty placeholder)', () => {
    const a = parseDeviceFlags(['--state=s.json', '--bs-uri', 'coap://127.0.0.1:5683', '--endpoint', 'ep', '--server-uri', '', '--server-ssid', '', '--no-bootstrap-pack'], PROVISION);
    expect(a).toMatchObject({ state: 's.json', 'server-uri': '', 'server-ssid': '', 'bootstrap-pack': false, 'hold-off': 0 });
  });

  test('each wrong flag is refused naming it', () => {
    expect(refusal(['--state', 's', '--bogus'])).toBe('unknown flag --bogus');
    expect(refusal(['--ack-timeout-ms', '10'])).toBe('--state is required');
    expect(refusal(['--state'])).toBe('--state needs a value');
    expect(refusal(['--state', '--pid-file', 'p'])).toBe('--state needs a value');
    expect(refusal(['--state', 's', '--state', 't'])).toBe('--state is given twice');
    expect(refusal(['--state', 's', '--ack-timeout-ms', 'soon'])).toBe('--ack-timeout-ms: "soon" is not a number');
    expect(refusal(['--state', 's', '--ack-timeout-ms', ''])).toBe('--ack-timeout-ms: "" is not a number');
    expect(refusal(['--state', 's', '--bootstrap-request-pct', '60'])).toBe('--bootstrap-request-pct: "60" is not one of 110, 112, 11542');
    expect(refusal(['--state', 's', '--defect', 'no-such-defect'])).toMatch(/--defect: "no-such-defect" is not a name listed by 'geisa-adm device --help'/);
    expect(refusal(['--state', 's', '--persist-registration=maybe'])).toBe('--persist-registration: "maybe" is neither true nor false');
    expect(refusal(['--state', 's', 'extra'])).toMatch(/unexpected word "extra"/);
  });

  test('help names every command, every flag of a command, and every defect', () => {
    const top = deviceHelp();
    expect(top).toContain('geisa-adm device provision');
    expect(top).toContain('no-update');
    const run = deviceHelp('run');
    for (const flag of Object.keys(RUN)) expect(run).toContain(`--${flag}`);
  });
});
