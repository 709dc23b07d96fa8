/** Cases of the Registration interface, in the order a run takes them. */
import type { ConformanceCase } from '../../harness/runner/case.js';
import TcReg01 from './TC-REG-01.js';
import TcReg02 from './TC-REG-02.js';

export const REGISTRATION_CASES: readonly ConformanceCase[] = [TcReg01, TcReg02];
