/** The suite: every case, in the order a run takes them. */
import type { ConformanceCase } from '../harness/runner/case.js';
import tcBs01 from './bootstrap/TC-BS-01.js';
import tcBs02 from './bootstrap/TC-BS-02.js';
import tcReg01 from './registration/TC-REG-01.js';
import tcReg02 from './registration/TC-REG-02.js';
import tcRetry01 from './retry/TC-RETRY-01.js';
import tcRetry02 from './retry/TC-RETRY-02.js';
import tcSec01 from './security/TC-SEC-01.js';
import tcSec02 from './security/TC-SEC-02.js';
import tcSec03 from './security/TC-SEC-03.js';
import tcSec04 from './security/TC-SEC-04.js';
import tcSec05 from './security/TC-SEC-05.js';
import tcSec06 from './security/TC-SEC-06.js';

export const ALL_CASES: readonly ConformanceCase[] = [tcBs01, tcBs02, tcReg01, tcReg02, tcRetry01, tcRetry02, tcSec01, tcSec02, tcSec03, tcSec04, tcSec05, tcSec06];

export function findCase(id: string): ConformanceCase | undefined {
  return ALL_CASES.find((c) => c.meta.id === id);
}
