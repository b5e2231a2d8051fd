/**
 * The Organizations model the core works with: the operations, the error hierarchy every Organizations adapter
 * raises (`cause` keeps the SDK error), and the views of accounts and CreateAccount requests. No AWS SDK here:
 * the gateway in `src/adapters/aws/organizationsGateway.ts` classifies SDK errors into these classes.
 */

/** The Organizations operations the gateway calls (used in errors, logs and the classifier). */
export type OrganizationsOperation =
  | "CreateAccount"
  | "DescribeCreateAccountStatus"
  | "ListCreateAccountStatus"
  | "ListAccounts"
  | "ListAccountsForParent"
  | "DescribeAccount"
  | "ListParents"
  | "MoveAccount"
  | "TagResource"
  | "ListTagsForResource"
  | "ListRoots"
  | "ListOrganizationalUnitsForParent"
  | "DescribeOrganizationalUnit"
  | "DescribeOrganization"
  | "CloseAccount";

/**
 * How the gateway treats an error thrown by one call:
 * - `retryable`: AWS asked us to slow down or try again (throttling, concurrent modification, an
 *   organization still being finalised, an internal service error): retried with backoff.
 * - `already-done`: the call's goal is already reached (DuplicateAccountException on MoveAccount,
 *   AccountAlreadyClosedException on CloseAccount).
 * - `terminal`: AWS rejected the request; retrying the same call cannot help.
 * - `unknown-outcome`: a non-idempotent call (CreateAccount) got an internal error: AWS may have accepted it,
 *   so it is never repeated; the caller looks (ListCreateAccountStatus, the organization) before it acts.
 * - `not-aws`: no answer from AWS at all (network, timeout, a bug): the SDK already retried transport
 *   errors, so the gateway rethrows it unchanged and leaves the decision to the caller (the worker lets
 *   the queue redeliver the message).
 */
export type OrganizationsErrorClass = "retryable" | "already-done" | "terminal" | "not-aws" | "unknown-outcome";

/** Base class of the gateway's errors; `cause` is the SDK error when there is one. */
export class OrganizationsError extends Error {
  constructor(
    message: string,
    /** The operation that failed. */
    readonly operation: OrganizationsOperation,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** AWS rejected a call for good (a `terminal` error); `code` is the SDK exception name. */
export class OrganizationsRequestError extends OrganizationsError {
  constructor(
    operation: OrganizationsOperation,
    /** SDK exception name, e.g. `ConstraintViolationException`. */
    readonly code: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`${operation} failed: ${code}: ${detail}`, operation, options);
  }
}

/** A non-idempotent call failed in a way that leaves open whether AWS carried it out (not retried). */
export class OrganizationsUnknownOutcomeError extends OrganizationsError {
  constructor(operation: OrganizationsOperation, cause: unknown) {
    super(`${operation} outcome unknown: ${describeError(cause)}`, operation, { cause });
  }
}

/** A retryable error persisted through every attempt of the retry policy. */
export class OrganizationsRetriesExhaustedError extends OrganizationsError {
  constructor(
    operation: OrganizationsOperation,
    /** Attempts made (the policy's `maxAttempts`). */
    readonly attempts: number,
    cause: unknown,
  ) {
    super(`${operation} still failing after ${attempts} attempts: ${describeError(cause)}`, operation, { cause });
  }
}

/**
 * A retryable error persisted, and the next backoff would sleep past the caller's deadline (see
 * `core/callDeadline.ts`): the call stopped early. Nothing is known to have failed for good: the caller defers the
 * work (the worker re-enqueues it, the CLI asks to run the command again), never fails the request.
 */
export class OrganizationsDeadlineError extends OrganizationsError {
  constructor(
    operation: OrganizationsOperation,
    /** Attempts made before stopping. */
    readonly attempts: number,
    /** The caller's deadline (ISO 8601). */
    readonly deadline: string,
    cause: unknown,
  ) {
    super(
      `${operation} still failing after ${attempts} attempt(s) and the next retry would pass the deadline ${deadline}: ${describeError(cause)}`,
      operation,
      { cause },
    );
  }
}

/** An OU path (e.g. `/Workloads/Prod`) names no existing organizational unit. */
export class OrganizationalUnitPathError extends OrganizationsError {
  constructor(
    /** The path as given. */
    readonly path: string,
    detail: string,
  ) {
    super(`cannot resolve OU path "${path}": ${detail}`, "ListOrganizationalUnitsForParent");
  }
}

/** The status of one CreateAccount request. */
export interface CreateAccountStatusView {
  /** The CreateAccount request id (`car-...`). */
  readonly requestId: string;
  readonly state: "IN_PROGRESS" | "SUCCEEDED" | "FAILED";
  /** Set when `state` is `SUCCEEDED`. */
  readonly accountId?: string;
  /** Set when `state` is `FAILED`: AWS's `FailureReason` verbatim (it may be one this code does not know). */
  readonly failureReason?: string;
}

/** One CreateAccount request as ListCreateAccountStatus reports it (AWS keeps them for 90 days). */
export interface CreateAccountRequestSummary {
  /** The CreateAccount request id (`car-...`). */
  readonly requestId: string;
  /** The account name the request asked for (AWS reports no email here). */
  readonly accountName: string;
  readonly state: CreateAccountStatusView["state"];
}

/** An account as the organization lists it. */
export interface OrganizationAccount {
  readonly id: string;
  readonly email: string;
  readonly name: string;
  /** `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`, ... (AWS's `Status`). */
  readonly status: string;
}

/** What {@link OrganizationsGateway.moveAccount} did. */
export type MoveResult = "moved" | "already-there";

/** What {@link OrganizationsGateway.closeAccount} did. */
export type CloseResult = "close-requested" | "already-closed";

const OU_ID = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;
const ROOT_ID = /^r-[0-9a-z]{4,32}$/;

/** True when `value` is an OU id (`ou-...`) or a root id (`r-...`) rather than a path. */
export function isOrganizationalUnitId(value: string): boolean {
  return OU_ID.test(value) || ROOT_ID.test(value);
}

/** `Name: message` of any thrown value (for error messages and ledger reasons). */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message || "(no message)"}`;
  return String(error);
}
