/**
 * JUnit XML for CI dashboards, valid against the Jenkins xUnit plugin schema
 * (shared/schemas/junit.xsd). One testsuite per case area, one testcase per case.
 *
 * A case a reader must look into (failed, error, inconclusive, not applicable, or a pass
 * with an advisory) carries in its system-out everything needed to follow the verdict
 * without the event log: requirements, checks, notes and the decoded trace. A clean pass
 * carries one line pointing at results.json: a long run against a real device otherwise
 * writes megabytes of traces nobody reads in a dashboard.
 *
 * The document is written with xmlbuilder2's public API. junit-report-builder was used
 * before and cannot do it through its own API: it always puts `skipped` on <testsuites>
 * (the schema forbids it), writes <skipped> without a message, and its CDATA escaping
 * splits only the first "]]>", so a payload with two of them made the file unparseable.
 */
import { create } from 'xmlbuilder2';
import { type CaseResult, type Results, RESULTS_NAME } from './results.js';
import { formatCheck, formatDatagram, formatRelativeMs, escapeControls } from './trace-format.js';
import { writeFileAtomic } from './atomic-write.js';

type XmlElement = ReturnType<ReturnType<typeof create>['ele']>;

const ROOT_NAME = 'geisa-adm';

/**
 * Removes characters XML 1.0 forbids (§2.2): C0 controls other than tab/LF/CR, lone
 * surrogates, U+FFFE and U+FFFF. A single one makes the whole file unparseable, and the
 * DUT chooses the bytes of every payload.
 */
export function xmlSafe(s: string): string {
  return s.replace(
    /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    '',
  );
}

/**
 * Attribute text: control characters shown escaped, as in the bodies, so the message a
 * dashboard shows still carries the evidence instead of silently losing bytes.
 */
function attr(s: string): string {
  return xmlSafe(escapeControls(s));
}

/**
 * Text nodes, never CDATA: the builder escapes "<", "&" and ">" in text, so no sequence a
 * device puts in a payload can close a section early.
 */
function text(parent: XmlElement, name: string, body: string, attributes: Record<string, string> = {}): void {
  parent.ele(name, attributes).txt(xmlSafe(body));
}

/** The counts a testsuite's attributes carry; inconclusive and not-applicable both count as skipped. */
interface Counts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

function count(cases: readonly CaseResult[]): Counts {
  const n: Counts = { tests: cases.length, failures: 0, errors: 0, skipped: 0 };
  for (const c of cases) {
    if (c.verdict === 'fail') n.failures++;
    else if (c.verdict === 'error') n.errors++;
    else if (c.verdict === 'inconclusive' || c.verdict === 'not-applicable') n.skipped++;
  }
  return n;
}

/** Rendered from results.json's model only, so it cannot disagree with the other reports. */
export function renderJunit(results: Results): string {
  const total = count(results.cases);
  // <testsuites> takes no `skipped` in this schema.
  // A character xmlSafe missed is dropped rather than aborting the whole report.
  const root = create({ version: '1.0', encoding: 'UTF-8', invalidCharReplacement: '' }).ele('testsuites');
  root.att('name', ROOT_NAME).att('tests', String(total.tests)).att('failures', String(total.failures)).att('errors', String(total.errors));

  const byArea = new Map<string, CaseResult[]>();
  for (const c of results.cases) {
    const list = byArea.get(c.area) ?? [];
    list.push(c);
    byArea.set(c.area, list);
  }

  const properties = runProperties(results);
  const runOut = runSystemOut(results);

  // With no case at all the run metadata would vanish; an empty suite keeps it.
  if (byArea.size === 0) addSuite(root, 'run', [], results.run.startedAt, properties, runOut);
  for (const [area, cases] of byArea) addSuite(root, area, cases, cases[0]!.startedAt, properties, runOut);

  return root.end({ prettyPrint: true });
}

function addSuite(
  root: XmlElement,
  name: string,
  cases: readonly CaseResult[],
  timestamp: string | null,
  properties: readonly [string, string][],
  runOut: string,
): void {
  const n = count(cases);
  const suite = root.ele('testsuite', {
    name: attr(name),
    tests: String(n.tests),
    failures: String(n.failures),
    errors: String(n.errors),
    skipped: String(n.skipped),
  });
  if (timestamp) suite.att('timestamp', attr(timestamp));
  suite.att('time', seconds(cases.reduce((ms, c) => ms + c.durationMs, 0)));
  const props = suite.ele('properties');
  for (const [k, v] of properties) props.ele('property', { name: attr(k), value: attr(v) });
  for (const c of cases) addTestCase(suite, c);
  if (runOut) text(suite, 'system-out', runOut);
}

function addTestCase(suite: XmlElement, c: CaseResult): void {
  const tc = suite.ele('testcase', { classname: attr(`${ROOT_NAME}.${c.area}`), name: attr(`${c.id} ${c.title}`), time: seconds(c.durationMs) });
  const reason = attr(c.reason);
  switch (c.verdict) {
    case 'fail': {
      const failed = c.checks.filter((k) => !k.ok).map(formatCheck);
      text(tc, 'failure', failed.length ? failed.join('\n') : c.reason, { message: reason });
      break;
    }
    case 'error':
      text(tc, 'error', c.reason, { message: reason });
      break;
    case 'not-applicable':
      tc.ele('skipped', { message: reason });
      break;
    case 'inconclusive':
      tc.ele('skipped', { message: attr(`INCONCLUSIVE: ${c.reason}`) });
      break;
    case 'pass':
      break;
  }
  text(tc, 'system-out', isCleanPass(c) ? passSummary(c) : caseSystemOut(c));
}

/** A pass without an advisory: nothing in it for a dashboard reader to look into. */
function isCleanPass(c: CaseResult): boolean {
  return c.verdict === 'pass' && c.advisory === null;
}

/** One line; the case's full record stays in results.json, written beside this file. */
function passSummary(c: CaseResult): string {
  const rows = c.requirements.map((r) => r.id).join(', ') || 'none listed';
  return escapeControls(
    `pass: ${c.reason} (${c.checks.length} check(s), ${c.trace.length} datagram(s); rows ${rows}). ` +
      `Requirements, checks and decoded trace: ${RESULTS_NAME} beside this file, case ${c.id}.`,
  );
}

function runProperties(r: Results): [string, string][] {
  const run = r.run;
  const id = run.dut.identity;
  const props: [string, string][] = [
    ['tool.version', run.toolVersion ?? 'unknown'],
    ['git.commit', run.gitCommit ?? 'unknown'],
    ['defect', run.defect ?? 'none'],
    ['dut.name', run.dut.name ?? 'unknown'],
    ['dut.endpoint', run.dut.endpoint ?? 'unknown'],
    ['run.host', run.host ?? 'unknown'],
    ['run.startedAt', run.startedAt ?? 'unknown'],
    ['results.schema', run.eventsSchema !== null ? String(run.eventsSchema) : 'unknown'],
    ['run.interrupted', String(run.interrupted)],
    ['spec.lwm2m.core', run.specVersions.lwm2mCore],
    ['spec.lwm2m.transport', run.specVersions.lwm2mTransport],
    ['spec.geisa.commit', run.specVersions.geisaCommit ?? 'unknown'],
  ];
  if (run.endedAt) props.push(['run.endedAt', run.endedAt]);
  // The run's expected-failures file, as judged: a CI dashboard shows why a red case kept the build green.
  for (const c of r.cases) if (c.expectedFailure) props.push([`${c.expectedFailure.stale ? 'stale-expected-failure' : 'expected-failure'}.${c.id}`, c.expectedFailure.reason]);
  if (run.slowNotRun.length) props.push(['slow-not-run', `${run.slowNotRun.join(',')} (use --slow)`]);
  if (id) {
    props.push(['dut.manufacturer', id.manufacturer ?? 'unknown'], ['dut.model', id.model ?? 'unknown'], ['dut.serial', id.serial ?? 'unknown'], ['dut.firmware', id.firmware ?? 'unknown']);
  }
  return props;
}

function runSystemOut(r: Results): string {
  const run = r.run;
  const lines: string[] = [];
  if (run.startMonoNs === null) lines.push('run-start event missing: run metadata unknown');
  if (run.interrupted) lines.push('RUN INTERRUPTED: verdicts below cover only what ran');
  if (run.notes.length) {
    lines.push('Run notes:');
    const anchor = run.startMonoNs;
    for (const n of run.notes) {
      const at = anchor ? formatRelativeMs(anchor, n.monoNs) + '  ' : '';
      lines.push(escapeControls(`  ${at}${n.source}: ${n.text}`));
    }
  }
  if (run.strayEvents.length) {
    const ids = [...new Set(run.strayEvents.map((e) => String(e.caseId ?? '?')))];
    lines.push(escapeControls(`${run.strayEvents.length} event(s) name cases that never started: ${ids.join(', ')}`));
  }
  return lines.join('\n');
}

function caseSystemOut(c: CaseResult): string {
  const lines: string[] = [];
  // Dashboards show the first line; a passing case's advisory is what the reader needs there.
  if (c.verdict === 'pass' && c.advisory !== null) lines.push(escapeControls(`ADVISORY: ${c.advisory}`));
  lines.push(escapeControls(`Case: ${c.id} ${c.title}`));
  lines.push('Requirements:');
  for (const r of c.requirements) lines.push(escapeControls(`  ${r.id} (${r.section}): ${r.quote}`));
  if (c.requirements.length === 0) lines.push('  (none listed)');
  lines.push(`Strength: ${c.strength} (the strongest level among its rows; each check is judged at its own row's level)`);
  lines.push(escapeControls(`ICS: ${c.ics ?? '(mandatory feature)'}`));
  lines.push(`Verdict: ${c.verdict}${c.decidedBy ? ` (decided by ${c.decidedBy.requirement}, judged at ${c.decidedBy.level})` : ''}`);
  lines.push(escapeControls(`Reason: ${c.reason}`));
  if (c.advisory !== null) lines.push(escapeControls(`Advisory: ${c.advisory}`));
  lines.push(`Duration: ${seconds(c.durationMs)} s${c.finished ? '' : ' (until the run stopped)'}`);
  if (c.identity) {
    const id = c.identity;
    lines.push(escapeControls(`Device identity (${id.path}): manufacturer ${id.manufacturer ?? '?'}, model ${id.model ?? '?'}, serial ${id.serial ?? '?'}, firmware ${id.firmware ?? '?'}`));
  }
  lines.push('Checks:');
  for (const k of c.checks) lines.push('  ' + formatCheck(k));
  if (c.checks.length === 0) lines.push('  (none)');
  if (c.notes.length) {
    lines.push('Notes:');
    for (const n of c.notes) lines.push(escapeControls(`  ${formatRelativeMs(c.startMonoNs, n.monoNs)}  ${n.source}: ${n.text}`));
  }
  lines.push('Trace:');
  for (const d of c.trace) lines.push('  ' + formatDatagram(d, c.startMonoNs));
  if (c.trace.length === 0) lines.push('  (no datagrams)');
  return lines.join('\n');
}

/** Fixed three decimals: the suite time must match SUREFIRE_TIME, which has no exponent. */
function seconds(ms: number): string {
  return Number.isFinite(ms) && ms > 0 ? (ms / 1000).toFixed(3) : '0.000';
}

/** Temp file then rename, in one directory: a reader never sees half a report. */
export function writeJunit(results: Results, file: string): void {
  writeFileAtomic(file, renderJunit(results));
}
