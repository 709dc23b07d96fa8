/** Cases of the Bootstrap interface, in the order a run takes them. */
import type { ConformanceCase } from '../../harness/runner/case.js';
import TcBs01 from './TC-BS-01.js';
import TcBs02 from './TC-BS-02.js';

export const BOOTSTRAP_CASES: readonly ConformanceCase[] = [TcBs01, TcBs02];
