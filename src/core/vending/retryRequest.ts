/**
 * Retrying a FAILED request: the record goes back to RECEIVED (failure reason and CreateAccount request id
 * cleared, the history kept) so the workflow drives it again from where its account stands. It never leads
 * to a second account:
 * - a record with an account id resumes after the account step (move, tags, stack, completion tags);
 * - a record whose earlier CreateAccount may have reached AWS looks the email up (and waits for a create in
 *   progress) before it creates anything, and adopts the account it finds;
 * - a record that failed before any CreateAccount (e.g. its target OU did not exist) simply starts again,
 *   with the corrected request when one is given.
 */
import type { Ledger } from "../ports";
import type { LedgerRecord } from "../ledger";
import { attemptsRetried, createAttempts, RETRY_NOTE } from "./createAttempts";

/** True when the request's account exists or may exist (an account id, a CreateAccount id or attempt). */
export function accountMayExist(record: LedgerRecord): boolean {
  return (
    record.accountId !== undefined || record.createAccountRequestId !== undefined || createAttempts(record).total > 0
  );
}

/** Options of {@link reopenFailedRequest}. */
export interface ReopenOptions {
  /** The corrected request to store instead of the old one (validated by the caller). Default: keep it. */
  readonly request?: Readonly<Record<string, unknown>>;
  /** Who asked, for the history note (e.g. `avm retry`, `a corrected resubmission`). */
  readonly by: string;
}

/** A FAILED record cannot be retried in its current state. */
export class RetryRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * Puts a FAILED (or PLANNED: deploy it for real now) record back to RECEIVED (compare-and-set on `record.version`).
 * @throws RetryRefusedError when the record is not FAILED.
 * @throws LedgerConflictError when the record changed since it was read.
 */
export async function reopenFailedRequest(
  ledger: Ledger,
  record: LedgerRecord,
  now: Date,
  options: ReopenOptions,
): Promise<LedgerRecord> {
  if (record.state !== "FAILED" && record.state !== "PLANNED") {
    throw new RetryRefusedError(`request ${record.requestId} is ${record.state}, not FAILED: nothing to retry`);
  }
  const was =
    record.state === "PLANNED" ? "PLANNED: planned only" : `FAILED: ${record.failureReason ?? "no reason recorded"}`;
  return ledger.update(
    record.email,
    record.version,
    {
      state: "RECEIVED",
      clear: ["failureReason", "createAccountRequestId"],
      createAttempts: attemptsRetried(record),
      ...(options.request !== undefined ? { request: options.request } : {}),
      note: `${RETRY_NOTE} by ${options.by} (was ${was})`,
    },
    now,
  );
}

/** JSON of a value with object keys sorted, so two equal requests compare equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}
