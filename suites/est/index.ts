/** Cases of Certificate mode with EST (Security Mode 4, RFC 9148), in the order a run takes them. */
import type { ConformanceCase } from '../../harness/runner/case.js';
import TcEst01 from './TC-EST-01.js';
import TcEst02 from './TC-EST-02.js';
import TcEst03 from './TC-EST-03.js';
import TcEst04 from './TC-EST-04.js';
import TcEst05 from './TC-EST-05.js';
import TcEst06 from './TC-EST-06.js';
import TcEst07 from './TC-EST-07.js';
import TcEst08 from './TC-EST-08.js';
import TcEst09 from './TC-EST-09.js';
import TcEst10 from './TC-EST-10.js';
import TcEst11 from './TC-EST-11.js';

export const EST_CASES: readonly ConformanceCase[] = [TcEst01, TcEst02, TcEst03, TcEst04, TcEst05, TcEst06, TcEst07, TcEst08, TcEst09, TcEst10, TcEst11];
