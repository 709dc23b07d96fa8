/**
 * A failed handshake in a lab's words: which side sent which alert after which of the
 * other side's flights, what that means, what the certificate in question holds (subject,
 * SAN type and value, issuer, whether it is the one the device was given), and the likely
 * remedy. Built from the handshake's records on the wire (handshake-wire.ts); OpenSSL's
 * error string is quoted after it, never instead of it. Many failures are summarised
 * (count, peers, span, distinct outcomes) so a reason stays short whatever the device did.
 */
import { X509Certificate, createHash } from 'node:crypto';
import { describeCipherList } from './cipher-suites.js';
import type { Direction, HandshakeWireView, WireDatagram, WireRecord } from './handshake-wire.js';
import { alertName } from './records.js';
import type { DtlsHandshakeFailedEvent } from './server-types.js';

/** The certificate the device was told to authenticate this server with (/0/x/4) and how (/0/x/15). */
export interface ExpectedServerCertificate {
  der: Buffer;
  /** LwM2M Certificate Usage (Security /0/x/15): 3 = domain-issued certificate, matched byte for byte. */
  usage: number;
  /** Where the device holds it, e.g. "/0/0/4". */
  resource: string;
}

export interface FailureContext {
  /** "the Bootstrap-Server", "the LwM2M Server". */
  server?: string;
  expected?: ExpectedServerCertificate;
  /** The suites this server accepts (IANA numbers), to say whether the device offered them. */
  serverCiphers?: readonly number[];
}

export interface FailureExplanation {
  /** A few words to refer back to the outcome: "device alert bad_certificate", "no alert". */
  brief: string;
  /** Who sent which alert after which flight and what it means; free of ports and times, so equal outcomes group. */
  outcome: string;
  /** The certificate concerned and the likely remedy, when there is one. */
  details: string[];
  /** Everything, with OpenSSL's words and the ClientHello's suites by name. */
  text: string;
}

/** Refusals of a certificate (RFC 5246 §7.2.2). */
const CERTIFICATE_ALERTS = new Set([42, 43, 44, 45, 46, 48]);

interface Flight {
  direction: Direction;
  messages: string[];
  /** Datagrams starting with the flight's first message: the first sending and its retransmissions. */
  sends: number;
}

/** Consecutive datagrams in one direction, message names deduplicated (retransmissions count as sends). */
function flightsOf(datagrams: readonly WireDatagram[]): Flight[] {
  const flights: Flight[] = [];
  for (const d of datagrams) {
    const names = d.records.flatMap(recordName);
    let f = flights[flights.length - 1];
    if (!f || f.direction !== d.direction) {
      f = { direction: d.direction, messages: [], sends: 0 };
      flights.push(f);
    }
    if (names.length && names[0] === f.messages[0]) f.sends += 1;
    else if (f.messages.length === 0 && names.length) f.sends = 1;
    for (const n of names) if (!f.messages.includes(n)) f.messages.push(n);
  }
  return flights;
}

function recordName(r: WireRecord): string[] {
  if (r.message) return [r.message];
  if (r.contentType === 'change_cipher_spec') return ['ChangeCipherSpec'];
  return [];
}

function flightText(f: Flight): string {
  const body = f.messages.join(', ') || 'datagrams without a handshake message';
  return f.sends > 1 ? `${body} (sent ${f.sends} times)` : body;
}

/** "IP Address:127.0.0.1, DNS:x" → typed entries. */
function sanEntries(c: X509Certificate): { type: string; value: string }[] {
  if (!c.subjectAltName) return [];
  return c.subjectAltName.split(/,\s*/).map((e) => {
    const at = e.indexOf(':');
    const kind = e.slice(0, at);
    const value = e.slice(at + 1);
    const type = kind === 'IP Address' ? 'iPAddress' : kind === 'DNS' ? 'dNSName' : kind === 'URI' ? 'uniformResourceIdentifier' : kind;
    return { type, value };
  });
}

function fingerprint(der: Buffer): string {
  return `sha256:${createHash('sha256').update(der).digest('hex').slice(0, 16)}`;
}

function oneLine(dn: string): string {
  return dn.replace(/\n/g, ', ');
}

function parse(der: Buffer): X509Certificate | undefined {
  try {
    return new X509Certificate(der);
  } catch {
    return undefined;
  }
}

function describeCert(der: Buffer, withValidity: boolean): string {
  const c = parse(der);
  if (!c) return `${der.length} bytes that do not parse as an X.509 certificate (${fingerprint(der)})`;
  const san = sanEntries(c);
  const sanText = san.length ? `SAN ${san.map((e) => `${e.type} ${e.value}`).join(', ')}` : 'no SAN';
  const validity = withValidity ? `, valid ${c.validFrom} to ${c.validTo}` : '';
  return `subject ${oneLine(c.subject)}, ${sanText}, issuer ${oneLine(c.issuer)}${validity}, ${fingerprint(der)}`;
}

interface Meaning {
  text: string;
  /** The refusal is of the server's certificate: say what it holds and what to do. */
  ourCertificate?: boolean;
  /** The refusal is of the device's certificate. */
  peerCertificate?: boolean;
}

function meaningOf(code: number, by: Direction, answered: Flight | undefined, f: DtlsHandshakeFailedEvent, ctx: FailureContext, server: string): Meaning {
  const has = (m: string) => answered?.messages.includes(m) ?? false;
  if (by === 'in') {
    if (CERTIFICATE_ALERTS.has(code) && has('Certificate')) return { text: `it refused ${server}'s certificate`, ourCertificate: true };
    if (CERTIFICATE_ALERTS.has(code)) return { text: `it refused a certificate, though our last flight carried none` };
    switch (code) {
      case 0:
      case 90:
        return { text: 'it abandoned the handshake' };
      case 20:
      case 51:
        return has('Finished')
          ? { text: 'our Finished did not authenticate: the device holds another key than ours (for PSK, /0/x/5 differs from the key we hold for the identity)' }
          : { text: 'a signature or key exchange value of our flight did not verify' };
      case 40:
        return { text: 'it would not go on with what our flight chose (the cipher suite, our certificate or its key, or the key exchange parameters)' };
      case 70:
        return { text: 'it does not accept the protocol version we chose (DTLS 1.2)' };
      case 71:
        return { text: 'the suites we accept are weaker than it requires' };
      case 10:
      case 47:
      case 50:
        return { text: `it rejected our ${answered?.messages[answered.messages.length - 1] ?? 'message'} as malformed or out of place` };
      case 80:
        return { text: 'it failed internally' };
      default:
        return { text: 'it ended the handshake' };
    }
  }
  switch (code) {
    case 40:
      if (has('ClientHello')) {
        const accepted = ctx.serverCiphers?.length ? `; we accept ${describeCipherList(ctx.serverCiphers)}` : '';
        return { text: `no cipher suite in common: the device offered ${describeCipherList(f.clientOfferedCiphers, { highlight: ctx.serverCiphers ?? [] })}${accepted}` };
      }
      return { text: 'the handshake could not go on with what the device sent' };
    case 115:
      return { text: `the PSK identity ${f.pskIdentity !== null ? `"${f.pskIdentity}" ` : ''}is not one ${server} holds` };
    case 20:
    case 51:
      return has('Finished')
        ? { text: `the device's Finished did not authenticate: it holds another key than ours${f.pskIdentity !== null ? ` for PSK identity "${f.pskIdentity}" (/0/x/5 differs)` : ''}` }
        : { text: 'a signature or key exchange value from the device did not verify' };
    default:
      if (CERTIFICATE_ALERTS.has(code) || code === 41) return { text: `we refused the device's certificate`, peerCertificate: true };
      return { text: `we ended the handshake` };
  }
}

function ourCertificateDetails(view: HandshakeWireView, code: number, ctx: FailureContext, server: string): string[] {
  const der = view.ourCertificates[0];
  if (!der) return [`${server}'s Certificate message was not kept whole, so its contents are not shown`];
  const details = [`${server}'s certificate: ${describeCert(der, code === 45)}`];
  const c = parse(der);
  const san = c ? sanEntries(c) : [];
  const ipOnly = san.length > 0 && san.every((e) => e.type === 'iPAddress');
  const e = ctx.expected;
  const same = e ? e.der.equals(der) : undefined;
  if (e) {
    const usage = `Certificate Usage ${e.usage}${e.usage === 3 ? ' (domain-issued certificate: matched byte for byte, no chain, no expiry)' : ''}`;
    details.push(
      same ? `it is byte for byte the certificate the device was given as ${e.resource} under ${usage}` : `it is not the certificate the device was given as ${e.resource} under ${usage} (that one: ${describeCert(e.der, false)})`,
    );
  }
  if (same === false) {
    details.push(`refusing a certificate other than ${e!.resource} is what Certificate Usage ${e!.usage} asks of the device`);
    return details;
  }
  const issuer = c ? oneLine(c.issuer) : 'its issuer';
  switch (code) {
    case 45:
      details.push('likely remedy: the device clock is outside the validity shown above (set its time, or check how it gets it)');
      break;
    case 43:
      details.push(`likely remedy: the device does not take our certificate's key (${c?.publicKey.asymmetricKeyDetails?.namedCurve ?? c?.publicKey.asymmetricKeyType ?? 'unknown'}); check the key types its TLS stack supports`);
      break;
    case 48:
      details.push(
        e?.usage === 3
          ? `likely remedy: the device seems to validate a chain to a CA instead of matching ${e.resource} byte for byte as Certificate Usage 3 asks: check its Certificate Usage (/0/x/15) handling`
          : `likely remedy: the device does not trust ${issuer}, the issuer of our certificate: give it this certificate under Certificate Usage 3, or that CA as its trust anchor`,
      );
      break;
    case 42:
    case 46:
      // OpenSSL, mbed TLS and others report a server name that does not match as bad_certificate.
      if (ipOnly) {
        details.push(
          `likely remedy: the certificate names this server by IP address only (iPAddress SAN), and some TLS stacks match the server's name against DNS names only: set harness.advertiseHost in the profile to a DNS name of this host that the device resolves, so the device contacts the servers by that name and their certificates carry it as a dNSName`,
        );
      } else {
        details.push(`likely remedy: check which name the device expects (the SAN above) and whether it accepts the certificate's key usage for a server`);
      }
      break;
  }
  return details;
}

/** Explains one failed handshake from its wire records; see the module comment. */
export function explainHandshakeFailure(f: DtlsHandshakeFailedEvent, ctx: FailureContext = {}): FailureExplanation {
  const server = ctx.server ?? 'the server';
  const view = f.wire;
  const datagrams = view?.datagrams ?? [];
  const flights = flightsOf(datagrams);
  let outcome: string;
  let brief: string;
  let details: string[] = [];

  // The first alert on the wire, and the flight of the other side just before it.
  let alertAt = -1;
  let alertRecord: WireRecord | undefined;
  for (let i = 0; i < datagrams.length && alertAt < 0; i++) {
    const r = datagrams[i]!.records.find((x) => x.contentType === 'alert');
    if (r) {
      alertAt = i;
      alertRecord = r;
    }
  }
  const flightBefore = (index: number, by: Direction): Flight | undefined => {
    const earlier = flightsOf(datagrams.slice(0, index));
    for (let k = earlier.length - 1; k >= 0; k--) if (earlier[k]!.direction !== by) return earlier[k];
    return undefined;
  };

  if (alertAt >= 0) {
    const d = datagrams[alertAt]!;
    const by = d.direction;
    // An encrypted alert shows only its content type; OpenSSL, which decrypted it, names it.
    const decoded = alertRecord!.alert ?? fromOpenSsl(f, by);
    const code = decoded?.code ?? -1;
    const alertText = alertRecord!.alert ? `${decoded!.level} alert ${decoded!.description}` : decoded ? `an encrypted alert (OpenSSL read it as ${decoded.level} ${decoded.description})` : 'an encrypted alert';
    const answered = flightBefore(alertAt, by);
    const meaning = meaningOf(code, by, answered, f, ctx, server);
    const afterWhat = answered ? afterText(answered, by, meaning.ourCertificate || meaning.peerCertificate ? 'Certificate' : undefined) : 'before anything from the other side';
    const who = by === 'in' ? 'the device' : `we (${server})`;
    outcome = `${who} sent ${alertText} after ${afterWhat}: ${meaning.text}`;
    brief = `${by === 'in' ? 'device' : 'our'} alert ${decoded ? alertName(decoded.code) : '(encrypted)'}`;
    if (meaning.ourCertificate) details = ourCertificateDetails(view!, code, ctx, server);
    if (meaning.peerCertificate) {
      const der = view?.peerCertificates[0];
      details = [der ? `the device's certificate: ${describeCert(der, code === 45)}` : 'the device sent no certificate'];
    }
  } else if (f.alerts.length) {
    // OpenSSL saw an alert the kept datagrams do not show (a flood left the middle out).
    const a = f.alerts.find((x) => x.level === 'fatal') ?? f.alerts[0]!;
    outcome = `${a.sent ? `we (${server})` : 'the device'} sent ${a.level} alert ${alertName(a.code)} (reported by OpenSSL; not among the datagrams kept)`;
    brief = `${a.sent ? 'our' : 'device'} alert ${alertName(a.code)}`;
  } else {
    brief = 'no alert';
    const lastFlight = flights[flights.length - 1];
    if (!lastFlight) outcome = `nothing was exchanged: ${f.error}`;
    else if (lastFlight.direction === 'out' && lastFlight.messages[0] === 'HelloVerifyRequest')
      outcome = `no alert: the device never returned the cookie of our HelloVerifyRequest${lastFlight.sends > 1 ? ` (sent ${lastFlight.sends} times)` : ''}; the handshake ended: ${f.error}`;
    else if (lastFlight.direction === 'out') outcome = `no alert: the device sent nothing after our flight ${flightText(lastFlight)}; the handshake ended: ${f.error}`;
    else outcome = `no alert: the device's last flight was ${flightText(lastFlight)} and the handshake stopped there: ${f.error}`;
  }

  const extra: string[] = [];
  if (alertAt >= 0 || f.alerts.length) extra.push(`OpenSSL: ${f.error}`);
  if (f.pskIdentity !== null && !outcome.includes(`"${f.pskIdentity}"`)) extra.push(`PSK identity presented "${f.pskIdentity}"`);
  if (f.clientOfferedCiphers.length && !outcome.includes('the device offered')) extra.push(`ClientHello offered ${describeCipherList(f.clientOfferedCiphers, { highlight: ctx.serverCiphers ?? [] })}`);
  const text = [outcome + (details.length ? ` — ${details.join('; ')}` : ''), ...extra].join('; ');
  return { brief, outcome, details, text };
}

function fromOpenSsl(f: DtlsHandshakeFailedEvent, by: Direction): { level: string; code: number; description: string } | undefined {
  const a = f.alerts.find((x) => x.sent === (by === 'out'));
  return a ? { level: a.level, code: a.code, description: alertName(a.code) } : undefined;
}

/** "our Certificate (flight ServerHello, Certificate, ...)" or "the device's flight ClientHello". */
function afterText(flight: Flight, alertBy: Direction, focus: string | undefined): string {
  const whose = alertBy === 'in' ? 'our' : "the device's";
  if (focus && flight.messages.includes(focus) && flight.messages.length > 1) return `${whose} ${focus} (flight ${flightText(flight)})`;
  return `${whose} ${flight.messages.length === 1 ? flightText(flight) : `flight ${flightText(flight)}`}`;
}

export interface SummaryOptions {
  /** Outcomes listed by name; more are counted (default 4). */
  maxOutcomes?: number;
  /** Hard bound on the text (default 1600 characters). */
  maxChars?: number;
}

function clip(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

/**
 * One line for any number of failed handshakes: a single one explained in full; several
 * as a count, the peers, the span, each distinct outcome with its count, and the first
 * failure of the most frequent outcome explained in full. Bounded by `maxChars`.
 */
export function summariseHandshakeFailures(failures: readonly DtlsHandshakeFailedEvent[], ctx: FailureContext = {}, opts: SummaryOptions = {}): string {
  const maxChars = opts.maxChars ?? 1600;
  const maxOutcomes = opts.maxOutcomes ?? 4;
  if (failures.length === 0) return '';
  const peerOf = (f: DtlsHandshakeFailedEvent) => `${f.remote.address}:${f.remote.port}`;
  if (failures.length === 1) return clip(`DTLS handshake from ${peerOf(failures[0]!)} failed: ${explainHandshakeFailure(failures[0]!, ctx).text}`, maxChars);

  const groups = new Map<string, { n: number; first: FailureExplanation }>();
  const addresses = new Set<string>();
  const ports = new Set<string>();
  for (const f of failures) {
    const e = explainHandshakeFailure(f, ctx);
    const g = groups.get(e.outcome);
    if (g) g.n += 1;
    else groups.set(e.outcome, { n: 1, first: e });
    addresses.add(f.remote.address);
    ports.add(peerOf(f));
  }
  const times = failures.map((f) => f.monoNs).filter((t): t is bigint => typeof t === 'bigint');
  const spanS = times.length > 1 ? Number(times.reduce((a, b) => (b > a ? b : a)) - times.reduce((a, b) => (b < a ? b : a))) / 1e9 : 0;
  const from = `from ${[...addresses].slice(0, 3).join(', ')}${addresses.size > 3 ? ` and ${addresses.size - 3} more addresses` : ''}, ${ports.size} source port${ports.size === 1 ? '' : 's'}`;
  const sorted = [...groups.values()].sort((a, b) => b.n - a.n);
  const listed = sorted.slice(0, maxOutcomes).map((g) => `${g.n}× ${clip(g.first.outcome, 320)}`);
  const others = sorted.length > maxOutcomes ? `; ${sorted.slice(maxOutcomes).reduce((a, g) => a + g.n, 0)} more in ${sorted.length - maxOutcomes} other outcome(s)` : '';
  const head = `${failures.length} DTLS handshakes failed (${from}, ${spanS.toFixed(1)} s from first to last, ${groups.size} distinct outcome${groups.size === 1 ? '' : 's'}): ${listed.join('; ')}${others}`;
  // The details (certificate, remedy, OpenSSL's words, the suites offered) of the most frequent outcome that has any.
  const told = sorted.find((g) => g.first.text.length > g.first.outcome.length);
  if (!told) return clip(head, maxChars);
  const detail = told.first.text.slice(told.first.outcome.length).replace(/^( — |; )/, '');
  return clip(`${head}; more on the ${told.n}× ${told.first.brief}: ${detail}`, maxChars);
}
