/**
 * The reference device at the ends of a bootstrap: the Bootstrap-Server Account Timeout and
 * the trigger after it, and the lifecycle defects (a Finish that checks nothing, a missing
 * Finish taken as one), against scripted servers on 127.0.0.1.
 */
import { parsePath } from '../harness/lwm2m/index.js';
import { FAST_EXCHANGE_LIFETIME_MS, PROMPT_MS, securityRecords, serverRecords, benchPerTest } from './support/device-bench.js';
import { isBootstrapRequest, isRegister } from './support/scripted-peers.js';
import { ManualClock } from './support/manual-clock.js';

const bench = benchPerTest();

describe('Bootstrap-Server Account Timeout /0/x/12', () => {
  test('the account is purged after the timeout; the trigger then answers 2.04 and the device stays registered without bootstrapping', async () => {
    const clock = new ManualClock();
    const b = await bench({ clock });
    await b.provisionAndStart();
    expect(await b.write('/0/0/12', [{ path: parsePath('/0/0/12'), value: 1 }])).toBe('2.04');
    expect(await b.bootstrapOnto({ lifetimeS: 30 })).toEqual(['2.04', '2.04', '2.04']);
    const reg = await b.must(b.server, isRegister, PROMPT_MS, 'Register after Finish');
    await b.waitForLog(/registered at/, PROMPT_MS);
    // The account timeout, beside the heartbeat (15 s) and the expiry (30 s).
    expect(clock.waiting()).toEqual([1000, 15_000, 30_000]);
    clock.advance(999);
    expect(b.logs.filter((l) => /Account Timeout/.test(l))).toEqual([]);
    clock.advance(1);
    await b.waitForLog(/Bootstrap-Server Account Timeout of 1 s over: \/0\/0 deleted/, PROMPT_MS);
    const exec = await b.server.request(reg.remote, { method: 'POST', path: '/1/0/9' });
    expect(exec.msg.code).toBe('2.04');
    await b.waitForLog(/no Bootstrap-Server account is left: staying registered/, PROMPT_MS);
    expect(await b.bs.next(isBootstrapRequest, PROMPT_MS)).toBeUndefined();
  });

  test('ignore-bootstrap-account-timeout: the trigger still starts a bootstrap after the timeout', async () => {
    const clock = new ManualClock();
    const b = await bench({ defect: 'ignore-bootstrap-account-timeout', clock });
    await b.provisionAndStart();
    expect(await b.write('/0/0/12', [{ path: parsePath('/0/0/12'), value: 1 }])).toBe('2.04');
    expect(await b.bootstrapOnto({ lifetimeS: 30 })).toEqual(['2.04', '2.04', '2.04']);
    const reg = await b.must(b.server, isRegister, PROMPT_MS, 'Register after Finish');
    await b.waitForLog(/registered at/, PROMPT_MS);
    // No account timeout armed: only the heartbeat and the expiry.
    expect(clock.waiting()).toEqual([15_000, 30_000]);
    // The conformant device purges at 1 s; this one must still bootstrap once that has passed.
    clock.advance(1000);
    expect(b.bs.inbox.all.filter(isBootstrapRequest)).toHaveLength(1);
    expect((await b.server.request(reg.remote, { method: 'POST', path: '/1/0/9' })).msg.code).toBe('2.04');
    await b.must(b.bs, isBootstrapRequest, PROMPT_MS, 'Bootstrap-Request after the trigger');
  });
});

describe('lifecycle defects', () => {
  test('finish-accepts-inconsistent: Finish after Delete / is 2.04, and the device then idles without an account (no Register, no internal error)', async () => {
    const b = await bench({ defect: 'finish-accepts-inconsistent' });
    const req = await b.provisionAndStart();
    expect((await b.bs.request(req.remote, { method: 'DELETE', path: '/' })).msg.code).toBe('2.02');
    expect(await b.finish()).toBe('2.04');
    await b.waitForLog(/bootstrap finished without an LwM2M Server account/, PROMPT_MS);
    expect(await b.server.next(isRegister, PROMPT_MS)).toBeUndefined();
    expect(b.logs.filter((l) => /internal error/.test(l))).toEqual([]);
  });

  test('commit-on-finish-timeout: without Finish the half-written account is kept and registered with after EXCHANGE_LIFETIME', async () => {
    const clock = new ManualClock();
    const b = await bench({ defect: 'commit-on-finish-timeout', clock });
    await b.provisionAndStart();
    expect(await b.write('/0/1', securityRecords(1, b.server.uri, 101))).toBe('2.04');
    expect(await b.write('/1/0', serverRecords(0, { lifetimeS: 30 }))).toBe('2.04');
    // The Finish wait, restarted by the last Write.
    expect(clock.waiting()).toEqual([FAST_EXCHANGE_LIFETIME_MS]);
    clock.advance(FAST_EXCHANGE_LIFETIME_MS - 1);
    expect(b.server.inbox.all.filter(isRegister)).toEqual([]);
    clock.advance(1);
    await b.must(b.server, isRegister, PROMPT_MS, 'Register on the unfinished configuration');
    expect(b.bs.inbox.all.filter(isBootstrapRequest)).toHaveLength(1);
  });

  test('finish-accepts-no-server: Finish after Delete / is 2.04, then a new Bootstrap-Request and no Register', async () => {
    const b = await bench({ defect: 'finish-accepts-no-server' });
    await b.provisionAndStart();
    expect(await b.write('/0/1', securityRecords(1, b.server.uri, 101))).toBe('2.04');
    expect(await b.write('/1/0', serverRecords(0, { lifetimeS: 30 }))).toBe('2.04');
    const req = b.bs.inbox.all.find(isBootstrapRequest)!;
    expect((await b.bs.request(req.remote, { method: 'DELETE', path: '/' })).msg.code).toBe('2.02');
    expect(await b.finish()).toBe('2.04');
    await b.must(b.bs, isBootstrapRequest, PROMPT_MS, 'a new Bootstrap-Request after the 2.04');
    expect(b.server.inbox.all.filter(isRegister)).toEqual([]);
  });
});
