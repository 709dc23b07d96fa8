/** Cases of the DTLS and credentials, in the order a run takes them. */
import type { ConformanceCase } from '../../harness/runner/case.js';
import TcSec01 from './TC-SEC-01.js';
import TcSec02 from './TC-SEC-02.js';
import TcSec03 from './TC-SEC-03.js';
import TcSec04 from './TC-SEC-04.js';
import TcSec05 from './TC-SEC-05.js';
import TcSec06 from './TC-SEC-06.js';
import TcSec07 from './TC-SEC-07.js';
import TcSec08 from './TC-SEC-08.js';
import TcSec09 from './TC-SEC-09.js';
import TcSec10 from './TC-SEC-10.js';

export const SECURITY_CASES: readonly ConformanceCase[] = [TcSec01, TcSec02, TcSec03, TcSec04, TcSec05, TcSec06, TcSec07, TcSec08, TcSec09, TcSec10];
