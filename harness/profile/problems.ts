/**
 * A profile problem and the error that lists them. A profile is written by hand by whoever
 * brings a device to the lab, so every problem is reported at once, each on one line with
 * file:line:column where there is a place to point at.
 */

export interface ProfileProblem {
  /** 1-based; absent when the problem is not tied to a place in the file. */
  line?: number;
  col?: number;
  /** Field path such as `ixit.coap.ackTimeoutS`; empty for the document as a whole. */
  path: string;
  /** Complete sentence, starting with the path where there is one. */
  text: string;
}

const MAX_PROBLEMS_SHOWN = 30;
const MAX_PROBLEM_CHARS = 240;

/** One problem on one short line: control characters (a binary file's) escaped, long text cut. */
function clip(text: string): string {
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return flat.length > MAX_PROBLEM_CHARS ? `${flat.slice(0, MAX_PROBLEM_CHARS - 3)}...` : flat;
}

export class ProfileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ProfileProblem[],
  ) {
    // A file of junk can hold tens of thousands of problems: the first few dozen say enough.
    const shown = problems.slice(0, MAX_PROBLEMS_SHOWN).map((p) => (p.line === undefined ? `profile ${file}: ${clip(p.text)}` : `profile ${file}:${p.line}:${p.col}: ${clip(p.text)}`));
    if (problems.length > MAX_PROBLEMS_SHOWN) shown.push(`profile ${file}: ... and ${problems.length - MAX_PROBLEMS_SHOWN} more problems`);
    super(shown.join('\n'));
    this.name = 'ProfileError';
  }
}
