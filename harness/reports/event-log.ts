/**
 * The JSONL event log: the run's primary record, written event by event so that a crash
 * or a killed process still leaves every event up to that point on disk; every other
 * report can be rendered again from it.
 */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResultEvent } from '../events/events.js';

export const EVENT_LOG_NAME = 'events.jsonl';

const EVENT_TYPES: ReadonlySet<string> = new Set<ResultEvent['type']>([
  'run-start',
  'case-start',
  'datagram',
  'check',
  'note',
  'device-identity',
  'verdict',
  'run-end',
]);

export interface EventLogOptions {
  /**
   * Called once, with the file's error, when an append fails (a full disk: ENOSPC). The log
   * then stops writing; without it the error is thrown to whoever emitted the event, which
   * may be a socket handler with nobody to catch it.
   */
  onWriteError?: (error: Error) => void;
}

export class EventLog {
  readonly file: string;
  /** The first failed append; nothing is written after it (its own line may be torn). */
  failure: Error | undefined;

  /** Starts an empty log: events of an earlier run in the same directory must not mix in. */
  constructor(
    outDir: string,
    private readonly options: EventLogOptions = {},
  ) {
    mkdirSync(outDir, { recursive: true });
    this.file = join(outDir, EVENT_LOG_NAME);
    writeFileSync(this.file, '');
  }

  /** Bound, so it can be handed to an event emitter as a sink. */
  readonly append = (event: ResultEvent): void => {
    if (this.failure) return;
    try {
      // Synchronous on purpose: the line is in the kernel before the harness moves on.
      appendFileSync(this.file, JSON.stringify(event) + '\n');
    } catch (e) {
      if (!this.options.onWriteError) throw e;
      this.failure = e as Error;
      this.options.onWriteError(this.failure);
    }
  };
}

export class EventLogError extends Error {
  constructor(
    readonly source: string,
    readonly line: number,
    detail: string,
  ) {
    super(`${source} line ${line}: ${detail}`);
    this.name = 'EventLogError';
  }
}

export interface ReadEventLogOptions {
  /**
   * Accept a torn last line (the process died mid-write) by dropping it, so that a crashed
   * run can still be reported. Off by default: anywhere else a bad line means a bad file.
   */
  tolerateTruncatedTail?: boolean;
}

export function readEventLog(file: string, opts: ReadEventLogOptions = {}): ResultEvent[] {
  return parseEventLog(readFileSync(file, 'utf8'), file, opts);
}

export function parseEventLog(text: string, source = EVENT_LOG_NAME, opts: ReadEventLogOptions = {}): ResultEvent[] {
  const lines = text.split('\n');
  // A complete log ends with a newline, so the last element is empty; if it is not, the
  // last line was cut off.
  const tail = lines.pop() ?? '';
  const events: ResultEvent[] = [];
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    events.push(parseLine(line, source, i + 1));
  });
  if (tail.trim() !== '') {
    const lineNo = lines.length + 1;
    try {
      events.push(parseLine(tail, source, lineNo));
    } catch (e) {
      if (!opts.tolerateTruncatedTail) throw e;
    }
  }
  return events;
}

function parseLine(line: string, source: string, lineNo: number): ResultEvent {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    throw new EventLogError(source, lineNo, `not valid JSON (${(e as Error).message}): ${preview(line)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EventLogError(source, lineNo, `expected a JSON object, got ${preview(line)}`);
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string' || !EVENT_TYPES.has(type)) {
    throw new EventLogError(source, lineNo, `unknown event type ${JSON.stringify(type)}`);
  }
  return value as ResultEvent;
}

function preview(line: string): string {
  const s = JSON.stringify(line);
  return s.length > 80 ? s.slice(0, 77) + '...' : s;
}
