/**
 * The run's pcapng capture, read back by an independent reader (tshark): every datagram
 * the harness saw, at its real addresses and ports, with its wall-clock time, the case id
 * and direction in its comment, and payloads byte for byte as events.jsonl holds them.
 * With --keylog, tshark decrypts the DTLS sessions and finds the CoAP inside.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { encodeCoap, OPTION, pathOptions, queryOptions } from '../harness/coap/message.js';
import { WireRecorder } from '../harness/recorder/wire-recorder.js';
import { CAPTURE_NAME, DECODE_SCRIPT_NAME, capturePlan, decodeAsArgs, decodeAsHint, decodeScript, ipv6Bytes, renderCapture } from '../harness/recorder/pcapng.js';
import { KEYLOG_NAME } from '../harness/recorder/keylog.js';
import { parseEventLog } from '../harness/reports/event-log.js';
import type { DatagramEvent, ResultEvent } from '../harness/events/events.js';
import { hasTool, describeIf } from './support/tools.js';

const CLI = resolve('dist/bin/geisa-adm.js');
const describeTshark = describeIf(hasTool('tshark'), 'no tshark (Debian tshark)');

/** tshark's fields, one row per packet. */
function tshark(file: string, args: string[], fields: string[]): string[][] {
  const r = spawnSync('tshark', ['-r', file, ...args, '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=f', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`tshark failed (${r.status}): ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split('|'));
}

test('ipv6Bytes reads every textual form', () => {
  expect(ipv6Bytes('::1').toString('hex')).toBe('00000000000000000000000000000001');
  expect(ipv6Bytes('2001:db8::10:1').toString('hex')).toBe('20010db8000000000000000000100001');
  expect(ipv6Bytes('::ffff:192.0.2.7').toString('hex')).toBe('00000000000000000000ffffc0000207');
  expect(ipv6Bytes('fe80::1%eth0'.replace(/%.*/, '')).toString('hex')).toBe('fe800000000000000000000000000001');
  expect(() => ipv6Bytes('1:2:3')).toThrow();
});

test('decodeAsHint: CoAP ports to coap; coaps ports to DTLS, and the decrypted DTLS to CoAP; a port of the other scheme splits a range', () => {
  expect(decodeAsHint({ coap: [5683, 40000, 5683], coaps: [5684] })).toBe(`tshark -r ${CAPTURE_NAME} -d udp.port==5683,coap -d udp.port==5684,dtls -d dtls.port==5684,coap -d udp.port==40000,coap`);
  expect(decodeAsHint({ coap: [], coaps: [] })).toBe('');
});

test("decodeAsArgs: a run's block is one CoAP range and one DTLS range, whatever ports were left unused; a device's port inside splits it", () => {
  const block = { coap: [20000, 20001, 20003, 20007], coaps: [20016, 20017, 20020] };
  expect(decodeAsArgs(block).join(' ')).toBe('-d udp.port==20000-20007,coap -d udp.port==20016-20020,dtls -d dtls.port==20016-20020,coap');
  // A device port between two server ports: the range would decode its traffic too.
  expect(decodeAsArgs(block, [20002, 45000]).join(' ')).toBe('-d udp.port==20000-20001,coap -d udp.port==20003-20007,coap -d udp.port==20016-20020,dtls -d dtls.port==20016-20020,coap');
  // A device port that is also a server port (a case's device talking to another case's server) does not split.
  expect(decodeAsArgs(block, [20001]).join(' ')).toBe('-d udp.port==20000-20007,coap -d udp.port==20016-20020,dtls -d dtls.port==20016-20020,coap');
});

test('decodeScript: one tshark command on the capture beside it, the key log when there is one, extra arguments passed through', () => {
  const args = ['-d', 'udp.port==20000-20015,coap', '-d', 'udp.port==20016-20031,dtls', '-d', 'dtls.port==20016-20031,coap'];
  const plain = decodeScript(args);
  expect(plain.split('\n').filter((l) => !l.startsWith('#') && l)).toEqual(['d=$(dirname "$0")', `exec tshark -r "$d/${CAPTURE_NAME}" -d udp.port==20000-20015,coap -d udp.port==20016-20031,dtls -d dtls.port==20016-20031,coap "$@"`]);
  expect(plain).toContain('20000-20015 as coap, 20016-20031 as dtls');
  expect(decodeScript(args, 'SECRETS-dtls-keylog.txt')).toContain(`-o "tls.keylog_file:$d/SECRETS-dtls-keylog.txt" "$@"`);
});

describeTshark('pcapng capture read back by tshark', () => {
  test('addresses (IPv4, IPv6, wildcard), ports, times, comments, checksums and payloads are what the events say; a secret is redacted and the packet says so', () => {
    const startedAt = '2026-01-02T03:04:05.678Z';
    const anchorNs = 5_000_000_000n;
    const events: ResultEvent[] = [
      {
        type: 'run-start',
        schema: 1,
        toolVersion: 'test',
        gitCommit: null,
        startedAt,
        monoNs: anchorNs.toString(),
        host: 'h',
        profile: { harness: { advertiseHost: '192.0.2.10' } },
        defect: null,
        cases: ['TC-X-01'],
      },
    ];
    const recorder = new WireRecorder((e) => events.push(e));
    recorder.startCase('TC-X-01');
    const key = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    recorder.scrubber.add(key);
    const bsRequest = encodeCoap({
      type: 'CON',
      code: '0.02',
      mid: 0x1234,
      token: Buffer.from('a1b2', 'hex'),
      options: [...pathOptions('/bs'), ...queryOptions(['ep=urn:dev:ops:x'])],
      payload: Buffer.alloc(0),
    });
    const write = encodeCoap({
      type: 'CON',
      code: '0.03',
      mid: 0x1235,
      token: Buffer.from('a1b3', 'hex'),
      options: [...pathOptions('/0/1/5'), { number: OPTION.CONTENT_FORMAT, value: Buffer.from([42]) }],
      payload: key,
    });
    const at = (ms: number) => anchorNs + BigInt(ms) * 1_000_000n + 123n;
    const v4 = { address: '127.0.0.1', port: 5683 };
    const dev4 = { address: '127.0.0.1', port: 40001 };
    recorder.record({ direction: 'in', endpoint: 'bootstrap-server', local: v4, remote: dev4, monoNs: at(10), bytes: bsRequest });
    recorder.record({ direction: 'out', endpoint: 'bootstrap-server', local: v4, remote: dev4, monoNs: at(20), bytes: write });
    recorder.record({ direction: 'in', endpoint: 'lwm2m-server', local: { address: '::1', port: 5783 }, remote: { address: '::1', port: 40002 }, monoNs: at(30), bytes: bsRequest });
    // A socket on the wildcard address with an IPv4 peer on a dual-stack socket: the advertised address stands in.
    recorder.record({ direction: 'in', endpoint: 'other-server', local: { address: '::', port: 5883 }, remote: { address: '::ffff:192.0.2.77', port: 40003 }, monoNs: at(40), bytes: bsRequest });
    const datagrams = events.filter((e): e is DatagramEvent => e.type === 'datagram');
    expect(datagrams[1]!.redacted).toBe(1);
    expect(datagrams[0]!.redacted).toBeUndefined();

    const dir = mkdtempSync(join(tmpdir(), 'geisa-capture-'));
    const file = join(dir, CAPTURE_NAME);
    const { bytes, summary } = renderCapture(events);
    writeFileSync(file, bytes);
    expect(summary.packets).toBe(4);
    expect(summary.redactedPackets).toBe(1);
    // The secret is in no form anywhere in the file.
    for (const form of [key, Buffer.from(key.toString('hex')), Buffer.from(key.toString('base64'))]) expect(bytes.includes(form)).toBe(false);

    const rows = tshark(
      file,
      ['-o', 'udp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-d', 'udp.port==5683,coap', '-d', 'udp.port==5783,coap', '-d', 'udp.port==5883,coap'],
      ['frame.time_epoch', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'udp.srcport', 'udp.dstport', 'udp.checksum.status', 'ip.checksum.status', 'udp.payload', 'frame.comment', 'coap.opt.uri_query'],
    );
    expect(rows).toHaveLength(4);
    const startNs = BigInt(Date.parse(startedAt)) * 1_000_000n;
    rows.forEach((r, i) => {
      const e = datagrams[i]!;
      const wall = startNs + (BigInt(e.monoNs) - anchorNs);
      expect(r[0]).toBe(`${wall / 1_000_000_000n}.${(wall % 1_000_000_000n).toString().padStart(9, '0')}`);
      expect(r[9]).toBe(e.bytes);
      // tshark's checksum status 1 is "good" (verified).
      expect(r[7]).toBe('1');
      if (r[1]) expect(r[8]).toBe('1');
      expect(r[10]).toContain(`TC-X-01 ${e.direction}:`);
    });
    expect(rows[0]!.slice(1, 3)).toEqual(['127.0.0.1', '127.0.0.1']);
    expect(rows[0]!.slice(5, 7)).toEqual(['40001', '5683']);
    expect(rows[0]![11]).toBe('ep=urn:dev:ops:x');
    expect(rows[0]![10]).toBe('TC-X-01 in: device -> bootstrap-server (coap)');
    expect(rows[1]!.slice(5, 7)).toEqual(['5683', '40001']);
    expect(rows[1]![10]).toMatch(/REDACTED: 1 secret value overwritten with zero bytes .*not the bytes on the wire/);
    expect(rows[1]![9]).toContain('0'.repeat(32));
    expect(rows[2]!.slice(3, 5)).toEqual(['::1', '::1']);
    expect(rows[2]!.slice(5, 7)).toEqual(['40002', '5783']);
    expect(rows[3]!.slice(1, 3)).toEqual(['192.0.2.77', '192.0.2.10']);
    // The section header says which ports speak CoAP and that headers are synthesised.
    const text = bytes.toString('latin1');
    expect(text).toContain('CoAP 5683, 5783, 5883;');
    expect(text).toContain('IP and UDP headers are synthesised');
    expect(text).toContain('1 packet(s) marked REDACTED');
  });

  test('a DTLS run through the CLI: the capture holds every wire datagram; the decode-as hint finds the Bootstrap-Request in clear, and with --keylog inside DTLS', () => {
    const dir = mkdtempSync(join(tmpdir(), 'geisa-capture-cli-'));
    const out = join(dir, 'out');
    const r = spawnSync(process.execPath, [CLI, 'run', '--cases', 'TC-SEC-01,TC-BS-01', '--keylog', '--out', out], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });
    expect(r.stdout).toMatch(/TC-SEC-01 PASS/);
    expect(r.stdout).toMatch(/TC-BS-01 PASS/);
    const file = join(out, CAPTURE_NAME);
    const keylog = join(out, KEYLOG_NAME);
    expect(statSync(keylog).mode & 0o077).toBe(0);
    expect(readFileSync(keylog, 'utf8')).toMatch(/^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}$/m);

    // One short console line names the script beside the capture; the script's decode-as
    // arguments are ranges: the run's block, one CoAP range and one DTLS range.
    const hintLine = /decode with:\s+sh (\S+)$/m.exec(r.stdout);
    expect(hintLine).not.toBeNull();
    expect(hintLine![1]).toBe(join(out, DECODE_SCRIPT_NAME));
    expect(hintLine![0].length).toBeLessThan(120);
    const script = readFileSync(hintLine![1]!, 'utf8');
    expect(statSync(hintLine![1]!).mode & 0o111).not.toBe(0);
    const command = script.split('\n').find((l) => l.startsWith('exec tshark '))!;
    const decodeArgs = [...command.matchAll(/-d (\S+)/g)].flatMap((m) => ['-d', m[1]!]);
    const ranges = decodeArgs.filter((a) => a.startsWith('udp.port=='));
    expect(ranges).toEqual([expect.stringMatching(/^udp\.port==\d+(-\d+)?,coap$/), expect.stringMatching(/^udp\.port==\d+(-\d+)?,dtls$/)]);
    const events = parseEventLog(readFileSync(join(out, 'events.jsonl'), 'utf8'));
    const plan = capturePlan(events);
    // Every server port lies in its scheme's range; the run note names the block.
    const inRange = (port: number, scheme: string) =>
      ranges.some((a) => {
        const m = /==(\d+)(?:-(\d+))?,(\w+)$/.exec(a)!;
        return Number(m[1]) <= port && port <= Number(m[2] ?? m[1]) && m[3] === scheme;
      });
    for (const p of plan.ports) expect(`${p.endpoint} ${p.port} ${inRange(p.port, p.scheme === 'coap' ? 'coap' : 'dtls')}`).toBe(`${p.endpoint} ${p.port} true`);
    expect(plan.ports.some((p) => p.scheme === 'coaps' && p.caseId === 'TC-SEC-01')).toBe(true);
    expect(plan.ports.some((p) => p.scheme === 'coap' && p.caseId === 'TC-BS-01')).toBe(true);
    expect(events.some((e) => e.type === 'note' && /fake servers listened on UDP ports \d+-\d+/.test(e.text))).toBe(true);

    // Every wire datagram of the event log is a packet, with the same bytes, in time order.
    const packets = tshark(file, [], ['udp.payload', 'frame.comment']);
    expect(packets.map((p) => p[0])).toEqual(plan.packets.map((p) => p.event.bytes));
    const dtlsEvents = events.filter((e) => e.type === 'datagram' && e.layer === 'dtls').length;
    expect(packets.filter((p) => p[1]!.startsWith('TC-SEC-01') && p[1]!.includes('(coaps)'))).toHaveLength(dtlsEvents);

    // The script (it decrypts with the run's key log) decodes every datagram: each plaintext
    // one as CoAP, each DTLS one as DTLS, and every DTLS application record as CoAP inside.
    const decoded = spawnSync('sh', [hintLine![1]!, '-T', 'fields', '-E', 'separator=|', '-e', 'frame.comment', '-e', '_ws.col.Protocol', '-e', 'coap.mid', '-e', 'dtls.record.content_type'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(decoded.status).toBe(0);
    const rows = decoded.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('|'));
    expect(rows).toHaveLength(plan.packets.length);
    const coapDatagrams = plan.packets.filter((p) => p.scheme === 'coap').length;
    expect(rows.filter((row) => row[0]!.endsWith('(coap)') && row[1] === 'CoAP' && row[2] !== '')).toHaveLength(coapDatagrams);
    const dtlsRows = rows.filter((row) => row[0]!.endsWith('(coaps)'));
    expect(dtlsRows).toHaveLength(dtlsEvents);
    for (const row of dtlsRows) expect(row[3]).toMatch(/^2[0-5](,2[0-5])*$/);
    // Application data (content type 23) decrypted: CoAP inside, as many as the harness decrypted.
    const insideDtls = events.filter((e) => e.type === 'datagram' && e.layer === 'coap' && e.caseId === 'TC-SEC-01').length;
    expect(insideDtls).toBeGreaterThan(0);
    expect(dtlsRows.filter((row) => row[1] === 'CoAP' && row[2] !== '')).toHaveLength(insideDtls);

    const bootstrapRequests = (extra: string[]) => tshark(file, [...decodeArgs, ...extra, '-Y', 'coap.code == 2 && coap.opt.uri_path_recon == "/bs" && coap.opt.uri_query contains "ep="'], ['frame.comment', 'coap.opt.uri_query']);
    // Without the key log: the plaintext one only; the DTLS one stays encrypted.
    const clear = bootstrapRequests([]);
    expect(clear.map((row) => row[0])).toEqual(['TC-BS-01 in: device -> bootstrap-server (coap)']);
    expect(clear[0]![1]).toMatch(/^ep=urn:dev:ops:/);
    // With it: OpenSSL's key log lets tshark decrypt TLS_PSK_WITH_AES_128_CCM_8 and find the CoAP inside.
    const decrypted = bootstrapRequests(['-o', `tls.keylog_file:${keylog}`]);
    // The two cases ran at once: their requests may reach the capture in either order.
    expect(decrypted.map((row) => row[0]).sort()).toEqual(['TC-BS-01 in: device -> bootstrap-server (coap)', 'TC-SEC-01 in: device -> bootstrap-server (coaps)']);
    expect(decrypted.find((row) => row[0]!.startsWith('TC-SEC-01'))![1]).toMatch(/^ep=urn:dev:ops:/);

    // The capture is in the manifest; the key log is too, under its SECRETS name.
    const manifest = readFileSync(join(out, 'manifest.sha256'), 'utf8');
    expect(manifest).toMatch(new RegExp(`^[0-9a-f]{64}  ${CAPTURE_NAME}$`, 'm'));
    expect(manifest).toMatch(new RegExp(`^[0-9a-f]{64}  ${KEYLOG_NAME}$`, 'm'));
  }, 150_000);

  test('without --keylog no key log is written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'geisa-capture-nokeylog-'));
    const r = spawnSync(process.execPath, [CLI, 'run', '--cases', 'TC-SEC-01', '--out', dir], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 });
    expect(r.stdout).toMatch(/TC-SEC-01 PASS/);
    expect(() => statSync(join(dir, KEYLOG_NAME))).toThrow();
    expect(statSync(join(dir, CAPTURE_NAME)).size).toBeGreaterThan(0);
    expect(r.stdout).not.toContain('SECRETS');
  }, 120_000);
});
