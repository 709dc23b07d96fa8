/** Cases of the CoAP message layer, in the order a run takes them. */
import type { ConformanceCase } from '../../harness/runner/case.js';
import TcCoap01 from './TC-COAP-01.js';
import TcCoap02 from './TC-COAP-02.js';
import TcCoap03 from './TC-COAP-03.js';
import TcCoap04 from './TC-COAP-04.js';
import TcCoap05 from './TC-COAP-05.js';
import TcCoap06 from './TC-COAP-06.js';

export const COAP_CASES: readonly ConformanceCase[] = [TcCoap01, TcCoap02, TcCoap03, TcCoap04, TcCoap05, TcCoap06];
