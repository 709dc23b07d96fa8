import { CodecError } from './errors.js';

/** CoRE Link Format (RFC 6690), content format 40. */

export interface Link {
  target: string;
  /** Attribute values; `true` for a parameter given without "=" (e.g. ";obs"). */
  attributes: Record<string, string | true>;
}

const FORMAT = 'link-format';

// Whitespace is not allowed between tokens by RFC 6690, but devices emit it after "," and
// ";" (the LwM2M spec's own examples do), so it is skipped wherever it cannot be data.
function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

const NAME_STOP = new Set(['=', ';', ',', '"', '<', '>']);

class Reader {
  pos = 0;
  constructor(readonly s: string) {}

  peek(): string | undefined {
    return this.s[this.pos];
  }

  skipSpace(): void {
    while (isSpace(this.peek())) this.pos++;
  }

  fail(detail: string, at = this.pos): never {
    throw new CodecError(FORMAT, `${detail} at character ${at}`, at);
  }

  target(): string {
    const start = this.pos;
    if (this.peek() !== '<') this.fail(`expected "<" to open a link but found ${this.describe()}`);
    const close = this.s.indexOf('>', start + 1);
    const nextOpen = this.s.indexOf('<', start + 1);
    if (close === -1 || (nextOpen !== -1 && nextOpen < close)) this.fail('a "<" is never closed by ">"', start);
    this.pos = close + 1;
    return this.s.slice(start + 1, close);
  }

  name(): string {
    const start = this.pos;
    while (this.pos < this.s.length && !isSpace(this.peek()) && !NAME_STOP.has(this.peek()!)) this.pos++;
    if (this.pos === start) this.fail(`expected a parameter name after ";" but found ${this.describe()}`);
    return this.s.slice(start, this.pos);
  }

  quoted(): string {
    const start = this.pos;
    this.pos++;
    let out = '';
    while (this.pos < this.s.length) {
      const c = this.s[this.pos++]!;
      if (c === '"') return out;
      // RFC 6690 quoted-string allows quoted-pairs (RFC 2616): a backslash escapes any char.
      if (c === '\\' && this.pos < this.s.length) out += this.s[this.pos++];
      else out += c;
    }
    return this.fail('a quoted attribute value is never closed', start);
  }

  token(): string {
    const start = this.pos;
    while (this.pos < this.s.length && !isSpace(this.peek()) && this.peek() !== ';' && this.peek() !== ',') this.pos++;
    return this.s.slice(start, this.pos);
  }

  describe(): string {
    const c = this.peek();
    return c === undefined ? 'the end of the text' : JSON.stringify(c);
  }
}

function setAttribute(attrs: Record<string, string | true>, name: string, value: string | true): void {
  // The first occurrence wins; defineProperty keeps a name like "__proto__" an ordinary key.
  if (Object.prototype.hasOwnProperty.call(attrs, name)) return;
  Object.defineProperty(attrs, name, { value, enumerable: true, writable: true, configurable: true });
}

export function parseLinkFormat(s: string): Link[] {
  const r = new Reader(s);
  const links: Link[] = [];
  r.skipSpace();
  if (r.peek() === undefined) return links;
  for (;;) {
    r.skipSpace();
    const link: Link = { target: r.target(), attributes: {} };
    links.push(link);
    r.skipSpace();
    while (r.peek() === ';') {
      r.pos++;
      r.skipSpace();
      const name = r.name();
      r.skipSpace();
      let value: string | true = true;
      if (r.peek() === '=') {
        r.pos++;
        r.skipSpace();
        value = r.peek() === '"' ? r.quoted() : r.token();
      }
      setAttribute(link.attributes, name, value);
      r.skipSpace();
    }
    if (r.peek() === undefined) return links;
    if (r.peek() !== ',') r.fail(`expected ";" or "," after a link but found ${r.describe()}`);
    r.pos++;
  }
}

// RFC 6690 requires quotes for these; other values are quoted only when they must be.
const ALWAYS_QUOTED = new Set(['rt', 'if', 'rel', 'rev', 'anchor', 'title']);
const PTOKEN = /^[!#$%&'()*+\-./0-9:<=>?@A-Z[\]^_`a-z{|}~]+$/;

function formatAttribute(name: string, value: string | true): string {
  if (value === true) return `;${name}`;
  if (!ALWAYS_QUOTED.has(name) && PTOKEN.test(value)) return `;${name}=${value}`;
  return `;${name}="${value.replace(/["\\]/g, (c) => '\\' + c)}"`;
}

export function formatLinkFormat(links: Link[]): string {
  return links
    .map((l) => {
      if (l.target.includes('>')) throw new CodecError(FORMAT, `link target "${l.target}" contains ">"`);
      return (
        `<${l.target}>` +
        Object.entries(l.attributes)
          .map(([n, v]) => formatAttribute(n, v))
          .join('')
      );
    })
    .join(',');
}
