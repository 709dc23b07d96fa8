/** Cases of the registration retry and fallback, in the order a run takes them. */
import type { ConformanceCase } from '../../harness/runner/case.js';
import TcRetry01 from './TC-RETRY-01.js';
import TcRetry02 from './TC-RETRY-02.js';

export const RETRY_CASES: readonly ConformanceCase[] = [TcRetry01, TcRetry02];
