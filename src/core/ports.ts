/**
 * The ports of the core: every interface through which the domain (`src/core/`) reaches the outside world.
 * Adapters implement them: `src/adapters/aws/` (DynamoDB, SQS, Organizations), `src/adapters/local/` (SQLite,
 * in-process), `src/stacks/` and `automation/` (account stack runners). See ARCHITECTURE.md.
 */
import type { LedgerPatch, LedgerRecord, NewLedgerRecord, RequestState } from "./ledger";
import type {
  CloseResult,
  CreateAccountRequestSummary,
  CreateAccountStatusView,
  MoveResult,
  OrganizationAccount,
} from "./organizations";

/**
 * The one logging surface of the core and the automation layer. Structurally compatible with
 * `@aws-lambda-powertools/logger`'s `Logger` and with `console`, so either can be passed in.
 */
export interface Logger {
  info(message: string, ...attributes: Record<string, unknown>[]): void;
  warn(message: string, ...attributes: Record<string, unknown>[]): void;
  error(message: string, ...attributes: Record<string, unknown>[]): void;
}

/** The null {@link Logger}: discards everything (the default where no logger is given). */
export const silentLogger: Logger = Object.freeze({ info() {}, warn() {}, error() {} });

// ---- the request ledger (DynamoDB deployed, SQLite embedded, memory in tests) ----

/** Result of {@link Ledger.claim}. */
export interface ClaimResult {
  /** True when this call created the record; false when one already existed for the email. */
  readonly created: boolean;
  /** The stored record (the existing one when `created` is false). */
  readonly record: LedgerRecord;
}

/**
 * Filter and window of {@link Ledger.list}. Records come oldest first (`createdAt`), then by email; that order is
 * also the keyset of the paging: `after` (a cursor from `encodeListCursor` of `./ledgerRecords`, or the `next` of
 * `listPage` in `./ledgerPages`) starts right after a record's position, so consecutive pages never repeat or skip a
 * record, whatever is added meanwhile.
 */
export interface ListOptions {
  /** Only records in these states (an empty list selects nothing). Default: every state. */
  readonly states?: readonly RequestState[];
  /** At most this many records. Default: every matching record. */
  readonly limit?: number;
  /** Opaque cursor: only records after this position (`createdAt`, then email). Default: from the first record. */
  readonly after?: string;
}

/** The durable request store. */
export interface Ledger {
  /**
   * Inserts a record unless one exists for the email. Never overwrites. A new record with an `accountId` that
   * another email's record holds is refused atomically (of concurrent claims for one account id, one wins).
   * @throws LedgerIdentityConflictError when the account id is held by another email's record (nothing written).
   */
  claim(record: NewLedgerRecord, now: Date): Promise<ClaimResult>;
  get(email: string): Promise<LedgerRecord | undefined>;
  /**
   * The record with this request id. Through an index in DynamoDB, so it may lag a write by a moment: to decide on
   * the state or to write, read the record again with {@link Ledger.get}.
   */
  getByRequestId(requestId: string): Promise<LedgerRecord | undefined>;
  /** The record with this account id; may lag a write by a moment like {@link Ledger.getByRequestId}. */
  getByAccountId(accountId: string): Promise<LedgerRecord | undefined>;
  /**
   * True when {@link Ledger.getByRequestId} and {@link Ledger.getByAccountId} answer from the same consistent state
   * as {@link Ledger.get} (SQLite, the in-memory ledger): a record they return may be decided on and written without
   * reading it again by email. Absent (false) for DynamoDB, whose indexes may lag a write.
   */
  readonly consistentLookups?: boolean;
  /**
   * The records `options` selects, oldest first (`createdAt`), then by email. With a `limit`, the cost is bounded by
   * the page, not by the ledger (DynamoDB: one Query per state asked for); without one, every matching record.
   * @throws LedgerInputError for an unknown state, a bad limit or a malformed `after` cursor.
   */
  list(options?: ListOptions): Promise<LedgerRecord[]>;
  /**
   * Applies `patch` if the stored version equals `expectedVersion`; appends a history entry.
   * @throws LedgerConflictError when another writer got there first.
   * @throws LedgerNotFoundError when no record exists for the email.
   */
  update(email: string, expectedVersion: number, patch: LedgerPatch, now: Date): Promise<LedgerRecord>;
  /** Releases connections; the ledger is unusable afterwards. */
  close(): Promise<void>;
}

// ---- the work queue between the entry point (producer) and the worker (consumer): SQS or in-process ----

/** One unit of work: "drive this ledger record one more time towards a terminal state". */
export interface WorkItem {
  /** Ledger key (normalised email). */
  readonly email: string;
  readonly requestId: string;
}

/** Producer side of the work queue. Delivery is at-least-once; the ledger makes processing idempotent. */
export interface WorkQueue {
  enqueue(item: WorkItem): Promise<void>;
}

// ---- CreateAccount slots (AWS allows only a few CreateAccount requests in flight) ----

/** A bounded set of CreateAccount slots shared by all workers. */
export interface CreateSlots {
  /**
   * Takes a free slot for `owner` (use the ledger request id). Idempotent: when `owner` already holds a
   * slot, its lease is renewed and the result is `true`. Never waits: `false` means every slot is held and
   * the caller should back off and try again later.
   */
  acquire(owner: string): Promise<boolean>;
  /** Gives back the slot `owner` holds; a no-op when it holds none (e.g. its lease already expired). */
  release(owner: string): Promise<void>;
  /** Owners currently holding an unexpired slot (for status output and tests). */
  holders(): Promise<string[]>;
}

// ---- Organizations (the management account's view of accounts and OUs) ----

/**
 * The Organizations calls of the account workflow, each already retried by the adapter where that is safe, never
 * past the caller's deadline (`currentDeadline()` of `./callDeadline`: then `OrganizationsDeadlineError`).
 * Errors are the classes of `./organizations` (never raw SDK errors).
 */
export interface Organizations {
  /** Starts account creation (asynchronous in AWS) and returns its first status. */
  createAccount(input: { email: string; accountName: string; roleName?: string }): Promise<CreateAccountStatusView>;
  /** Current status of a CreateAccount request. */
  describeCreateAccountStatus(createAccountRequestId: string): Promise<CreateAccountStatusView>;
  /** CreateAccount requests of the organization in the given states (names, not emails). */
  listCreateAccountRequests(
    states: readonly CreateAccountStatusView["state"][],
  ): Promise<CreateAccountRequestSummary[]>;
  /** Every account of the organization. */
  listAccounts(): Promise<OrganizationAccount[]>;
  /** The account with root email `email` (case-insensitive), if any. */
  findAccountByEmail(email: string): Promise<OrganizationAccount | undefined>;
  /** One account by id. */
  describeAccount(accountId: string): Promise<OrganizationAccount>;
  /** Id of the account's parent (root or OU). */
  getParentId(accountId: string): Promise<string>;
  /** Moves the account; "already-there" when a concurrent move won. */
  moveAccount(accountId: string, sourceParentId: string, destinationParentId: string): Promise<MoveResult>;
  /** Adds or overwrites tags on the account. */
  tagAccount(accountId: string, tags: Readonly<Record<string, string>>): Promise<void>;
  /** Resolves an OU id, root id or OU path (`/Workloads/Prod`) to an id. */
  resolveOrganizationalUnit(reference: string): Promise<string>;
  /** The organization's id and its management account id. */
  describeOrganization(): Promise<{ organizationId: string; managementAccountId: string }>;
  /** Requests closure of a member account; "already-closed" counts as done. */
  closeAccount(accountId: string): Promise<CloseResult>;
}

// ---- the account stack runner: Automation API (local), Pulumi Deployments (remote), offline planner ----

/** What an account stack needs to know; derived from the ledger record. */
export interface AccountStackRequest {
  /** 12-digit id of the managed account. */
  readonly accountId: string;
  readonly accountName: string;
  readonly email: string;
  /** Ledger request id, for correlation in logs and deployment tags. */
  readonly requestId: string;
  /** Tags to apply to the account (already validated). */
  readonly tags: Readonly<Record<string, string>>;
}

/** Outcome of one runner call. */
export interface AccountStackResult {
  /**
   * - `deployed`: the stack is up to date in AWS.
   * - `planned`: rendered offline only (no Pulumi CLI); nothing was deployed.
   * - `queued`: a remote deployment was started; a webhook will report the outcome.
   */
  readonly status: "deployed" | "planned" | "queued";
  /** Stack name (`account-<id>`). */
  readonly stackName: string;
  /** Stack outputs, when known. Secrets are never included in plain text. */
  readonly outputs?: Readonly<Record<string, unknown>>;
  /** Human-facing link (Pulumi Cloud console, deployment log), when there is one. */
  readonly url?: string;
  /** Pulumi Deployments version of a `queued` deployment (`#N`), when known: the record waits for its webhook. */
  readonly deploymentVersion?: number;
  /** One-line summary for logs and the ledger history. */
  readonly summary: string;
}

/** Deploys (or plans) the per-account stack. Implementations must be idempotent per account. */
export interface AccountStackRunner {
  deploy(request: AccountStackRequest): Promise<AccountStackResult>;
}

// ---- webhook delivery de-duplication by `Pulumi-Webhook-ID` (DynamoDB deployed, memory locally) ----
/*
 * Webhook delivery de-duplication by `Pulumi-Webhook-ID`. Pulumi Cloud may redeliver; a delivery id is
 * claimed before processing only for as long as processing may take ({@link DEFAULT_PROCESSING_MS}), kept for
 * the retention once processing completed, and released when processing fails. So a redelivery after a
 * handler that timed out or crashed mid-delivery is processed, and one after a success is a duplicate.
 */

/** How long a claim blocks redeliveries while its delivery is processed (well above the webhook Lambda's 10 s). */
export const DEFAULT_PROCESSING_MS = 60_000;

/** Claims delivery ids. */
/**
 * What {@link DeliveryStore.claim} found: `claimed` (this caller processes the delivery), `in-progress` (another
 * handler claimed it and has not finished: answer so that Pulumi Cloud redelivers later, because that handler may
 * have died), or `processed` (a duplicate of a delivery that was applied).
 */
export type DeliveryClaim = "claimed" | "in-progress" | "processed";

export interface DeliveryStore {
  /**
   * Claims `id` for {@link DEFAULT_PROCESSING_MS} (or the store's processing time). `claimed` for the first claim or
   * one whose earlier claim expired or was released; otherwise what the earlier claim says.
   */
  claim(id: string, now: Date): Promise<DeliveryClaim>;
  /** Marks `id` processed: redeliveries are duplicates for the store's whole retention. */
  complete(id: string, now: Date): Promise<void>;
  /** Releases a claim so a redelivery of `id` is processed again. */
  release(id: string): Promise<void>;
}

// ---- the webhook secret (Secrets Manager deployed, an environment variable locally) ----

/** Where the handler gets the secrets a delivery may be signed with (the current one first). */
export interface WebhookSecrets {
  /** The values to verify with; `undefined` when no secret is configured. */
  candidates(): Promise<readonly string[] | undefined>;
  /** Reads again after a signature mismatch (rate-limited by the implementation). */
  refresh(): Promise<readonly string[] | undefined>;
}
