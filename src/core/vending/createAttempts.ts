/**
 * The CreateAccount attempts of a request: typed on the record (`LedgerRecord.createAttempts`), with the
 * transitions the workflow and the retry path write. Records written before the field existed kept the attempts
 * only as history notes (`CreateAccount attempt N issuing`, `... request car-...`, `... rejected: ...`,
 * `retry requested ...`); for them {@link createAttempts} reads the notes, so existing ledgers keep working.
 */
import type { CreateAttemptsState, HistoryEntry, LedgerRecord } from "../ledger";

/** History note that starts every retry of a FAILED request (see `retryRequest.ts`). */
export const RETRY_NOTE = "retry requested";

const ISSUING = /^CreateAccount attempt (\d+) issuing/;
const ISSUED = /^CreateAccount attempt (\d+) request /;
const REJECTED = /^CreateAccount attempt (\d+) rejected: /;

/** CreateAccount attempts of a record (see {@link createAttempts}). */
export interface CreateAttempts {
  /**
   * Attempts that may have reached AWS since the request was last retried (attempts AWS rejected outright are not
   * counted): the budget of the workflow's `maxCreateAttempts`.
   */
  readonly issued: number;
  /** Attempts that may have reached AWS over the request's whole life, retries included. */
  readonly total: number;
  /** The last attempt has no persisted request id yet (a lost reply, or the worker stopped before the write). */
  readonly unconfirmed: boolean;
  /** Time of that unconfirmed attempt (set when `unconfirmed`). */
  readonly unconfirmedAt?: string;
  /**
   * Time of the latest earlier attempt that was interrupted that way and then superseded by a new
   * attempt: its account may still be being created.
   */
  readonly interruptedAt?: string;
}

/** The attempts of `record`: its typed field, or (older records) what its history notes say. */
export function createAttempts(record: Pick<LedgerRecord, "history" | "createAttempts">): CreateAttempts {
  const state = record.createAttempts ?? createAttemptsFromHistory(record.history);
  return {
    issued: state.issued,
    total: state.total,
    unconfirmed: state.unconfirmedAt !== undefined,
    ...(state.unconfirmedAt !== undefined ? { unconfirmedAt: state.unconfirmedAt } : {}),
    ...(state.interruptedAt !== undefined ? { interruptedAt: state.interruptedAt } : {}),
  };
}

/** The attempts as the history notes of a record written before `createAttempts` was a field record them. */
export function createAttemptsFromHistory(history: readonly HistoryEntry[]): CreateAttemptsState {
  let retried = 0;
  let issued = 0;
  let unconfirmedAt: string | undefined;
  let interruptedAt: string | undefined;
  for (const entry of history) {
    const note = entry.note ?? "";
    if (ISSUING.test(note)) {
      if (unconfirmedAt !== undefined) interruptedAt = unconfirmedAt;
      issued += 1;
      unconfirmedAt = entry.at;
    } else if (ISSUED.test(note)) {
      unconfirmedAt = undefined;
    } else if (REJECTED.test(note)) {
      issued -= 1;
      unconfirmedAt = undefined;
    } else if (note.startsWith(RETRY_NOTE)) {
      // A retry looks the email up before it creates and starts a new attempt budget.
      retried += issued;
      issued = 0;
      unconfirmedAt = undefined;
      interruptedAt = undefined;
    }
  }
  return stateOf(issued, retried + issued, unconfirmedAt, interruptedAt);
}

/** After writing the marker of a new attempt at `at`: counted, and unconfirmed until its request id is stored. */
export function attemptIssued(record: Pick<LedgerRecord, "history" | "createAttempts">, at: string) {
  const now = createAttempts(record);
  return stateOf(now.issued + 1, now.total + 1, at, now.unconfirmedAt ?? now.interruptedAt);
}

/** After storing the last attempt's request id: confirmed. */
export function attemptConfirmed(record: Pick<LedgerRecord, "history" | "createAttempts">) {
  const now = createAttempts(record);
  return stateOf(now.issued, now.total, undefined, now.interruptedAt);
}

/** After AWS rejected the last attempt outright (throttled to the end): it does not count. */
export function attemptRejected(record: Pick<LedgerRecord, "history" | "createAttempts">) {
  const now = createAttempts(record);
  return stateOf(Math.max(0, now.issued - 1), Math.max(0, now.total - 1), undefined, now.interruptedAt);
}

/** After a retry of the request: a new attempt budget; the total stays. */
export function attemptsRetried(record: Pick<LedgerRecord, "history" | "createAttempts">) {
  return stateOf(0, createAttempts(record).total, undefined, undefined);
}

function stateOf(
  issued: number,
  total: number,
  unconfirmedAt: string | undefined,
  interruptedAt: string | undefined,
): CreateAttemptsState {
  return {
    issued,
    total,
    ...(unconfirmedAt !== undefined ? { unconfirmedAt } : {}),
    ...(interruptedAt !== undefined ? { interruptedAt } : {}),
  };
}
