/**
 * The expected-failures file a device maker keeps beside CI: known non-conformances that
 * should not turn the build red, each with the reason it is known. One per line:
 *
 *     # comment
 *     TC-REG-02   firmware 1.4 sends no Update; fix planned for 1.5 (JIRA-123)
 *
 * A line that is not `CASE-ID  reason` (reason required), an id the suite does not have,
 * or an id listed twice is an error naming file:line: a mistyped id must not quietly
 * stop forgiving the failure it was meant for, nor forgive another.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from './select.js';

export type ExpectedFailures = ReadonlyMap<string, string>;

const LINE = /^(TC-[A-Z]+-\d{2})\s+(\S.*)$/;

export function parseExpectedFailures(text: string, file: string, knownIds: readonly string[]): ExpectedFailures {
  const known = new Set(knownIds);
  const out = new Map<string, string>();
  const firstLine = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const at = `${file}:${i + 1}`;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = LINE.exec(line);
    if (!m) {
      const id = line.split(/\s+/)[0]!;
      if (/^TC-[A-Z]+-\d{2}$/.test(id)) throw new UsageError(`${at}: '${id}' has no reason; write '${id}  why it is expected to fail'`);
      throw new UsageError(`${at}: expected 'TC-AREA-NN  reason', got '${line.length > 60 ? line.slice(0, 57) + '...' : line}'`);
    }
    const [, id, reason] = m;
    if (!known.has(id!)) throw new UsageError(`${at}: no case '${id}' in the suite`);
    if (out.has(id!)) throw new UsageError(`${at}: '${id}' is already listed at line ${firstLine.get(id!)}`);
    out.set(id!, reason!.trim());
    firstLine.set(id!, i + 1);
  });
  return out;
}

export function loadExpectedFailures(file: string, knownIds: readonly string[]): ExpectedFailures {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--expected-failures ${file}: cannot read it: ${(e as Error).message}`);
  }
  return parseExpectedFailures(text, file, knownIds);
}
