/**
 * A device that speaks valid CoAP and LwM2M framing but answers with broken payloads: it
 * sends a Bootstrap-Request, answers every Discover and Read 2.05 with malformed
 * link-format, TLV or SenML in the format asked for, takes every Write, and after
 * Bootstrap-Finish registers at the LwM2M Server with a malformed link-format body and
 * answers its Reads the same way. The case it plays against must still end with a verdict.
 */
import { CoapEndpoint, type InboundRequest } from '../harness/coap/endpoint.js';
import { OPTION, uintOption, uriPath } from '../harness/coap/message.js';
import { CF } from '../harness/lwm2m/index.js';
import type { ActionHooks, ActionParams, ActionSecrets, DutAction, DutAdapter } from '../harness/dut/adapter.js';
import { type Rng, malformedPayload } from './generators.js';
import type { Target } from './attacker.js';

export class FuzzingDevice implements DutAdapter {
  readonly kind = 'exec' as const;
  readonly payloads = new Map<string, number>();
  private endpoint: CoapEndpoint | undefined;

  constructor(
    private readonly rng: Rng,
    /** Where the case's LwM2M Server listens, once it does. */
    private readonly lwm2mServer: () => Target | undefined,
  ) {}

  supports(action: DutAction): boolean {
    return action === 'provision' || action === 'start' || action === 'stop';
  }

  async run(action: DutAction, params: ActionParams, _secrets: ActionSecrets, hooks: ActionHooks): Promise<void> {
    if (action === 'provision') return;
    if (action === 'stop') return this.dispose();
    if (action !== 'start') return;
    const ep = await CoapEndpoint.open({ name: 'fuzzing-device', address: '127.0.0.1', params: { ackTimeoutMs: 1000, ackRandomFactor: 1.5, maxRetransmit: 2, nstart: 1 } });
    this.endpoint = ep;
    ep.on('socket-error', () => {});
    ep.onRequest((r) => this.answer(r, params));
    hooks.note('adapter', `fuzzing device on 127.0.0.1:${ep.local.port}: valid framing, malformed payloads`);
    ep.request({ address: params.bsHost, port: params.bsPort }, { method: 'POST', path: '/bs', query: [`ep=${params.endpoint}`] }).catch(() => {});
  }

  private answer(r: InboundRequest, params: ActionParams): void {
    const path = uriPath(r.msg);
    if (r.msg.code === '0.01') {
      const accept = uintOption(r.msg, OPTION.ACCEPT);
      const cf = accept ?? this.rng.pick([CF.TLV, CF.SENML_JSON, CF.SENML_CBOR, CF.LINK_FORMAT]);
      const p = malformedPayload(this.rng, cf);
      this.payloads.set(p.shape, (this.payloads.get(p.shape) ?? 0) + 1);
      r.respond('2.05', { contentFormat: cf, payload: p.bytes });
      return;
    }
    if (r.msg.code === '0.02' && path === '/bs') {
      r.respond('2.04');
      this.register(params);
      return;
    }
    r.respond(r.msg.code === '0.04' ? '2.02' : '2.04');
  }

  private register(params: ActionParams): void {
    const dm = this.lwm2mServer();
    if (!dm || !this.endpoint || dm.scheme !== 'coap') return;
    const p = malformedPayload(this.rng, CF.LINK_FORMAT);
    this.payloads.set(`register ${p.shape}`, (this.payloads.get(`register ${p.shape}`) ?? 0) + 1);
    this.endpoint
      .request({ address: dm.address === '0.0.0.0' ? '127.0.0.1' : dm.address, port: dm.port }, { method: 'POST', path: '/rd', query: [`ep=${params.endpoint}`, 'lt=10', 'lwm2m=1.2'], contentFormat: CF.LINK_FORMAT, payload: p.bytes })
      .catch(() => {});
  }

  async dispose(): Promise<void> {
    const ep = this.endpoint;
    this.endpoint = undefined;
    await ep?.close();
  }
}
