/**
 * The request ledger: one durable record per account email. The contract shared by the DynamoDB
 * implementation (deployed) and the SQLite implementation (embedded default).
 *
 * Exactly-once rests on two rules every implementation keeps:
 * - `claim` is a conditional insert keyed by the normalised email: of two concurrent claims one wins.
 * - `update` is a compare-and-set on `version`: a stale writer gets {@link LedgerConflictError}.
 */

/**
 * Where a request is in the account workflow. `SUCCEEDED`, `PLANNED`, `FAILED` and `CLOSED` are terminal.
 * `PLANNED`: the account exists, moved and tagged, but its account stack was only planned offline (nothing
 * deployed, no completion tags); running the request again with a real runner deploys and completes it.
 */
export type RequestState =
  | "RECEIVED"
  | "CREATING"
  | "MOVING"
  | "TAGGING"
  | "BOOTSTRAPPING"
  | "COMPLETING"
  | "PLANNED"
  | "SUCCEEDED"
  | "FAILED"
  | "CLOSING"
  | "CLOSED";

/** Every request state, in workflow order. */
export const REQUEST_STATES: readonly RequestState[] = [
  "RECEIVED",
  "CREATING",
  "MOVING",
  "TAGGING",
  "BOOTSTRAPPING",
  "COMPLETING",
  "PLANNED",
  "SUCCEEDED",
  "FAILED",
  "CLOSING",
  "CLOSED",
];

/** States after which the workflow does nothing more for a request. */
export const TERMINAL_STATES: ReadonlySet<RequestState> = new Set(["SUCCEEDED", "PLANNED", "FAILED", "CLOSED"]);

/** States the worker drives towards a terminal state (every non-terminal state except CLOSING, which `close` owns). */
export const WORKFLOW_STATES: ReadonlySet<RequestState> = new Set(
  REQUEST_STATES.filter((state) => !TERMINAL_STATES.has(state) && state !== "CLOSING"),
);

/**
 * How the request reached the AVM: `vend` (operator or API), `meshstack-hook` (meshStack's AVM hook), `adopted`
 * (`avm fleet adopt` brought an account that existed before the AVM under management; never CreateAccount).
 */
export type RequestKind = "vend" | "meshstack-hook" | "adopted";

/** One step of a record's history. */
export interface HistoryEntry {
  /** ISO-8601 timestamp. */
  readonly at: string;
  readonly state: RequestState;
  /** Free text: the AWS error, the deployment URL, the webhook id, ... Never a secret. */
  readonly note?: string;
}

/**
 * The right of one runner (a CLI process, a worker invocation) to act on a request: only the holder makes
 * non-idempotent calls (CreateAccount, a deployment, a local `pulumi up`). Taken and renewed with the record's
 * compare-and-set, so it holds across OS processes (SQLite) and Lambdas (DynamoDB); a crashed holder's lease
 * simply expires.
 */
export interface RequestLease {
  /** Who holds it, e.g. `avm vend on host/1234 #1` or `AVMWorker <aws request id> #3`. */
  readonly owner: string;
  /** ISO-8601 time after which the lease is free again unless renewed. */
  readonly expiresAt: string;
  /** ISO-8601 time of the holder's last renewal (its heartbeat). */
  readonly heartbeatAt: string;
}

/**
 * The CreateAccount attempts of a request, as typed data (older records kept them only as history notes, which
 * `createAttempts` in the workflow still reads when this field is absent).
 */
export interface CreateAttemptsState {
  /**
   * Attempts that may have reached AWS since the request was last retried (attempts AWS rejected outright, e.g.
   * throttled to the end, are not counted): the budget of the workflow's `maxCreateAttempts`.
   */
  readonly issued: number;
  /** Attempts that may have reached AWS over the request's whole life, retries included. */
  readonly total: number;
  /**
   * ISO-8601 time of the last attempt while its request id is not stored yet: its outcome is unknown (a lost reply,
   * or the worker stopped between the call and the write), so its account may exist or be on its way.
   */
  readonly unconfirmedAt?: string;
  /** ISO-8601 time of the latest earlier attempt that was interrupted that way and then superseded by a new one. */
  readonly interruptedAt?: string;
}

/** The remote account-stack deployment a BOOTSTRAPPING record waits for (its webhook moves the record on). */
export interface AwaitedDeployment {
  /** ISO-8601 time the deployment was queued. */
  readonly queuedAt: string;
  /** Pulumi Deployments version (`#N`), when known: older deployments' events are stale. */
  readonly version?: number;
  /** Console URL of the deployment, when known. */
  readonly url?: string;
}

/** One account request and everything the workflow learned about it. */
export interface LedgerRecord {
  /** Normalised (trimmed, lower-case) account root email: the key. */
  readonly email: string;
  /** Caller-supplied or generated request id; unique. */
  readonly requestId: string;
  readonly kind: RequestKind;
  readonly state: RequestState;
  /** The validated request as received (JSON-serialisable). */
  readonly request: Readonly<Record<string, unknown>>;
  /** Set once known (immediately for meshStack hook requests). */
  readonly accountId?: string;
  /** Organizations CreateAccount request id, stored before polling starts. */
  readonly createAccountRequestId?: string;
  /** Failure reason verbatim (e.g. an unknown `FailureReason` from AWS). */
  readonly failureReason?: string;
  /** Number of times the worker has picked the record up. */
  readonly attempts: number;
  /** The runner working on the request, while one is (see {@link RequestLease}). */
  readonly lease?: RequestLease;
  /** CreateAccount attempts (absent on records written before it was a field, and before the first attempt). */
  readonly createAttempts?: CreateAttemptsState;
  /** The remote deployment the record waits for; kept only while the record is BOOTSTRAPPING. */
  readonly awaitedDeployment?: AwaitedDeployment;
  /** Times `avm reconcile` re-drove the request from the dead-letter queue (absent: never, or an older record). */
  readonly redrives?: number;
  /** For people: every step with its time and note. Capped; lifecycle state lives in the typed fields above. */
  readonly history: readonly HistoryEntry[];
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Incremented by every update; the compare-and-set token. */
  readonly version: number;
}

/** Fields a new record is created with. */
export interface NewLedgerRecord {
  readonly email: string;
  readonly requestId: string;
  readonly kind: RequestKind;
  readonly request: Readonly<Record<string, unknown>>;
  readonly accountId?: string;
  /** Initial state; defaults to `RECEIVED`. */
  readonly state?: RequestState;
}

/** Optional record fields a {@link LedgerPatch} can remove. */
export type ClearableField = "failureReason" | "createAccountRequestId" | "lease" | "awaitedDeployment";

/** Fields an update may change. `undefined` leaves a field as it is. */
export interface LedgerPatch {
  readonly state?: RequestState;
  readonly accountId?: string;
  readonly createAccountRequestId?: string;
  readonly failureReason?: string;
  readonly attempts?: number;
  /** Takes or renews the lease (`clear: ["lease"]` releases it). */
  readonly lease?: RequestLease;
  /** Replaces the CreateAccount attempts. */
  readonly createAttempts?: CreateAttemptsState;
  /** Sets the awaited deployment (dropped by any write that leaves the record in another state than BOOTSTRAPPING). */
  readonly awaitedDeployment?: AwaitedDeployment;
  /** Sets the re-drive count. */
  readonly redrives?: number;
  /** Replaces the stored request (a corrected resubmission of a FAILED request). */
  readonly request?: Readonly<Record<string, unknown>>;
  /** Optional fields to remove (applied before the fields this patch sets). */
  readonly clear?: readonly ClearableField[];
  /** Appended to the history (with the new state when `state` is set). */
  readonly note?: string;
  /**
   * Steps the writer took since its last write that it did not write one by one (idempotent steps such as a move
   * or tags): each appends a history entry and sets the record's state, in order, before this patch's own `state`
   * and `note`. So one write records several steps and the history reads as if each had been written.
   */
  readonly steps?: readonly LedgerStep[];
}

/** One step carried by {@link LedgerPatch.steps}: the state it reached and its history note. */
export interface LedgerStep {
  readonly state: RequestState;
  readonly note?: string;
}

/** Base class of ledger errors. */
export class LedgerError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A compare-and-set update lost against a concurrent writer. */
export class LedgerConflictError extends LedgerError {}

/**
 * A claim named an account id another record (another email) already holds: one record per account id. Nothing
 * was written. Raised atomically by the ledger, so of two concurrent claims for one account id only one succeeds.
 */
export class LedgerIdentityConflictError extends LedgerError {
  constructor(
    /** The account id both claims named. */
    readonly accountId: string,
    /** The email of the claim that was refused. */
    readonly email: string,
    /** The record holding the account id. */
    readonly holder: { readonly email: string; readonly requestId: string },
  ) {
    super(`account ${accountId} is already recorded for ${holder.email} (request ${holder.requestId}), not ${email}`);
  }
}

/** No record exists for the email. */
export class LedgerNotFoundError extends LedgerError {}

/** Normalises an email the way the ledger keys it. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The lease on `record` when one is held at `now` (not expired), else undefined. */
export function activeLease(record: Pick<LedgerRecord, "lease">, now: Date): RequestLease | undefined {
  const lease = record.lease;
  return lease !== undefined && Date.parse(lease.expiresAt) > now.getTime() ? lease : undefined;
}
