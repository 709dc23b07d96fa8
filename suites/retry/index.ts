/** Cases of the registration retry and fallback, in the order a run takes them. */
import type { ConformanceCase } from '../../harness/runner/case.js';
import TcRetry01 from './TC-RETRY-01.js';
import TcRetry02 from './TC-RETRY-02.js';
import TcRetry03 from './TC-RETRY-03.js';
import TcRetry04 from './TC-RETRY-04.js';
import TcRetry05 from './TC-RETRY-05.js';
import TcRetry06 from './TC-RETRY-06.js';
import TcRetry07 from './TC-RETRY-07.js';
import TcRetry08 from './TC-RETRY-08.js';
import TcRetry09 from './TC-RETRY-09.js';

export const RETRY_CASES: readonly ConformanceCase[] = [TcRetry01, TcRetry02, TcRetry03, TcRetry04, TcRetry05, TcRetry06, TcRetry07, TcRetry08, TcRetry09];
