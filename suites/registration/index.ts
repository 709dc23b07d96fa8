/** Cases of the Registration interface, in the order a run takes them. */
import type { ConformanceCase } from '../../harness/runner/case.js';
import TcReg01 from './TC-REG-01.js';
import TcReg02 from './TC-REG-02.js';
import TcReg03 from './TC-REG-03.js';
import TcReg04 from './TC-REG-04.js';
import TcReg05 from './TC-REG-05.js';
import TcReg06 from './TC-REG-06.js';
import TcReg07 from './TC-REG-07.js';
import TcReg08 from './TC-REG-08.js';
import TcReg09 from './TC-REG-09.js';
import TcReg10 from './TC-REG-10.js';
import TcReg11 from './TC-REG-11.js';
import TcReg12 from './TC-REG-12.js';
import TcReg13 from './TC-REG-13.js';

export const REGISTRATION_CASES: readonly ConformanceCase[] = [TcReg01, TcReg02, TcReg03, TcReg04, TcReg05, TcReg06, TcReg07, TcReg08, TcReg09, TcReg10, TcReg11, TcReg12, TcReg13];
