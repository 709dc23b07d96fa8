/*
 * Expected sequence (the Bootstrap-Server refuses every Bootstrap-Request with 4.00):
 *   device -> BS   CON POST /bs?ep=<endpoint>     4.00 Bad Request
 *   device -> BS   CON POST /bs?ep=<endpoint>     no sooner than 1 s later (or never)
 * Inferred row (Anjay ClientBootstrapBacksOffAfterErrorResponse): a miss is an advisory.
 */
import { defineCase } from '../../harness/runner/case.js';

import { CaseContext, fmtMs } from '../../harness/runner/context.js';
import { reject } from '../../harness/servers/policy.js';
import { bootstrapRequested, describeRequest, startupWindowMs } from '../steps.js';
import { bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';

/** The catalog's floor for the next Bootstrap-Request after an error response. */
const MIN_BACKOFF_MS = 1000;
/** Both arrivals are stamped by the same harness socket; this covers its scheduling jitter. */
const TOLERANCE_MS = 100;

export default defineCase(
  {
    id: 'TC-BS-08',
    title: 'After an error response to its Bootstrap-Request the device backs off before asking again',
    area: 'bootstrap',
    requirements: [
      {
        id: 'LWM2M-CORE-BS-02',
        section: 'LwM2M Core 1.2 §6.1.7.1 (Bootstrap-Request; back-off inferred, catalog Conf. I)',
        quote: 'the Bootstrap-Server answers 2.04, or 4.00 Bad Request for an unknown endpoint; after an error response the client must not hammer the Bootstrap-Server (back off)',
      },
    ],
    // First request, then the window the case watches for a second one (the same formula as windowMs).
    budget: (k) => k.firstRequestMs + Math.max(k.firstRequestMs, 2 * MIN_BACKOFF_MS),
    floor: (k) => bootstrapAndRegisterFloorMs(k) + MIN_BACKOFF_MS,
    tags: ['bootstrap', 'retry'],
  },
  async (t: CaseContext) => {
    t.bootstrapServer.bootstrapRequestPolicy = reject('4.00');
    const first = await bootstrapRequested(t);
    t.note(`${describeRequest(first)} answered ${first.answeredWith}`);

    // device -> BS: the next Bootstrap-Request, if any, within the device's own start-up bound.
    const windowMs = Math.max(startupWindowMs(t), MIN_BACKOFF_MS * 2);
    const next = await t.bootstrapServer.expectBootstrapRequest(windowMs, t.signal);
    if (!next) {
      t.pass(`after ${describeRequest(first)} was answered 4.00 the device sent no new Bootstrap-Request within ${fmtMs(windowMs)}`);
      return;
    }
    const gapMs = CaseContext.elapsedMs(first.monoNs, next.monoNs);
    const backedOff = t.checkTiming({
      req: 'LWM2M-CORE-BS-02',
      name: 'gap between the 4.00 to Bootstrap-Request #1 and Bootstrap-Request #2',
      observedMs: gapMs,
      span: { fromNs: first.monoNs, toNs: next.monoNs },
      minMs: MIN_BACKOFF_MS,
      maxMs: windowMs,
      toleranceMs: TOLERANCE_MS,
      window: 'no new /bs sooner than 1 s after an error response (catalog LWM2M-CORE-BS-02)',
    });
    const window = `window: no sooner than ${fmtMs(MIN_BACKOFF_MS)}, tolerance ${fmtMs(TOLERANCE_MS)}`;
    t.pass(
      backedOff
        ? `after ${describeRequest(first)} was answered 4.00 the device waited ${fmtMs(gapMs)} before ${describeRequest(next)} (${window})`
        : `after ${describeRequest(first)} was answered 4.00 the device asked again ${fmtMs(gapMs)} later with ${describeRequest(next)}, without backing off (${window}; a SHOULD-level row)`,
    );
  },
);
