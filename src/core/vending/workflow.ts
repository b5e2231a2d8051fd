/**
 * The account workflow: drives one ledger record from RECEIVED to SUCCEEDED or FAILED, one idempotent
 * step at a time, and the explicit, quota-aware close path.
 *
 * RECEIVED -> CREATING (CreateAccount, request id persisted before polling) -> MOVING -> TAGGING ->
 * BOOTSTRAPPING (account stack) -> COMPLETING (completion tags `ProductName`, `Stage`) -> SUCCEEDED.
 *
 * Exactly once, under at-least-once delivery and crashes:
 * - The step to run is read from the stored record, never from the message.
 * - Every ledger write is a compare-and-set on `version`. A pick-up (attempts + 1, the request lease) is carried
 *   by its first write, which comes before any call that is not safe to repeat (CreateAccount, a deployment)
 *   and before any wait, so of two concurrent deliveries only one gets past it; a {@link LedgerConflictError}
 *   means another worker took over, and this one stops without further side effects.
 * - Steps that are safe to repeat (learning the created account's id, the move, the tags, a deployment that
 *   reported `deployed`) are not written one by one: the next write carries them (`LedgerPatch.steps`), so the
 *   history lists every step while a fresh vend costs three workflow writes (pick-up with the CreateAccount
 *   marker, the CreateAccount request id, the end state). A worker that stops in between repeats them.
 * - Before each CreateAccount the worker writes a marker (`CreateAccount attempt N issuing`) and after it
 *   the request id; a worker that crashed after persisting the id resumes polling that id and never calls
 *   CreateAccount again. One that stopped between the call and persisting the id (crash, or another worker
 *   took the record over) first waits while ListCreateAccountStatus shows a CreateAccount for the account
 *   name IN_PROGRESS (ListAccounts shows an account only once it is created), then looks the email up in the
 *   organization, and issues CreateAccount again only when neither shows the earlier call. What remains:
 *   AWS's own lag in listing a just-accepted request, or a stalled worker whose CreateAccount reaches AWS
 *   after another worker looked; AWS's email uniqueness then answers EMAIL_ALREADY_EXISTS, which leads to
 *   adoption, so no email ever gets a second account.
 * - Every other step is idempotent in AWS (move to where it already is, tag with the same values, deploy
 *   an unchanged stack).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { hostname } from "node:os";
import {
  activeLease,
  LedgerConflictError,
  TERMINAL_STATES,
  type LedgerPatch,
  type LedgerRecord,
  type LedgerStep,
  type RequestLease,
  type RequestState,
} from "../ledger";
import { silentLogger, type Ledger, type Logger, type Organizations } from "../ports";
import type { AccountStackRunner } from "../ports";
import type { CreateSlots } from "../ports";
import type { Timing } from "../../shared/timing";
import { runWithDeadline } from "../callDeadline";
import {
  OrganizationalUnitPathError,
  OrganizationsDeadlineError,
  OrganizationsError,
  OrganizationsRequestError,
  OrganizationsUnknownOutcomeError,
  describeError,
  type CreateAccountStatusView,
  type OrganizationAccount,
} from "../organizations";
import { backoffDelay } from "../retry";
import { DEFAULT_BOOTSTRAP_ROLE_NAME } from "../../shared/naming";
import { WorkflowError, WorkflowRecordError } from "./workflowErrors";
import { workflowInputOf, type WorkflowInput } from "./workflowInput";
import { attemptConfirmed, attemptIssued, attemptRejected, createAttempts } from "./createAttempts";

export { WorkflowError, WorkflowRecordError } from "./workflowErrors";
export { createAttempts, RETRY_NOTE, type CreateAttempts } from "./createAttempts";
export { workflowInputOf, type WorkflowInput } from "./workflowInput";
import { ADOPT_EXISTING_KEY } from "./entryPointGate";

/** Async CreateAccount failure reasons that are retried by issuing CreateAccount again. */
export const RETRYABLE_CREATE_FAILURES: ReadonlySet<string> = new Set([
  "INTERNAL_FAILURE",
  "CONCURRENT_ACCOUNT_MODIFICATION",
]);

/** Poll schedule of DescribeCreateAccountStatus: `first`, then doubling, capped at `max`. */
export interface PollPolicy {
  /** First wait after CreateAccount, in ms. Default 1000. */
  readonly firstIntervalMs: number;
  /** Largest wait between polls, in ms. Default 10000. */
  readonly maxIntervalMs: number;
}

/** Tunables of the workflow; every field has a default. */
export interface WorkflowOptions {
  /** Target OU (id or path) for vend requests that name none. Default: none (the account stays at the root). */
  readonly defaultTargetOu?: string;
  /** Role Organizations creates in a new account. Default `OrganizationAccountAccessRole`. */
  readonly bootstrapRoleName?: string;
  /** CreateAccount calls per request when AWS reports a retryable async failure. Default 3. */
  readonly maxCreateAttempts?: number;
  /** Backoff before re-issuing CreateAccount. Default 5 s doubling up to 60 s (jittered). */
  readonly createRetry?: { readonly baseDelayMs: number; readonly maxDelayMs: number };
  /** DescribeCreateAccountStatus schedule. Default 1 s doubling up to 10 s. */
  readonly poll?: PollPolicy;
  /** Backoff while every CreateAccount slot is taken. Default 1 s doubling up to 10 s (jittered). */
  readonly slotWait?: { readonly baseDelayMs: number; readonly maxDelayMs: number };
  /**
   * Longest a single `processRequest` call waits (polling, slots) when the caller gives no deadline.
   * Default 30 minutes. On expiry the call returns `deferred` and the work can be picked up again.
   */
  readonly maxWaitMs?: number;
  /**
   * After EMAIL_ALREADY_EXISTS, how long to keep looking for the account (instead of failing) when an
   * earlier CreateAccount of this request was interrupted before its id was stored and may still be
   * creating it, counted from that attempt; the workflow also keeps looking while a CreateAccount for the
   * account name is in progress. Default 30 minutes.
   */
  readonly interruptedCreateGraceMs?: number;
  /**
   * After a CreateAccount whose outcome is unknown (a 5xx or a lost reply, or a worker that stopped before storing
   * the request id), how long to keep looking for its account (ListCreateAccountStatus, ListAccounts by email) before
   * CreateAccount may be issued again, counted from that attempt. AWS lists an accepted request within seconds.
   * Default 2 minutes.
   */
  readonly unknownOutcomeGraceMs?: number;
  /**
   * How long a queued (remote) account stack deployment may stay unreported before a later pick-up
   * deploys again. Default 2 hours.
   */
  readonly stackQueuedTimeoutMs?: number;
  /**
   * Lease of one `processRequest` call on its record: the holder renews it with every ledger write, in its
   * waiting loops, and on a timer while the account stack deploys; a crashed holder's lease expires after this
   * long. Default 2 minutes.
   */
  readonly leaseTtlMs?: number;
  /** Names this runner in leases (`<owner> #<n>` per call). Default `<host>/<pid>`. */
  readonly leaseOwner?: string;
  /**
   * Runs `beat` every `everyMs` until the returned stop function is called (the lease heartbeat while the
   * account stack deploys). Default: a timer that does not keep the process alive.
   */
  readonly heartbeat?: (beat: () => Promise<void>, everyMs: number) => () => Promise<void>;
  /**
   * Called with the record after every step, as the step is taken: a written one, and one that the next write
   * carries (its `history` then already ends with the step). For progress displays. Default: none.
   */
  readonly onStep?: (record: LedgerRecord) => void;
}

/** Everything the workflow talks to. */
export interface WorkflowDeps {
  readonly ledger: Ledger;
  readonly organizations: Organizations;
  readonly stackRunner: AccountStackRunner;
  readonly createSlots: CreateSlots;
  readonly timing: Timing;
  readonly logger?: Logger;
  readonly options?: WorkflowOptions;
}

/** Result of {@link Workflow.processRequest}. */
export type ProcessOutcome =
  /** The record is SUCCEEDED, FAILED or CLOSED. */
  | { readonly status: "terminal"; readonly record: LedgerRecord }
  /**
   * The account stack was queued remotely (BOOTSTRAPPING). The Pulumi Cloud webhook continues: it moves
   * the record to COMPLETING (compare-and-set) and enqueues it again, or to FAILED.
   */
  | { readonly status: "waiting"; readonly record: LedgerRecord; readonly reason: string }
  /** Ran out of time (still polling, or no CreateAccount slot); pick the request up again later. */
  | { readonly status: "deferred"; readonly record: LedgerRecord; readonly reason: string }
  /**
   * Another runner holds the record's lease (`reason` names it and its expiry); nothing was done. Wait for
   * the outcome, or call again after `lease.expiresAt` to take over from a holder that crashed.
   */
  | { readonly status: "busy"; readonly record: LedgerRecord; readonly lease: RequestLease; readonly reason: string }
  /** Nothing done: another runner changed the record first, or no record exists for the email. */
  | { readonly status: "skipped"; readonly reason: string };

/** Options of one {@link Workflow.processRequest} call. */
export interface ProcessOptions {
  /** Stop waiting (polling, slots) at this time and return `deferred`. Default now + `maxWaitMs`. */
  readonly deadline?: Date;
}

/** A close request (explicit operator action). */
export interface CloseAccountRequest {
  /** 12-digit id of the member account to close. */
  readonly accountId: string;
  /** Free-text reason stored in the ledger history. */
  readonly reason?: string;
}

/** The rolling-30-day close quota as computed before a close. */
export interface CloseQuota {
  /** Active member accounts (the management account excluded). */
  readonly memberAccounts: number;
  /** Closures AWS allows per rolling 30 days: max(10, floor(10% of member accounts)), at most 1000. */
  readonly allowed: number;
  /** Closures counted in the last 30 days (see {@link Workflow.closeQuota}). */
  readonly used: number;
  /** `allowed - used` (never negative). */
  readonly remaining: number;
}

/** Result of {@link Workflow.closeAccount}. */
export interface CloseAccountOutcome {
  readonly accountId: string;
  /** `close-requested`: CloseAccount accepted now; `already-closed`: it was closed (or closing) before. */
  readonly status: "close-requested" | "already-closed";
  /** The quota before this close (absent when nothing needed closing). */
  readonly quota?: CloseQuota;
  /** The ledger record of the account, when the AVM knows it. */
  readonly record?: LedgerRecord;
}

/** The workflow's public operations. */
export interface Workflow {
  /**
   * Drives the record of `email` as far as it can go now. Safe to call any number of times, concurrently
   * and after crashes. Throws only for errors that are not AWS answers (network, bugs, ledger outages);
   * the caller retries those (the worker lets the queue redeliver).
   */
  processRequest(email: string, options?: ProcessOptions): Promise<ProcessOutcome>;
  /**
   * Closes a member account after checking the close quota. Never removes an account from the
   * organization.
   * @throws CloseRefusedError (or its subclass CloseQuotaExceededError) when the close is not allowed.
   */
  closeAccount(request: CloseAccountRequest): Promise<CloseAccountOutcome>;
  /**
   * The current close quota (read only). AWS allows closing max(10, 10% of member accounts) per rolling
   * 30 days and gives no closure dates, so closures are counted conservatively as the union of:
   * - accounts the ledger closed (a CLOSING history entry) within the last 30 days;
   * - accounts the organization lists as PENDING_CLOSURE (closed moments ago);
   * - accounts listed as SUSPENDED (closed within the last 90 days), unless the ledger shows the closure
   *   is older than 30 days.
   * Member accounts are the ACTIVE accounts other than the management account.
   */
  closeQuota(): Promise<CloseQuota>;
}

/** The close path refused to close an account. */
export class CloseRefusedError extends WorkflowError {}

/** Closing would exceed AWS's rolling-30-day close quota. */
export class CloseQuotaExceededError extends CloseRefusedError {
  constructor(
    readonly accountId: string,
    readonly quota: CloseQuota,
  ) {
    super(
      `refusing to close account ${accountId}: the close quota is used up (${quota.used} of ${quota.allowed} ` +
        `closures in the last 30 days; allowed = max(10, 10% of ${quota.memberAccounts} active member accounts))`,
    );
  }
}

const STACK_QUEUED = /^account stack queued/;
const CLOSE_WINDOW_MS = 30 * 24 * 60 * 60 * 1000;

/** `reason` of a `skipped` outcome whose compare-and-set lost against another writer. */
export const SUPERSEDED_REASON = "another worker updated the record first";

/** Default {@link WorkflowOptions.unknownOutcomeGraceMs}. */
export const DEFAULT_UNKNOWN_OUTCOME_GRACE_MS = 2 * 60_000;

/** Default {@link WorkflowOptions.leaseTtlMs}. */
export const DEFAULT_LEASE_TTL_MS = 2 * 60_000;

/**
 * The lease of one `processRequest` call: its owner name, its latest write to the record (the record as read
 * before the first write) and what it has done but not written yet (see `advanceLater`).
 */
interface LeaseSession {
  readonly email: string;
  readonly owner: string;
  latest: LedgerRecord;
  /** True once this call wrote the record (its first write takes the lease). */
  wrote: boolean;
  /** Fields and steps the next write carries: the pick-up's `attempts`, idempotent steps, an account id. */
  pending: { attempts?: number; accountId?: string; steps: LedgerStep[] };
}

/** The default {@link WorkflowOptions.heartbeat}: an unref'd interval timer; stopping awaits a running beat. */
function timerHeartbeat(beat: () => Promise<void>, everyMs: number): () => Promise<void> {
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    running = running.then(beat).catch(() => undefined);
  }, everyMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

/** Thrown inside the workflow when a compare-and-set lost: another worker owns the record now. */
class Superseded extends Error {}

/** A step's result: carry on with the new record, or stop with an outcome. */
type StepResult = { readonly next: LedgerRecord } | { readonly stop: ProcessOutcome };

/**
 * Creates the workflow over its dependencies.
 * @param deps ledger, Organizations gateway, stack runner, CreateAccount slots, timing, optional logger
 * and options.
 */
export function createWorkflow(deps: WorkflowDeps): Workflow {
  const { ledger, organizations, stackRunner, createSlots, timing } = deps;
  const options = deps.options ?? {};
  const log: Logger = deps.logger ?? silentLogger;
  const maxCreateAttempts = options.maxCreateAttempts ?? 3;
  const createRetry = options.createRetry ?? { baseDelayMs: 5_000, maxDelayMs: 60_000 };
  const poll = options.poll ?? { firstIntervalMs: 1_000, maxIntervalMs: 10_000 };
  const slotWait = options.slotWait ?? { baseDelayMs: 1_000, maxDelayMs: 10_000 };
  const maxWaitMs = options.maxWaitMs ?? 30 * 60_000;
  const stackQueuedTimeoutMs = options.stackQueuedTimeoutMs ?? 2 * 60 * 60_000;
  const roleName = options.bootstrapRoleName ?? DEFAULT_BOOTSTRAP_ROLE_NAME;
  const interruptedCreateGraceMs = options.interruptedCreateGraceMs ?? 30 * 60_000;
  const unknownOutcomeGraceMs = options.unknownOutcomeGraceMs ?? DEFAULT_UNKNOWN_OUTCOME_GRACE_MS;

  const leaseTtlMs = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
  const leaseOwner = options.leaseOwner ?? `${hostname()}/${process.pid}`;
  const heartbeat = options.heartbeat ?? timerHeartbeat;
  const sessions = new AsyncLocalStorage<LeaseSession>();
  let calls = 0;

  function newLease(owner: string): RequestLease {
    const now = timing.now();
    return { owner, expiresAt: new Date(now.getTime() + leaseTtlMs).toISOString(), heartbeatAt: now.toISOString() };
  }

  /**
   * Compare-and-set write of `patch`. Inside a `processRequest` call it renews the call's lease (a terminal
   * state releases it) and builds on the call's latest write, so a heartbeat in between is no conflict.
   */
  async function update(record: LedgerRecord, patch: LedgerPatch): Promise<LedgerRecord> {
    const session = sessions.getStore();
    const own = session !== undefined && session.email === record.email ? session : undefined;
    const base = own !== undefined && own.latest.version > record.version ? own.latest : record;
    const terminal = patch.state !== undefined && TERMINAL_STATES.has(patch.state);
    const pending = own?.pending;
    const carried: LedgerPatch =
      pending === undefined
        ? patch
        : {
            ...(pending.attempts !== undefined ? { attempts: pending.attempts } : {}),
            ...(pending.accountId !== undefined ? { accountId: pending.accountId } : {}),
            ...patch,
            ...(pending.steps.length > 0 ? { steps: [...pending.steps, ...(patch.steps ?? [])] } : {}),
          };
    const leased: LedgerPatch =
      own === undefined
        ? carried
        : terminal
          ? { ...carried, clear: [...(carried.clear ?? []), "lease"] }
          : { ...carried, lease: newLease(own.owner) };
    try {
      const next = await ledger.update(record.email, base.version, leased, timing.now());
      if (own !== undefined) {
        own.latest = next;
        own.wrote = true;
        own.pending = { steps: [] };
      }
      if (patch.state !== undefined || patch.note !== undefined) options.onStep?.(next);
      return next;
    } catch (error) {
      if (error instanceof LedgerConflictError) throw new Superseded();
      throw error;
    }
  }

  /** True when the current call holds its lease and renewed it less than a third of its time ago. */
  function holdsFreshLease(session: LeaseSession): boolean {
    const lease = session.latest.lease;
    if (lease === undefined || lease.owner !== session.owner) return false;
    return timing.now().getTime() - Date.parse(lease.heartbeatAt) < leaseTtlMs / 3;
  }

  /**
   * The heartbeat of waiting loops: takes the lease when this call has not written yet (a call that waits holds
   * the lease), else renews it when a third of its time has passed. Carries what the call has not written yet.
   */
  async function renewIfDue(): Promise<void> {
    const session = sessions.getStore();
    if (session === undefined || holdsFreshLease(session)) return;
    await update(session.latest, {});
  }

  /**
   * Runs a non-idempotent call under the lease: first makes sure this call holds it (a compare-and-set, unless
   * this call's own write renewed it less than a third of its time ago: nobody else can take an unexpired lease),
   * then keeps renewing it on a timer while the call runs.
   */
  async function underLease<T>(record: LedgerRecord, call: () => Promise<T>): Promise<T> {
    const session = sessions.getStore();
    if (session === undefined || !holdsFreshLease(session)) await update(record, {});
    if (session === undefined) return call();
    const stop = heartbeat(
      () =>
        sessions.run(session, async () => {
          try {
            await update(session.latest, {});
          } catch (error) {
            // A lost lease shows at the next write after the call (Superseded); nothing to do here.
            log.warn("lease heartbeat failed", { requestId: record.requestId, reason: describeError(error) });
          }
        }),
      Math.max(1, Math.floor(leaseTtlMs / 3)),
    );
    try {
      return await call();
    } finally {
      await stop();
    }
  }

  /**
   * Releases the call's lease unless a terminal write already did or another runner changed the record. A call
   * that stopped before its first write records its pick-up (and any steps it took) with this write.
   */
  async function release(session: LeaseSession): Promise<void> {
    const latest = session.latest;
    if (session.wrote && latest.lease?.owner !== session.owner) return;
    const { attempts, accountId, steps } = session.pending;
    const patch: LedgerPatch = {
      ...(attempts !== undefined ? { attempts } : {}),
      ...(accountId !== undefined ? { accountId } : {}),
      ...(steps.length > 0 ? { steps } : {}),
      clear: ["lease"],
    };
    try {
      await ledger.update(latest.email, latest.version, patch, timing.now());
    } catch (error) {
      // The lease expires by itself; a conflict means someone else wrote the record after us.
      if (!(error instanceof LedgerConflictError)) {
        log.warn("could not release the lease", { requestId: latest.requestId, reason: describeError(error) });
      }
    }
  }

  function busy(record: LedgerRecord, lease: RequestLease): ProcessOutcome {
    return {
      status: "busy",
      record,
      lease,
      reason: `request ${record.requestId} is being processed by ${lease.owner} (lease until ${lease.expiresAt})`,
    };
  }

  async function fail(record: LedgerRecord, reason: string, note?: string): Promise<StepResult> {
    log.warn("request failed", { requestId: record.requestId, state: record.state, reason });
    const failed = await update(record, { state: "FAILED", failureReason: reason, note: note ?? reason });
    return { stop: { status: "terminal", record: failed } };
  }

  async function advance(record: LedgerRecord, state: RequestState, note: string, patch: LedgerPatch = {}) {
    log.info(`${record.state} -> ${state}`, { requestId: record.requestId, note });
    return { next: await update(record, { ...patch, state, note }) } satisfies StepResult;
  }

  /**
   * Moves on after a step that is safe to repeat (a move, tags, a deployment that reported `deployed`, or
   * learning an account id AWS reports again on every look) without writing: the step is carried by the call's
   * next write. A call that stops before that write leaves the record at its last written state, and the next
   * pick-up repeats the step, which changes nothing. Outside a `processRequest` call it writes at once.
   */
  function advanceLater(
    record: LedgerRecord,
    state: RequestState,
    note: string,
    fields: { accountId?: string } = {},
  ): StepResult {
    const session = sessions.getStore();
    if (session === undefined || session.email !== record.email) {
      throw new WorkflowRecordError(`advanceLater outside the processRequest call of ${record.email}`);
    }
    log.info(`${record.state} -> ${state}`, { requestId: record.requestId, note });
    session.pending.steps.push({ state, note });
    if (fields.accountId !== undefined) session.pending.accountId = fields.accountId;
    const at = timing.now().toISOString();
    const next: LedgerRecord = {
      ...record,
      ...(fields.accountId !== undefined ? { accountId: fields.accountId } : {}),
      state,
      history: [...record.history, { at, state, note }],
    };
    options.onStep?.(next);
    return { next };
  }

  /** Where an account goes after it exists (created, adopted or given by meshStack). */
  function afterAccountKnown(input: WorkflowInput, record: LedgerRecord): RequestState {
    return targetOuOf(input, record) !== undefined ? "MOVING" : "TAGGING";
  }

  /** Only vend requests move accounts: a meshStack hook never does, whatever its stored request holds. */
  function targetOuOf(input: WorkflowInput, record: LedgerRecord): string | undefined {
    if (record.kind !== "vend") return undefined;
    return input.targetOu ?? options.defaultTargetOu;
  }

  async function stepReceived(record: LedgerRecord, input: WorkflowInput, deadline: number): Promise<StepResult> {
    if (record.accountId) {
      return advanceLater(record, afterAccountKnown(input, record), `account ${record.accountId} already exists`);
    }
    // Validate before any side effect: a target OU that does not exist fails the request before CreateAccount,
    // so it can be submitted again with a corrected OU.
    const target = targetOuOf(input, record);
    if (target !== undefined) {
      try {
        await organizations.resolveOrganizationalUnit(target);
      } catch (error) {
        if (error instanceof OrganizationalUnitPathError) return fail(record, error.message);
        if (error instanceof OrganizationsRequestError) return fail(record, `target OU "${target}": ${error.message}`);
        throw error;
      }
    }
    if (createAttempts(record).total > 0) {
      // A retried request whose earlier CreateAccount may have created the account: look before creating.
      const inFlight = await waitForCreatesInFlight(input, deadline);
      const existing = await organizations.findAccountByEmail(input.email);
      if (existing) return adopt(record, input, existing, `found account ${existing.id} of an earlier attempt`);
      if (inFlight.length > 0) {
        return {
          stop: {
            status: "deferred",
            record,
            reason: `an earlier CreateAccount may still be creating the account (${inFlight.join(", ")} in progress)`,
          },
        };
      }
    }
    return advanceLater(record, "CREATING", "creating account");
  }

  /**
   * CreateAccount requests for this account name that AWS still reports IN_PROGRESS. ListCreateAccountStatus
   * names no email, so a match may be another request with the same name: callers only ever wait for one,
   * never adopt it.
   */
  async function createsInFlight(input: WorkflowInput): Promise<string[]> {
    const requests = await organizations.listCreateAccountRequests(["IN_PROGRESS"]);
    return requests.filter((request) => request.accountName === input.accountName).map((r) => r.requestId);
  }

  /**
   * After EMAIL_ALREADY_EXISTS: adopts the organization's account with this email, else fails with the reason.
   * When an earlier attempt of this request was interrupted before its id was stored, its account may still be
   * on its way: keeps looking (on the poll schedule, within the deadline, then deferred) while a CreateAccount
   * for this account name is in flight or the grace period since that attempt lasts.
   */
  async function adoptOrFail(
    record: LedgerRecord,
    input: WorkflowInput,
    reason: string,
    deadline: number,
  ): Promise<StepResult> {
    const { interruptedAt } = createAttempts(record);
    const graceEnds = interruptedAt === undefined ? undefined : Date.parse(interruptedAt) + interruptedCreateGraceMs;
    let interval = poll.firstIntervalMs;
    for (;;) {
      // In-flight requests first, then the account: a create that finishes in between shows up in the second
      // answer. Only an interrupted attempt of ours can be in flight unseen.
      const inFlight = graceEnds === undefined ? [] : await createsInFlight(input);
      const existing = await organizations.findAccountByEmail(input.email);
      if (existing && graceEnds === undefined && record.request[ADOPT_EXISTING_KEY] === false) {
        // Came through AVMEntryPoint without entryPointAdoption: an account this request did not create is
        // an operator's to adopt, never a caller's.
        return fail(
          record,
          `${reason}: account ${existing.id} has this email and was not created by this request; adopting existing accounts through AVMEntryPoint is disabled (entryPointAdoption)`,
        );
      }
      if (existing) return adopt(record, input, existing, `${reason}: adopted existing account ${existing.id}`);
      if (graceEnds === undefined || (inFlight.length === 0 && timing.now().getTime() >= graceEnds)) {
        return fail(record, reason, `${reason}: no account with this email in the organization`);
      }
      if (timing.now().getTime() + interval > deadline) {
        return {
          stop: {
            status: "deferred",
            record,
            reason: `${reason}: an interrupted CreateAccount may still be creating the account`,
          },
        };
      }
      await timing.sleep(interval);
      await renewIfDue();
      interval = Math.min(poll.maxIntervalMs, interval * 2);
    }
  }

  async function adopt(
    record: LedgerRecord,
    input: WorkflowInput,
    account: OrganizationAccount,
    note: string,
  ): Promise<StepResult> {
    await createSlots.release(record.requestId);
    // One record per account id: never adopt an account another request already holds.
    const holder = await ledger.getByAccountId(account.id);
    if (holder && holder.email !== record.email) {
      return fail(
        record,
        `IDENTITY_CONFLICT: account ${account.id} is already recorded for ${holder.email} (request ${holder.requestId}), not ${record.email}`,
      );
    }
    return advance(record, afterAccountKnown(input, record), note, { accountId: account.id });
  }

  async function waitForSlot(record: LedgerRecord, deadline: number): Promise<boolean> {
    for (let retry = 0; ; retry += 1) {
      if (await createSlots.acquire(record.requestId)) return true;
      const delay = backoffDelay(retry, slotWait, timing.random());
      if (timing.now().getTime() + delay > deadline) return false;
      await timing.sleep(delay);
      await renewIfDue();
    }
  }

  /**
   * After a CreateAccount whose outcome is unknown (its reply was lost, or the worker stopped before storing its
   * id, at `since`): looks for its account on the poll schedule until it shows up (then adopts it), or until no
   * CreateAccount for the account name is in flight and the grace period {@link WorkflowOptions.unknownOutcomeGraceMs}
   * since that attempt is over (then `undefined`: the caller may issue CreateAccount again; AWS's email
   * uniqueness still guards that call). ListAccounts shows an account only once it is created, so each round asks
   * for creates in flight first and for the email second: a create that finishes in between shows up in the second
   * answer. Returns `deferred` when the deadline comes first.
   */
  async function lookForEarlierCreate(
    record: LedgerRecord,
    input: WorkflowInput,
    deadline: number,
    since: string | undefined,
  ): Promise<StepResult | undefined> {
    const graceEnds = since === undefined ? 0 : Date.parse(since) + unknownOutcomeGraceMs;
    let interval = poll.firstIntervalMs;
    for (;;) {
      const inFlight = await createsInFlight(input);
      const existing = await organizations.findAccountByEmail(input.email);
      if (existing) {
        return adopt(record, input, existing, `found account ${existing.id} after an interrupted CreateAccount`);
      }
      if (inFlight.length === 0 && timing.now().getTime() >= graceEnds) return undefined;
      if (timing.now().getTime() + interval > deadline) {
        const reason =
          inFlight.length > 0
            ? `an interrupted CreateAccount may still be creating the account (${inFlight.join(", ")} in progress)`
            : `an interrupted CreateAccount may still be creating the account (looking until ${new Date(graceEnds).toISOString()})`;
        return { stop: { status: "deferred", record, reason } };
      }
      await timing.sleep(interval);
      await renewIfDue();
      interval = Math.min(poll.maxIntervalMs, interval * 2);
    }
  }

  /**
   * Waits on the poll schedule, up to the deadline, until no CreateAccount for this account name is in flight.
   * @returns the request ids still in flight when the deadline came (empty when none are).
   */
  async function waitForCreatesInFlight(input: WorkflowInput, deadline: number): Promise<string[]> {
    let interval = poll.firstIntervalMs;
    for (;;) {
      const inFlight = await createsInFlight(input);
      if (inFlight.length === 0 || timing.now().getTime() + interval > deadline) return inFlight;
      await timing.sleep(interval);
      await renewIfDue();
      interval = Math.min(poll.maxIntervalMs, interval * 2);
    }
  }

  /** CREATING: issue CreateAccount (bounded attempts) and poll it to a terminal status. */
  async function stepCreating(record: LedgerRecord, input: WorkflowInput, deadline: number): Promise<StepResult> {
    let current = record;
    let resumeFromStore = true;
    for (;;) {
      const { issued, unconfirmed, unconfirmedAt, interruptedAt } = createAttempts(current);
      let status: CreateAccountStatusView | undefined;
      if (current.createAccountRequestId && !unconfirmed && resumeFromStore) {
        // Resume: never a second CreateAccount for a persisted request id.
        // Hold (or renew) this request's slot while its CreateAccount is in flight; polling proceeds either way.
        void (await createSlots.acquire(current.requestId));
        status = await organizations.describeCreateAccountStatus(current.createAccountRequestId);
      } else {
        if (unconfirmed || interruptedAt !== undefined) {
          // A CreateAccount of this request may have reached AWS without its id being stored: its reply was lost
          // (unknown outcome), or a worker stopped between the call and the write (a crash, or another worker
          // took the record over). Look before acting, never issue another CreateAccount while one may still be
          // creating this account or has created it.
          void (await createSlots.acquire(current.requestId));
          const since = unconfirmed ? unconfirmedAt : interruptedAt;
          const looked = await lookForEarlierCreate(current, input, deadline, since);
          if (looked !== undefined) return looked;
        }
        if (issued >= maxCreateAttempts) {
          await createSlots.release(current.requestId);
          const reason = `CREATE_ATTEMPTS_EXHAUSTED: CreateAccount attempt ${issued} of ${maxCreateAttempts} was interrupted before its request id was stored and no account with this email exists`;
          return fail(current, reason);
        }
        if (!(await waitForSlot(current, deadline))) {
          return { stop: { status: "deferred", record: current, reason: "every CreateAccount slot is taken" } };
        }
        const attempt = issued + 1;
        current = await update(current, {
          note: `CreateAccount attempt ${attempt} issuing`,
          state: "CREATING",
          createAttempts: attemptIssued(current, timing.now().toISOString()),
        });
        try {
          status = await organizations.createAccount({ email: input.email, accountName: input.accountName, roleName });
        } catch (error) {
          if (error instanceof OrganizationsUnknownOutcomeError) {
            // AWS may have accepted it (e.g. the reply was lost): the attempt stays unconfirmed, so the next round
            // of this loop looks (creates in progress, the organization) before it would ever create again.
            log.warn("CreateAccount outcome unknown; looking before acting", {
              requestId: current.requestId,
              attempt,
              reason: error.message,
            });
            current = await update(current, { note: `CreateAccount attempt ${attempt} ${error.message}` });
            resumeFromStore = false;
            continue;
          }
          await createSlots.release(current.requestId);
          if (error instanceof OrganizationsRequestError) return fail(current, error.message);
          if (error instanceof OrganizationsError) {
            // AWS answered (throttled to the end): no account was created, so this attempt does not count.
            await update(current, {
              state: "CREATING",
              note: `CreateAccount attempt ${attempt} rejected: ${error.message}`,
              createAttempts: attemptRejected(current),
            });
          }
          throw error;
        }
        current = await update(current, {
          createAccountRequestId: status.requestId,
          note: `CreateAccount attempt ${attempt} request ${status.requestId}`,
          state: "CREATING",
          createAttempts: attemptConfirmed(current),
        });
        log.info("CreateAccount issued", {
          requestId: current.requestId,
          createAccountRequestId: status.requestId,
          attempt,
        });
      }
      resumeFromStore = true;

      // Poll with a short first interval and capped doubling.
      let interval = poll.firstIntervalMs;
      while (status.state === "IN_PROGRESS") {
        if (timing.now().getTime() + interval > deadline) {
          return {
            stop: {
              status: "deferred",
              record: current,
              reason: `CreateAccount ${status.requestId} still in progress`,
            },
          };
        }
        await timing.sleep(interval);
        await renewIfDue();
        interval = Math.min(poll.maxIntervalMs, interval * 2);
        void (await createSlots.acquire(current.requestId));
        status = await organizations.describeCreateAccountStatus(status.requestId);
      }

      if (status.state === "SUCCEEDED") {
        await createSlots.release(current.requestId);
        if (!status.accountId)
          throw new WorkflowRecordError(`CreateAccount ${status.requestId} succeeded without an account id`);
        return advanceLater(current, afterAccountKnown(input, current), `account ${status.accountId} created`, {
          accountId: status.accountId,
        });
      }
      const reason = status.failureReason ?? "UNKNOWN";
      if (reason === "EMAIL_ALREADY_EXISTS") {
        await createSlots.release(current.requestId);
        return adoptOrFail(current, input, reason, deadline);
      }
      if (!RETRYABLE_CREATE_FAILURES.has(reason)) {
        await createSlots.release(current.requestId);
        return fail(current, reason, `CreateAccount ${status.requestId} failed: ${reason}`);
      }
      const done = createAttempts(current).issued;
      if (done >= maxCreateAttempts) {
        await createSlots.release(current.requestId);
        return fail(current, reason, `CreateAccount failed with ${reason} ${done} times; giving up`);
      }
      // Keep the slot and issue CreateAccount again after a jittered backoff.
      const delay = backoffDelay(done - 1, createRetry, timing.random());
      log.warn("CreateAccount failed with a retryable reason", {
        requestId: current.requestId,
        reason,
        attempt: done,
        delayMs: delay,
      });
      if (timing.now().getTime() + delay > deadline) {
        return { stop: { status: "deferred", record: current, reason: `retrying CreateAccount after ${reason}` } };
      }
      await timing.sleep(delay);
      await renewIfDue();
      resumeFromStore = false;
    }
  }

  async function stepMoving(record: LedgerRecord, input: WorkflowInput): Promise<StepResult> {
    const accountId = requireAccountId(record);
    const target = targetOuOf(input, record);
    if (target === undefined) return advanceLater(record, "TAGGING", "no target OU");
    let targetId: string;
    try {
      targetId = await organizations.resolveOrganizationalUnit(target);
    } catch (error) {
      if (error instanceof OrganizationalUnitPathError || error instanceof OrganizationsRequestError) {
        return fail(record, error.message);
      }
      throw error;
    }
    const parentId = await organizations.getParentId(accountId);
    const moved = await organizations.moveAccount(accountId, parentId, targetId);
    return advanceLater(
      record,
      "TAGGING",
      moved === "moved" ? `moved from ${parentId} to ${targetId}` : `already in ${targetId}`,
    );
  }

  async function stepTagging(record: LedgerRecord, input: WorkflowInput): Promise<StepResult> {
    const accountId = requireAccountId(record);
    await organizations.tagAccount(accountId, input.tags);
    return advanceLater(record, "BOOTSTRAPPING", `tagged with ${Object.keys(input.tags).length} tag(s)`);
  }

  async function stepBootstrapping(record: LedgerRecord, input: WorkflowInput): Promise<StepResult> {
    const accountId = requireAccountId(record);
    const awaited = record.awaitedDeployment ?? legacyAwaitedDeployment(record);
    if (awaited !== undefined) {
      const age = timing.now().getTime() - Date.parse(awaited.queuedAt);
      if (age < stackQueuedTimeoutMs) {
        return {
          stop: { status: "waiting", record, reason: "account stack deployment queued; waiting for its webhook" },
        };
      }
      log.warn("queued account stack deployment never reported; deploying again", {
        requestId: record.requestId,
        accountId,
      });
    }
    const result = await underLease(record, () =>
      stackRunner.deploy({
        accountId,
        accountName: input.accountName,
        email: input.email,
        requestId: record.requestId,
        tags: input.tags,
      }),
    );
    const where = result.url ? ` (${result.url})` : "";
    if (result.status === "planned") {
      // Planned is not deployed: no completion tags (meshStack would take the account as ready), no SUCCEEDED.
      const planned = await update(record, {
        state: "PLANNED",
        note: `account stack planned only: ${result.summary}; nothing deployed, no completion tags`,
      });
      return { stop: { status: "terminal", record: planned } };
    }
    if (result.status === "queued") {
      const queued = await update(record, {
        state: "BOOTSTRAPPING",
        note: `account stack queued: ${result.summary}${where}`,
        awaitedDeployment: {
          queuedAt: timing.now().toISOString(),
          ...(result.deploymentVersion !== undefined ? { version: result.deploymentVersion } : {}),
          ...(result.url !== undefined ? { url: result.url } : {}),
        },
      });
      return { stop: { status: "waiting", record: queued, reason: result.summary } };
    }
    return advanceLater(record, "COMPLETING", `account stack ${result.status}: ${result.summary}${where}`);
  }

  async function stepCompleting(record: LedgerRecord, input: WorkflowInput): Promise<StepResult> {
    const accountId = requireAccountId(record);
    const completion: Record<string, string> = {};
    if (input.productName !== undefined) completion["ProductName"] = input.productName;
    if (input.stage !== undefined) completion["Stage"] = input.stage;
    await organizations.tagAccount(accountId, completion);
    const note =
      Object.keys(completion).length > 0 ? "completion tags ProductName and Stage written" : "no completion tags";
    return advance(record, "SUCCEEDED", note);
  }

  async function step(record: LedgerRecord, deadline: number): Promise<StepResult> {
    const input = workflowInputOf(record);
    switch (record.state) {
      case "RECEIVED":
        return stepReceived(record, input, deadline);
      case "CREATING":
        return stepCreating(record, input, deadline);
      case "MOVING":
        return stepMoving(record, input);
      case "TAGGING":
        return stepTagging(record, input);
      case "BOOTSTRAPPING":
        return stepBootstrapping(record, input);
      case "COMPLETING":
        return stepCompleting(record, input);
      default:
        return { stop: { status: "skipped", reason: `record is ${record.state}` } };
    }
  }

  async function processRequest(email: string, processOptions: ProcessOptions = {}): Promise<ProcessOutcome> {
    const deadline = processOptions.deadline?.getTime() ?? timing.now().getTime() + maxWaitMs;
    const found = await ledger.get(email);
    if (!found) return { status: "skipped", reason: "no ledger record for this email" };
    if (TERMINAL_STATES.has(found.state)) return { status: "terminal", record: found };
    const held = activeLease(found, timing.now());
    if (held) return busy(found, held);
    calls += 1;
    // The pick-up (attempts + 1 and the lease) is carried by the call's first write, a compare-and-set on the
    // version read here: before it the call only reads and repeats idempotent steps, and of two concurrent
    // runners only one gets past it (before CreateAccount, before a deployment, before any waiting loop).
    const session: LeaseSession = {
      email: found.email,
      owner: `${leaseOwner} #${calls}`,
      latest: found,
      wrote: false,
      pending: { attempts: found.attempts + 1, steps: [] },
    };
    return sessions.run(session, () => runWithDeadline(deadline, () => drive(email, found, session, deadline)));
  }

  /** The body of {@link processRequest} under the call's lease session and deadline. */
  async function drive(
    email: string,
    found: LedgerRecord,
    session: LeaseSession,
    deadline: number,
  ): Promise<ProcessOutcome> {
    try {
      let record = found;
      for (;;) {
        if (TERMINAL_STATES.has(record.state)) return { status: "terminal", record };
        const result = await step(record, deadline);
        if ("stop" in result) return result.stop;
        record = result.next;
      }
    } catch (error) {
      if (error instanceof Superseded) {
        const latest = await ledger.get(email);
        const lease = latest && activeLease(latest, timing.now());
        if (latest && lease && lease.owner !== session.owner) return busy(latest, lease);
        log.info("another worker is on this request", { requestId: found.requestId });
        return { status: "skipped", reason: SUPERSEDED_REASON };
      }
      if (error instanceof OrganizationsDeadlineError) {
        // Throttled until the deadline: nothing failed for good; pick the request up again later.
        const latest = (await ledger.get(email)) ?? session.latest;
        log.warn("Organizations retries stopped at the deadline; deferring", {
          requestId: found.requestId,
          reason: error.message,
        });
        return { status: "deferred", record: latest, reason: error.message };
      }
      if (error instanceof OrganizationsRequestError || error instanceof OrganizationalUnitPathError) {
        // A terminal AWS answer in a step that has no specific handling: the request cannot complete.
        return failLatest(email, error.message);
      }
      throw error;
    } finally {
      await release(session);
    }
  }

  /** Marks the current version FAILED (after a step threw a terminal AWS error). */
  async function failLatest(email: string, reason: string): Promise<ProcessOutcome> {
    const latest = await ledger.get(email);
    if (!latest) return { status: "skipped", reason: "no ledger record for this email" };
    if (TERMINAL_STATES.has(latest.state)) return { status: "terminal", record: latest };
    try {
      const result = await fail(latest, reason);
      return "stop" in result ? result.stop : { status: "terminal", record: result.next };
    } catch (error) {
      if (error instanceof Superseded) return { status: "skipped", reason: SUPERSEDED_REASON };
      throw error;
    }
  }

  async function closeQuota(): Promise<CloseQuota> {
    const { managementAccountId } = await organizations.describeOrganization();
    const accounts = (await organizations.listAccounts()).filter((account) => account.id !== managementAccountId);
    const now = timing.now().getTime();
    // Closures the AVM made, with their time: a CLOSING entry in the history.
    const closedAt = new Map<string, number>();
    for (const record of await ledger.list({ states: ["CLOSING", "CLOSED"] })) {
      const entry = record.history.find((h) => h.state === "CLOSING");
      if (record.accountId && entry) closedAt.set(record.accountId, Date.parse(entry.at));
    }
    const counted = new Set<string>();
    for (const [accountId, at] of closedAt) if (now - at < CLOSE_WINDOW_MS) counted.add(accountId);
    for (const account of accounts) {
      if (account.status === "PENDING_CLOSURE") counted.add(account.id);
      // SUSPENDED accounts stay listed for 90 days after closing; without a date we count them (conservative)
      // unless the ledger shows they were closed more than 30 days ago.
      if (
        account.status === "SUSPENDED" &&
        !(closedAt.has(account.id) && now - closedAt.get(account.id)! >= CLOSE_WINDOW_MS)
      ) {
        counted.add(account.id);
      }
    }
    const memberAccounts = accounts.filter((account) => account.status === "ACTIVE").length;
    const allowed = Math.min(1000, Math.max(10, Math.floor(memberAccounts / 10)));
    return { memberAccounts, allowed, used: counted.size, remaining: Math.max(0, allowed - counted.size) };
  }

  async function closeAccount(request: CloseAccountRequest): Promise<CloseAccountOutcome> {
    const { accountId } = request;
    if (!/^\d{12}$/.test(accountId))
      throw new CloseRefusedError(`accountId must be a 12-digit AWS account id, got "${accountId}"`);
    const { managementAccountId } = await organizations.describeOrganization();
    if (accountId === managementAccountId) {
      throw new CloseRefusedError(
        `refusing to close account ${accountId}: it is the organization's management account`,
      );
    }
    const account = await organizations.describeAccount(accountId);
    // Found by the account-id index, then read by email: the close writes with the current version.
    const hit = await ledger.getByAccountId(accountId);
    let record = hit && (await ledger.get(hit.email));
    const reasonNote = request.reason ? `: ${request.reason}` : "";
    if (account.status === "SUSPENDED" || account.status === "PENDING_CLOSURE" || account.status === "CLOSED") {
      if (record && record.state !== "CLOSED") {
        record = await ledger.update(
          record.email,
          record.version,
          { state: "CLOSED", note: `account already ${account.status}` },
          timing.now(),
        );
      }
      return { accountId, status: "already-closed", ...(record ? { record } : {}) };
    }
    if (record && record.state !== "SUCCEEDED" && record.state !== "FAILED" && record.state !== "CLOSING") {
      throw new CloseRefusedError(
        `refusing to close account ${accountId}: its request ${record.requestId} is still ${record.state}; wait until it ends`,
      );
    }
    const quota = await closeQuota();
    const alreadyCounted = record?.state === "CLOSING";
    if (!alreadyCounted && quota.used + 1 > quota.allowed) throw new CloseQuotaExceededError(accountId, quota);
    const previous = record?.state;
    if (record && record.state !== "CLOSING") {
      record = await ledger.update(
        record.email,
        record.version,
        { state: "CLOSING", note: `close requested${reasonNote}` },
        timing.now(),
      );
    }
    let result;
    try {
      result = await organizations.closeAccount(accountId);
    } catch (error) {
      if (record && previous && previous !== "CLOSING") {
        // Put the record back where it was: the account is not closing.
        await ledger.update(
          record.email,
          record.version,
          { state: previous, note: `CloseAccount refused: ${describeError(error)}` },
          timing.now(),
        );
      }
      throw error;
    }
    if (record) {
      record = await ledger.update(
        record.email,
        record.version,
        { state: "CLOSED", note: `CloseAccount ${result}` },
        timing.now(),
      );
    }
    log.info("account close requested", { accountId, result, quotaUsed: quota.used + 1, quotaAllowed: quota.allowed });
    return {
      accountId,
      status: result === "already-closed" ? "already-closed" : "close-requested",
      quota,
      ...(record ? { record } : {}),
    };
  }

  return { processRequest, closeAccount, closeQuota };
}

/**
 * The queued deployment of a record written before `awaitedDeployment` was a field: its last history entry is the
 * BOOTSTRAPPING `account stack queued` note.
 */
function legacyAwaitedDeployment(record: LedgerRecord): { queuedAt: string } | undefined {
  const last = record.history.at(-1);
  if (last?.state !== "BOOTSTRAPPING" || last.note === undefined || !STACK_QUEUED.test(last.note)) return undefined;
  return { queuedAt: last.at };
}

function requireAccountId(record: LedgerRecord): string {
  if (!record.accountId)
    throw new WorkflowRecordError(`ledger record ${record.requestId} is ${record.state} without an account id`);
  return record.accountId;
}
