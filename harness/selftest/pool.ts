/**
 * A bounded pool: at most `concurrency` jobs in flight, results in job order. Cases wait
 * mostly on protocol timers, so more jobs than cores is fine up to the point where CPU
 * bursts (device process start-up, DTLS handshakes) stall the harness's event loop.
 */
export async function runPool<J, R>(jobs: readonly J[], concurrency: number, work: (job: J, index: number) => Promise<R>, signal?: AbortSignal): Promise<(R | undefined)[]> {
  if (!(concurrency >= 1)) throw new Error(`pool concurrency must be >= 1, got ${concurrency}`);
  const results: (R | undefined)[] = new Array(jobs.length).fill(undefined);
  let next = 0;
  let failure: unknown;
  const lane = async (): Promise<void> => {
    while (next < jobs.length && failure === undefined && !signal?.aborted) {
      const i = next++;
      try {
        results[i] = await work(jobs[i]!, i);
      } catch (e) {
        failure ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, lane));
  if (failure !== undefined) throw failure;
  return results;
}
