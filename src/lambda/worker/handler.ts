/**
 * The SQS worker Lambda: each message names a ledger record (`{ email, requestId }`); the worker drives it
 * through the account workflow. Partial batch responses keep one bad message from retrying the rest;
 * a message that fails on its last allowed delivery has its reason recorded in the ledger (FAILED)
 * before SQS moves it to the dead-letter queue.
 */
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { Logger as PowertoolsLogger } from "@aws-lambda-powertools/logger";
import { TERMINAL_STATES, LedgerConflictError } from "../../core/ledger";
import type { Ledger, Logger } from "../../core/ports";
import type { WorkItem } from "../../core/ports";
import type { ProcessOutcome, Workflow } from "../../core/vending/workflow";
import type { Timing } from "../../shared/timing";
import { ENV } from "../env";
import { describeError } from "../../core/organizations";
import { parseWorkItem } from "../../core/workItem";

/** Receive count at which SQS moves a message to the DLQ when `AVM_QUEUE_MAX_RECEIVE_COUNT` is unset. */
export const DEFAULT_MAX_RECEIVE_COUNT = 5;

/** Delay of a re-enqueued (deferred) work item: the next poll is due no sooner anyway. */
export const DEFAULT_REQUEUE_DELAY_SECONDS = 10;

/** Time kept free at the end of an invocation for ledger writes and the batch response. */
export const DEFAULT_SAFETY_MARGIN_MS = 15_000;

/** SQS's largest message delay, in seconds. */
const MAX_DELAY_SECONDS = 900;

/**
 * Delay of a work item whose record another runner has leased: until the lease expires (one second after),
 * at least the usual requeue delay, at most SQS's 15 minutes.
 */
export function busyRequeueDelaySeconds(expiresAt: string, now: Date, requeueDelaySeconds?: number): number {
  const untilExpiry = Math.ceil((Date.parse(expiresAt) - now.getTime()) / 1000) + 1;
  const floor = requeueDelaySeconds ?? DEFAULT_REQUEUE_DELAY_SECONDS;
  return Math.min(MAX_DELAY_SECONDS, Math.max(floor, untilExpiry));
}

/** Everything the worker handler needs; built once per Lambda container by `workerDepsFromEnv` in `deps.ts`. */
export interface WorkerDeps {
  /** Builds the workflow with a logger that carries the message's request id. */
  readonly workflowFor: (logger: Logger) => Pick<Workflow, "processRequest">;
  readonly ledger: Ledger;
  /** Where deferred work (still polling, no CreateAccount slot) is put back, visible after a delay. */
  readonly queue: { enqueue(item: WorkItem, delaySeconds?: number): Promise<void> };
  readonly timing: Timing;
  readonly logger: PowertoolsLogger;
  /** The queue's redrive `maxReceiveCount`. */
  readonly maxReceiveCount: number;
  /** Default {@link DEFAULT_SAFETY_MARGIN_MS}. */
  readonly safetyMarginMs?: number;
  /** Delay before deferred work becomes visible again, in seconds. Default {@link DEFAULT_REQUEUE_DELAY_SECONDS}. */
  readonly requeueDelaySeconds?: number;
}

/**
 * Reads the redrive limit from `AVM_QUEUE_MAX_RECEIVE_COUNT`.
 * @throws Error naming the variable when it is set but not a positive integer.
 */
export function maxReceiveCountFrom(env: NodeJS.ProcessEnv): number {
  const raw = env[ENV.queueMaxReceiveCount];
  if (raw === undefined || raw.trim() === "") return DEFAULT_MAX_RECEIVE_COUNT;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`environment variable ${ENV.queueMaxReceiveCount} must be a positive integer, got "${raw}"`);
  }
  return value;
}

/** What happened to one message (returned for tests and logged). */
export type MessageResult =
  | { readonly messageId: string; readonly ok: true; readonly outcome: ProcessOutcome["status"] | "requeued" }
  | { readonly messageId: string; readonly ok: false; readonly reason: string; readonly recordedFailure: boolean };

/** The worker handler over injected dependencies. */
export function createWorkerHandler(
  deps: WorkerDeps | (() => WorkerDeps),
): (
  event: SQSEvent,
  context?: Pick<Context, "getRemainingTimeInMillis" | "awsRequestId">,
) => Promise<SQSBatchResponse> {
  let resolved: WorkerDeps | undefined;
  const get = (): WorkerDeps => (resolved ??= typeof deps === "function" ? deps() : deps);

  return async (event, context) => {
    const d = get();
    const margin = d.safetyMarginMs ?? DEFAULT_SAFETY_MARGIN_MS;
    const remaining = context?.getRemainingTimeInMillis() ?? 5 * 60_000;
    const deadline = new Date(d.timing.now().getTime() + Math.max(0, remaining - margin));
    const results = await Promise.all(
      (event.Records ?? []).map((record) => handleMessage(d, record, deadline, context?.awsRequestId)),
    );
    return {
      batchItemFailures: results.filter((r) => !r.ok).map((r) => ({ itemIdentifier: r.messageId })),
    };
  };
}

/**
 * The reconcile evidence rule, loaded with the first message that gives up rather than during the init phase.
 */
function messagePath() {
  /* eslint-disable @typescript-eslint/no-require-imports */
  return {
    accountEvidence: (require("../../core/vending/reconcile") as typeof import("../../core/vending/reconcile"))
      .accountEvidence,
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
}

async function handleMessage(
  d: WorkerDeps,
  message: SQSRecord,
  deadline: Date,
  invocation?: string,
): Promise<MessageResult> {
  const receiveCount = Number(message.attributes?.ApproximateReceiveCount ?? "1");
  let item: WorkItem;
  try {
    item = parseWorkItem(message.body);
  } catch (error) {
    d.logger.error("unreadable work message", { messageId: message.messageId, reason: describeError(error) });
    return { messageId: message.messageId, ok: false, reason: describeError(error), recordedFailure: false };
  }
  const log = d.logger.createChild({
    persistentKeys: { requestId: item.requestId, messageId: message.messageId, ...(invocation ? { invocation } : {}) },
  });
  try {
    const outcome = await d.workflowFor(log).processRequest(item.email, { deadline });
    if (outcome.status === "deferred") {
      await d.queue.enqueue(item, d.requeueDelaySeconds ?? DEFAULT_REQUEUE_DELAY_SECONDS);
      log.info("work deferred and re-enqueued", { reason: outcome.reason, state: outcome.record.state });
      return { messageId: message.messageId, ok: true, outcome: "requeued" };
    }
    if (outcome.status === "busy") {
      // Another runner holds the lease: come back when it ends (or has expired, if its holder crashed).
      const delay = busyRequeueDelaySeconds(outcome.lease.expiresAt, d.timing.now(), d.requeueDelaySeconds);
      await d.queue.enqueue(item, delay);
      log.info("request leased by another runner; re-enqueued", { reason: outcome.reason, delaySeconds: delay });
      return { messageId: message.messageId, ok: true, outcome: "requeued" };
    }
    log.info("work done", {
      outcome: outcome.status,
      ...("record" in outcome ? { state: outcome.record.state } : { reason: outcome.reason }),
    });
    return { messageId: message.messageId, ok: true, outcome: outcome.status };
  } catch (error) {
    const reason = describeError(error);
    if (receiveCount < d.maxReceiveCount) {
      log.warn("work failed; the queue will redeliver", { receiveCount, maxReceiveCount: d.maxReceiveCount, reason });
      return { messageId: message.messageId, ok: false, reason, recordedFailure: false };
    }
    const recorded = await recordGiveUp(d, item, receiveCount, reason, log);
    log.error("work failed on its last delivery; the message goes to the dead-letter queue", {
      receiveCount,
      reason,
      recordedFailure: recorded,
    });
    return { messageId: message.messageId, ok: false, reason, recordedFailure: recorded };
  }
}

/**
 * Records why the message goes to the dead-letter queue (compare-and-set, re-read on conflict a few times).
 *
 * Marks the record FAILED with the reason, except when a CreateAccount call may have created an account whose id
 * the ledger does not know yet (a stored request id, or a call issued before the failure): failing it would leave
 * that account unaccounted for. Such a record keeps its state and gets the reason as a note, and
 * `avm reconcile` re-drives it from the dead-letter queue (the workflow then resumes polling or looks the email up).
 */
async function recordGiveUp(d: WorkerDeps, item: WorkItem, receiveCount: number, reason: string, log: Logger) {
  const { accountEvidence } = messagePath();
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      const record = await d.ledger.get(item.email);
      if (!record || TERMINAL_STATES.has(record.state)) return false;
      const failure = `gave up after ${receiveCount} deliveries in ${record.state}: ${reason}`;
      const evidence = record.accountId === undefined ? accountEvidence(record) : undefined;
      const patch =
        evidence === undefined
          ? {
              state: "FAILED" as const,
              failureReason: failure,
              note: `moved to the dead-letter queue after ${receiveCount} deliveries`,
            }
          : { note: `${failure}; left ${record.state} for avm reconcile to re-drive (${evidence})` };
      await d.ledger.update(record.email, record.version, patch, d.timing.now());
      return true;
    } catch (error) {
      if (error instanceof LedgerConflictError) continue;
      log.error("could not record the failure in the ledger", { reason: describeError(error) });
      return false;
    }
  }
  return false;
}
