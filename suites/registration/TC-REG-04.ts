/*
 * Expected sequence:
 *   (precondition) bootstrap writes a Security instance /0/x and a Server instance /1/y
 *   device -> DM   CON POST /rd?...   payload lists objects and instances, but no </0...>
 *                                     (Security) and no </21...> (OSCORE)
 * The catalog row is inferred (Leshan's client skips /0 and /21; Core §6.2.1 read from
 * memory), so a device that lists them gets an advisory, not a fail.
 */
import { defineCase } from '../../harness/runner/case.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { parseLinkFormat, type Link } from '../../harness/lwm2m/index.js';
import { describeRequest, registered, serverAccount } from '../steps.js';
import { registeredMs } from './timers.js';
import { bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';

const HIDDEN_OBJECTS: ReadonlyMap<number, string> = new Map([
  [0, 'Security'],
  [21, 'OSCORE'],
]);

export default defineCase(
  {
    id: 'TC-REG-04',
    title: 'Register payload does not list the Security (or OSCORE) object',
    area: 'registration',
    requirements: [{ id: 'LWM2M-CORE-REG-04', section: 'LwM2M Core 1.2 §6.2.1 (inferred)', quote: 'the Security object /0 and the OSCORE object /21 are not part of the Objects and Object Instances of the Register' }],
    budget: registeredMs,
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['registration'],
  },
  async (t: CaseContext) => {
    const { register } = await registered(t, serverAccount(t), { what: 'device bootstrapped and sent its first Register' });
    const text = register.msg.payload.toString('utf8');
    let links: Link[];
    try {
      links = parseLinkFormat(text);
    } catch (e) {
      t.inconclusive(`the Register payload is not link-format (${(e as Error).message}), so what it lists cannot be judged here; TC-REG-03 judges its format`);
    }
    const hidden = links.filter((l) => {
      const m = /^\/(\d+)(?:\/|$)/.exec(l.target);
      return m !== null && HIDDEN_OBJECTS.has(Number(m[1]));
    });
    // The row is inferred (Conf. I), so it is judged at SHOULD: a listed /0 is an advisory.
    const clean = t.check('LWM2M-CORE-REG-04', 'Register payload lists no Security (/0) or OSCORE (/21) object or instance', hidden.length === 0, {
      expected: 'no </0...> and no </21...>',
      observed: hidden.length ? `${hidden.map((l) => `<${l.target}> (${HIDDEN_OBJECTS.get(Number(l.target.split('/')[1]))})`).join(', ')} in ${text}` : text,
    });
    t.pass(
      clean
        ? `Register ${describeRequest(register)} lists ${links.length} links and none of the Security or OSCORE objects: ${text}`
        : `Register ${describeRequest(register)} lists ${hidden.map((l) => `<${l.target}>`).join(', ')} among its ${links.length} links; the row is inferred, so this is an advisory, not a fail`,
    );
  },
);
