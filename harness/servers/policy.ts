/** How a fake server answers one kind of request from the device, set per case. */
export type AnswerPolicy =
  | { kind: 'accept' }
  | { kind: 'reject'; code: string }
  /** No ACK and no response: the device sees a lost request and must retransmit. */
  | { kind: 'silent' }
  /** Answer correctly, but only after delayMs (a slow server; the device may retransmit meanwhile). */
  | { kind: 'delay'; delayMs: number };

export const ACCEPT: AnswerPolicy = { kind: 'accept' };

export function reject(code: string): AnswerPolicy {
  return { kind: 'reject', code };
}

export const SILENT: AnswerPolicy = { kind: 'silent' };
