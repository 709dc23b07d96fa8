/**
 * The requirement catalog: every bootstrap, registration, retry, DTLS, EST and CoAP row the
 * suite traces, as the project's own data. Rows are the one source for a check's level,
 * the lint, `geisa-adm list` and every report's compliance matrix. Started from the team's
 * working list (paraphrases of GEISA, LwM2M Core/Transport 1.2.2, the OMA object
 * registry and the RFCs) and corrected where a row asked for more than its text says.
 *
 * `levels`: the levels a check citing the row may be judged at, the row's main one first.
 * SHALL/MUST fail the case; SHOULD gives an advisory; MAY is optional (a case gated by an
 * ICS claim fails when the claimed feature misbehaves); OPEN means the spec leaves the
 * point open or GEISA and LwM2M disagree: a miss is inconclusive with the clause. A row
 * known only by inference (Conf. I) is never judged above SHOULD.
 *
 * The rows live in one file per area (rows-*.ts); this module assembles them in section order.
 */
import type { CatalogRowData } from './types.js';
import { GEISA_ADM_ROWS } from './rows-geisa-adm.js';
import { BOOTSTRAP_ROWS } from './rows-bootstrap.js';
import { REGISTRATION_ROWS } from './rows-registration.js';
import { RETRY_ROWS } from './rows-retry.js';
import { SECURITY_ROWS } from './rows-security.js';
import { COAP_ROWS } from './rows-coap.js';

/** GEISA specification commit the rows were written against. */
export const GEISA_COMMIT = 'db1ce01';

/** Bump when a row is added, removed, or changes level or text. */
export const CATALOG_VERSION = '2026-12-02.3';

export const REQUIREMENT_ROWS: readonly CatalogRowData[] = [...GEISA_ADM_ROWS, ...BOOTSTRAP_ROWS, ...REGISTRATION_ROWS, ...RETRY_ROWS, ...SECURITY_ROWS, ...COAP_ROWS];
