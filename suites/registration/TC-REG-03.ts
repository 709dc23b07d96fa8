/*
 * Expected sequence (Uri-Query parameters in any order):
 *   (precondition) bootstrap writes Server instance /1/y with Lifetime L
 *   device -> DM   CON POST /rd?ep=<endpoint>&lt=L&lwm2m=1.2[&b=U...]
 *                  Content-Format 40 (application/link-format)
 *                  payload </1/y>,</3/0>,...        (objects and instances; optional </>;rt="oma.lwm2m")
 *   DM -> device   2.01 Created
 *   lt omitted means 86400, b omitted means U (LwM2M Core §6.2.1); lwm2m above 1.2 is accepted
 *   with an advisory (GEISA allows later versions that keep the 1.2 baseline).
 */
import { defineCase } from '../../harness/runner/case.js';
import type { CaseContext } from '../../harness/runner/context.js';
import { contentFormat } from '../../harness/coap/message.js';
import { CF, parseLinkFormat, type Link } from '../../harness/lwm2m/index.js';
import { describeRequest, registered, serverAccount } from '../steps.js';
import { registeredMs } from './timers.js';
import { bootstrapAndRegisterFloorMs } from '../../harness/runner/budget.js';

const DEFAULT_LIFETIME_S = 86400;
const BASELINE_VERSION = '1.2';

/** "1.2" → [1, 2]; undefined when it is not major.minor. */
function versionOf(text: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)$/.exec(text);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

function objectOf(link: Link): number | undefined {
  const m = /^\/(\d+)(?:\/\d+)*$/.exec(link.target);
  return m ? Number(m[1]) : undefined;
}

export default defineCase(
  {
    id: 'TC-REG-03',
    title: 'Register carries ep, lt, lwm2m=1.2, b and the object list in link-format',
    area: 'registration',
    requirements: [
      {
        id: 'LWM2M-CORE-REG-01',
        section: 'LwM2M Core 1.2 §6.2.1, Transport 1.2 §6.4.3',
        quote: 'Register is CON POST /rd with Uri-Query ep, lt (omitted: 86400), lwm2m, b (omitted: U); Content-Format application/link-format; payload the Objects and Object Instances',
      },
      { id: 'GEISA-ADM-LWM2M-01', section: 'GEISA adm/lwm2m.rst', quote: 'GEISA ADM devices SHALL implement LwM2M 1.2; later versions MAY be used if they keep the baseline' },
      { id: 'GEISA-ADM-LWM2M-02', section: 'GEISA adm/lwm2m.rst', quote: 'LwM2M SHALL run over CoAP over UDP' },
      { id: 'GEISA-ADM-REG-06', section: 'GEISA adm/registration.rst', quote: 'the registration reports the supported objects and the instantiated object instances' },
      { id: 'GEISA-ADM-LWM2M-07', section: 'GEISA adm/lwm2m.rst, object-version baseline', quote: 'objects /0 and /1 at version 1.2; the required platform objects are present' },
    ],
    budget: registeredMs,
    floor: (k) => bootstrapAndRegisterFloorMs(k),
    tags: ['registration'],
  },
  async (t: CaseContext) => {
    const account = serverAccount(t);
    const { register, serverIid } = await registered(t, account, { what: 'device bootstrapped and sent its first Register' });
    const seen = describeRequest(register);
    const param = (name: string) => register.query.get(name);

    t.check('LWM2M-CORE-REG-01', 'Register is Confirmable', register.msg.type === 'CON', { expected: 'CON', observed: `${register.msg.type} in ${seen}` });
    t.check('LWM2M-CORE-REG-01', 'Register is POST /rd (the server URI has no path)', register.msg.code === '0.02' && register.path === '/rd', { expected: 'POST /rd', observed: seen });
    for (const [name, values] of register.query) {
      t.check('LWM2M-CORE-REG-01', `Register carries ${name}= at most once`, values.length === 1, { expected: `one ${name}=`, observed: seen });
    }

    const ep = param('ep');
    t.check('LWM2M-CORE-REG-01', 'Register ep is the provisioned Endpoint Client Name', ep?.[0] === t.endpoint, { expected: `ep=${t.endpoint}`, observed: ep ? `ep=${ep[0]}` : `no ep in ${seen}` });

    const lt = param('lt');
    const lifetime = lt ? Number(lt[0]) : DEFAULT_LIFETIME_S;
    t.check('LWM2M-CORE-REG-01', 'Register lt is the Lifetime written to /1/x/1 (omitted means 86400)', lifetime === account.lifetimeS, {
      expected: `lt=${account.lifetimeS}`,
      observed: lt ? `lt=${lt[0]}` : `no lt (86400 s by default) in ${seen}`,
    });

    const lwm2m = param('lwm2m')?.[0];
    const version = lwm2m === undefined ? undefined : versionOf(lwm2m);
    const atLeastBaseline = version !== undefined && (version[0] > 1 || (version[0] === 1 && version[1] >= 2));
    t.check('GEISA-ADM-LWM2M-01', 'Register lwm2m= names LwM2M 1.2 or a later version', atLeastBaseline, {
      expected: `lwm2m=${BASELINE_VERSION} (a later version accepted with an advisory)`,
      observed: lwm2m === undefined ? `no lwm2m= in ${seen}` : `lwm2m=${lwm2m}`,
    });
    if (atLeastBaseline && lwm2m !== BASELINE_VERSION) {
      t.advisory(`the device registers as LwM2M ${lwm2m}; GEISA allows a later version only if it keeps the 1.2 baseline, which this case does not check`);
    }

    const binding = param('b')?.[0];
    t.check('GEISA-ADM-LWM2M-02', 'Register b= is absent (U) or includes U (CoAP over UDP)', binding === undefined || binding.includes('U'), {
      expected: 'no b= or b containing U',
      observed: binding === undefined ? 'no b= (U by default)' : `b=${binding}`,
    });

    const cf = contentFormat(register.msg);
    t.check('LWM2M-CORE-REG-01', 'Register payload is application/link-format', cf === CF.LINK_FORMAT, { expected: `Content-Format ${CF.LINK_FORMAT}`, observed: cf === undefined ? 'no Content-Format option' : `Content-Format ${cf}` });

    const text = register.msg.payload.toString('utf8');
    let links: Link[];
    try {
      links = parseLinkFormat(text);
    } catch (e) {
      t.fail('LWM2M-CORE-REG-01', `the Register payload is not CoRE link-format: ${(e as Error).message}; payload "${text.slice(0, 200)}"`);
    }
    t.note(`Register payload: ${text}`);
    const listed = (oid: number) => links.some((l) => objectOf(l) === oid);
    t.check('LWM2M-CORE-REG-01', 'Register payload lists the Server object (/1)', listed(1), { expected: '</1> or </1/x>', observed: text || '(empty payload)' });
    t.check(
      'LWM2M-CORE-REG-01',
      `Register payload lists the Server instance written at bootstrap (/1/${serverIid})`,
      links.some((l) => l.target === `/1/${serverIid}`),
      {
        expected: `</1/${serverIid}>`,
        observed: text || '(empty payload)',
      },
    );
    t.check('LWM2M-CORE-REG-01', 'Register payload lists the Device object (/3)', listed(3), { expected: '</3> or </3/0>', observed: text || '(empty payload)' });
    const root = links.find((l) => l.target === '/');
    if (root)
      t.note(
        `the Register payload has a root link </>${Object.entries(root.attributes)
          .map(([k, v]) => (v === true ? `;${k}` : `;${k}=${v}`))
          .join('')} (optional)`,
      );

    // ver= rules are not pinned (catalog GEISA-ADM-LWM2M-07 "I", O-5): only a version of
    // the Server object other than the GEISA baseline is worth flagging, never failing.
    const serverVersion = links.find((l) => l.target === '/1')?.attributes.ver;
    if (typeof serverVersion === 'string' && serverVersion !== BASELINE_VERSION) {
      t.specOpen('GEISA adm/lwm2m.rst object-version baseline (ver= rule inferred, catalog O-5)', `the Register lists the Server object as </1>;ver=${serverVersion}, not the 1.2 of the GEISA baseline`);
    }
    if (!t.hasFailed()) {
      t.pass(`Register ${seen} with Content-Format 40 and payload ${text} has ep, lt=${lifetime}, lwm2m=${lwm2m}, ${binding === undefined ? 'no b (U)' : `b=${binding}`} and lists /1/${serverIid} and /3`);
    }
  },
);
