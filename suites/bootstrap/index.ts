/** Cases of the Bootstrap interface, in the order a run takes them. */
import type { ConformanceCase } from '../../harness/runner/case.js';
import TcBs01 from './TC-BS-01.js';
import TcBs02 from './TC-BS-02.js';
import TcBs03 from './TC-BS-03.js';
import TcBs04 from './TC-BS-04.js';
import TcBs05 from './TC-BS-05.js';
import TcBs06 from './TC-BS-06.js';
import TcBs07 from './TC-BS-07.js';
import TcBs08 from './TC-BS-08.js';
import TcBs10 from './TC-BS-10.js';
import TcBs11 from './TC-BS-11.js';
import TcBs12 from './TC-BS-12.js';
import TcBs13 from './TC-BS-13.js';
import TcBs14 from './TC-BS-14.js';
import TcBs15 from './TC-BS-15.js';
import TcBs16 from './TC-BS-16.js';
import TcBs17 from './TC-BS-17.js';
import TcBs18 from './TC-BS-18.js';
import TcBs19 from './TC-BS-19.js';
import TcBs20 from './TC-BS-20.js';
import TcBs21 from './TC-BS-21.js';

export const BOOTSTRAP_CASES: readonly ConformanceCase[] = [TcBs01, TcBs02, TcBs03, TcBs04, TcBs05, TcBs06, TcBs07, TcBs08, TcBs10, TcBs11, TcBs12, TcBs13, TcBs14, TcBs15, TcBs16, TcBs17, TcBs18, TcBs19, TcBs20, TcBs21];
