/**
 * Reconciles the work queue's dead-letter queue with the ledger, so that every accepted request still ends
 * SUCCEEDED or FAILED with a reason.
 *
 * The worker records a failure itself when a step throws on the last allowed delivery: FAILED, or only a note
 * when a CreateAccount call may have made an account whose id the ledger does not know yet. And when the worker
 * Lambda dies during that delivery (timeout, out of memory, the ledger unreachable), SQS moves the message to
 * the dead-letter queue while the record stays where it was (e.g. CREATING). {@link reconcileDeadLetters}
 * finds those records and ends or resumes them.
 *
 * The rule, per dead-letter message (see {@link reconcileDeadLetters}):
 * - unreadable body: reported as `unreadable` and left in the queue (an operator looks at it);
 * - no ledger record for the email, or one with another request id: `skipped` and left (never delete what
 *   this ledger cannot explain, e.g. when pointed at the wrong ledger);
 * - record terminal (SUCCEEDED, FAILED, CLOSED) or not driven by the worker (CLOSING): `skipped`, message deleted;
 * - record in a workflow state and an account exists or may exist (an account id is stored, a CreateAccount
 *   request id is stored, or a CreateAccount call was issued): `requeued` - a history note
 *   `re-driven from the dead-letter queue (n of max) ...` is written, the work item goes back on the work queue
 *   (the workflow resumes from the stored state, e.g. polls the stored CreateAccount request id, and never
 *   creates a second account), then the message is deleted. Failing such a record would leave an account the
 *   AVM made with a request that says it failed.
 * - every other record in a workflow state (no account can exist), and a record already re-driven
 *   `maxRedrives` times (a poison request): `failed` - compare-and-set to FAILED with the reason
 *   `dead-lettered in <state> after <ApproximateReceiveCount> deliveries`, then the message is deleted.
 *
 * A message is deleted only after its ledger write (and re-enqueue) succeeded; a lost compare-and-set
 * (another worker is on the record) leaves the message for the next run.
 */
import { LedgerConflictError, TERMINAL_STATES, WORKFLOW_STATES, type LedgerRecord, type RequestState } from "../ledger";
import { silentLogger, type Ledger, type Logger } from "../ports";
import type { Timing } from "../../shared/timing";
import type { WorkQueue } from "../ports";
import { parseWorkItem } from "../workItem";
import { createAttempts } from "./createAttempts";

/** One message received from the dead-letter queue. */
export interface DeadLetterMessage {
  readonly messageId: string;
  /** The raw body (a JSON work item when written by the entry point or worker). */
  readonly body: string;
  /** `ApproximateReceiveCount` as SQS reports it (deliveries from the work queue plus receives here). */
  readonly receiveCount: number;
  /** Handle for {@link DeadLetterQueue.delete} and {@link DeadLetterQueue.release}. */
  readonly receiptHandle: string;
}

/** The consumer side of the dead-letter queue that {@link reconcileDeadLetters} needs. */
export interface DeadLetterQueue {
  /** Up to `maxMessages` (1-10) visible messages, hidden from other consumers for a while; empty when none. */
  receive(maxMessages: number): Promise<DeadLetterMessage[]>;
  /** Deletes a received message for good. */
  delete(message: DeadLetterMessage): Promise<void>;
  /** Makes a received message visible again now (used for every message a run leaves in the queue). */
  release(message: DeadLetterMessage): Promise<void>;
}

/** Default of {@link ReconcileOptions.maxMessages}. */
export const DEFAULT_RECONCILE_MAX_MESSAGES = 100;

/** Default of {@link ReconcileOptions.maxRedrives}. */
export const DEFAULT_MAX_REDRIVES = 3;

/** Start of the history note written when a record is re-driven (counted to bound re-drives). */
export const REDRIVE_NOTE_PREFIX = "re-driven from the dead-letter queue";

/** Options of {@link reconcileDeadLetters}. */
export interface ReconcileOptions {
  readonly ledger: Ledger;
  readonly deadLetters: DeadLetterQueue;
  /**
   * Where re-driven work items go (the work queue). Without it, records that would be re-driven are
   * `skipped` and their messages left in the dead-letter queue.
   */
  readonly workQueue?: WorkQueue;
  readonly timing: Timing;
  readonly logger?: Logger;
  /** Most messages examined in one run. Default {@link DEFAULT_RECONCILE_MAX_MESSAGES}. */
  readonly maxMessages?: number;
  /** Re-drives per record before it is marked FAILED instead. Default {@link DEFAULT_MAX_REDRIVES}. */
  readonly maxRedrives?: number;
  /** Decide and report only: no ledger write, no enqueue, no delete; every message is released. */
  readonly dryRun?: boolean;
}

/** What was (or, in a dry run, would be) done with one message. */
export type ReconcileAction = "failed" | "requeued" | "skipped" | "unreadable";

/** The outcome for one dead-letter message. */
export interface ReconciledMessage {
  readonly messageId: string;
  readonly action: ReconcileAction;
  /** Why, in one line (the failure reason for `failed`). */
  readonly reason: string;
  /** True when the message was deleted from the dead-letter queue (never in a dry run). */
  readonly deleted: boolean;
  readonly receiveCount: number;
  /** Present once the body was readable. */
  readonly email?: string;
  readonly requestId?: string;
  /** The record's state when examined. */
  readonly state?: RequestState;
}

/** Result of {@link reconcileDeadLetters}. */
export interface ReconcileResult {
  /** Messages examined (each counted once per run). */
  readonly examined: number;
  readonly failed: number;
  readonly requeued: number;
  readonly skipped: number;
  readonly unreadable: number;
  readonly dryRun: boolean;
  readonly messages: readonly ReconciledMessage[];
}

/** Bad arguments to {@link reconcileDeadLetters}. */
export class ReconcileError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The failure reason of a record whose message was dead-lettered in `state`. `receiveCount` is SQS's
 * `ApproximateReceiveCount`, which carries over into the dead-letter queue and counts the reconcile receive
 * too: with `maxReceiveCount` 5 the first reconcile reports 6.
 */
export function deadLetterReason(state: RequestState, receiveCount: number): string {
  return `dead-lettered in ${state} after ${receiveCount} deliveries`;
}

/**
 * Times the record was re-driven from the dead-letter queue: its `redrives` field, or (records written before it
 * was a field) its re-drive history notes.
 */
export function redriveCount(record: Pick<LedgerRecord, "history" | "redrives">): number {
  if (record.redrives !== undefined) return record.redrives;
  return record.history.filter((entry) => entry.note?.startsWith(REDRIVE_NOTE_PREFIX) === true).length;
}

/** Why an account exists or may exist for the record (then failing it blindly could orphan it), or undefined. */
export function accountEvidence(record: LedgerRecord): string | undefined {
  if (record.accountId !== undefined) return `account ${record.accountId} exists`;
  if (record.createAccountRequestId !== undefined) return `CreateAccount request ${record.createAccountRequestId}`;
  if (createAttempts(record).issued > 0) return "a CreateAccount call was issued";
  return undefined;
}

type Decision =
  | { readonly action: "skipped"; readonly reason: string; readonly delete: boolean }
  | { readonly action: "failed"; readonly reason: string; readonly note: string; readonly failureReason: string }
  | { readonly action: "requeued"; readonly reason: string; readonly note: string; readonly redrives: number };

function decide(record: LedgerRecord, message: DeadLetterMessage, maxRedrives: number, canRequeue: boolean): Decision {
  if (TERMINAL_STATES.has(record.state)) {
    return { action: "skipped", reason: `record is already ${record.state}`, delete: true };
  }
  if (!WORKFLOW_STATES.has(record.state)) {
    return { action: "skipped", reason: `record is ${record.state}, which the worker does not drive`, delete: true };
  }
  const reason = deadLetterReason(record.state, message.receiveCount);
  const evidence = accountEvidence(record);
  const redrives = redriveCount(record);
  if (evidence !== undefined && redrives < maxRedrives) {
    if (!canRequeue) {
      return {
        action: "skipped",
        reason: `${reason}; ${evidence}, so it must be re-driven, but no work queue was given`,
        delete: false,
      };
    }
    const note = `${REDRIVE_NOTE_PREFIX} (${redrives + 1} of ${maxRedrives}): ${reason}; ${evidence}`;
    return { action: "requeued", reason: note, note, redrives: redrives + 1 };
  }
  const lastNote = record.history.at(-1)?.note;
  const bound = evidence !== undefined ? `; ${evidence} but it was re-driven ${redrives} times already` : "";
  const failureReason = record.failureReason !== undefined ? `${reason}; earlier: ${record.failureReason}` : reason;
  const note = `${reason}${bound}${lastNote !== undefined ? `; last note: ${lastNote}` : ""}`;
  return { action: "failed", reason: failureReason, note, failureReason };
}

/**
 * Drains the dead-letter queue (up to `maxMessages`) and ends or resumes each message's request; see the
 * module documentation for the rule. Stops when the queue has no visible message left. Ledger, queue and
 * enqueue errors (other than a lost compare-and-set) end the run with that error; whatever was done before
 * stays done, and a rerun continues safely (every step is idempotent).
 * @throws ReconcileError for a bad `maxMessages` or `maxRedrives`
 */
export async function reconcileDeadLetters(options: ReconcileOptions): Promise<ReconcileResult> {
  const { ledger, deadLetters, workQueue, timing } = options;
  const log: Logger = options.logger ?? silentLogger;
  const maxMessages = options.maxMessages ?? DEFAULT_RECONCILE_MAX_MESSAGES;
  const maxRedrives = options.maxRedrives ?? DEFAULT_MAX_REDRIVES;
  const dryRun = options.dryRun === true;
  if (!Number.isInteger(maxMessages) || maxMessages < 1) {
    throw new ReconcileError(`maxMessages must be a positive integer, got ${maxMessages}`);
  }
  if (!Number.isInteger(maxRedrives) || maxRedrives < 0) {
    throw new ReconcileError(`maxRedrives must be a non-negative integer, got ${maxRedrives}`);
  }

  const results: ReconciledMessage[] = [];
  const seen = new Set<string>();
  const left: DeadLetterMessage[] = [];

  async function handle(message: DeadLetterMessage): Promise<ReconciledMessage> {
    const base = { messageId: message.messageId, receiveCount: message.receiveCount };
    let item;
    try {
      item = parseWorkItem(message.body);
    } catch (error) {
      left.push(message);
      return { ...base, action: "unreadable", reason: (error as Error).message, deleted: false };
    }
    const ids = { ...base, email: item.email, requestId: item.requestId };
    const record = await ledger.get(item.email);
    if (!record || record.requestId !== item.requestId) {
      left.push(message);
      const reason = record
        ? `the ledger record for this email has request id ${record.requestId}; left in the queue`
        : "no ledger record for this email; left in the queue";
      return { ...ids, action: "skipped", reason, deleted: false };
    }
    const withState = { ...ids, state: record.state };
    const decision = decide(record, message, maxRedrives, workQueue !== undefined);
    if (dryRun || (decision.action === "skipped" && !decision.delete)) {
      left.push(message);
      return { ...withState, action: decision.action, reason: decision.reason, deleted: false };
    }
    try {
      if (decision.action === "failed") {
        await ledger.update(
          record.email,
          record.version,
          { state: "FAILED", failureReason: decision.failureReason, note: decision.note },
          timing.now(),
        );
      } else if (decision.action === "requeued") {
        // Note first: the re-drive bound counts even if the enqueue below fails and the run is repeated.
        await ledger.update(
          record.email,
          record.version,
          { note: decision.note, redrives: decision.redrives },
          timing.now(),
        );
        await workQueue!.enqueue(item);
      }
    } catch (error) {
      if (!(error instanceof LedgerConflictError)) throw error;
      left.push(message);
      return {
        ...withState,
        action: "skipped",
        reason: "the record changed while reconciling (another worker is on it); left for the next run",
        deleted: false,
      };
    }
    await deadLetters.delete(message);
    return { ...withState, action: decision.action, reason: decision.reason, deleted: true };
  }

  try {
    while (results.length < maxMessages) {
      const batch = await deadLetters.receive(Math.min(10, maxMessages - results.length));
      const fresh = batch.filter((message) => !seen.has(message.messageId));
      if (fresh.length === 0) break;
      for (const message of fresh) {
        if (results.length >= maxMessages) {
          left.push(message);
          continue;
        }
        seen.add(message.messageId);
        let result: ReconciledMessage;
        try {
          result = await handle(message);
        } catch (error) {
          left.push(message);
          throw error;
        }
        results.push(result);
        const fields = { ...result };
        if (result.action === "failed") log.warn("dead-lettered request marked FAILED", fields);
        else if (result.action === "unreadable") log.error("unreadable dead-letter message", fields);
        else log.info(`dead-letter message ${result.action}`, fields);
      }
    }
  } finally {
    // Whatever stays in the queue is visible again for the next run (and the operator) right away.
    for (const message of left) {
      try {
        await deadLetters.release(message);
      } catch (error) {
        // Best effort: the message becomes visible anyway when its visibility timeout ends.
        log.warn("cannot release dead-letter message", {
          messageId: message.messageId,
          reason: (error as Error).message,
        });
      }
    }
  }

  const count = (action: ReconcileAction) => results.filter((r) => r.action === action).length;
  return {
    examined: results.length,
    failed: count("failed"),
    requeued: count("requeued"),
    skipped: count("skipped"),
    unreadable: count("unreadable"),
    dryRun,
    messages: results,
  };
}
