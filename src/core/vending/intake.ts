/**
 * Request intake, shared by the `AVMEntryPoint` Lambda and the CLI: parse -> validate -> record in the
 * ledger (idempotently, keyed by email) -> enqueue the work. It never drives the workflow itself, so it
 * returns within one ledger write and one queue send.
 *
 * When work is enqueued:
 * - the call created the record: always;
 * - the record already existed and is terminal (SUCCEEDED, FAILED, CLOSED): never, except that a FAILED
 *   record is retried (`retryRequest.ts`) and enqueued when the request differs from the stored one (a
 *   corrected resubmission) or the caller asks for it (`retryFailed: "always"`, `avm vend` run again);
 * - it already existed and is in flight: only as a *nudge*, when the record has not changed for
 *   `nudgeAfterMs` (default 5 minutes: a lost message, a worker that died between retries) or when the
 *   enqueue that followed its creation failed. Concurrent duplicates of a fresh request therefore add no
 *   messages, and an extra message is harmless anyway (the workflow's compare-and-set lets one worker on).
 *
 * A repeated request never changes the stored record: the ledger only writes when the claim creates it
 * (and once, to note a failed enqueue).
 */
import { randomUUID } from "node:crypto";
import {
  LedgerIdentityConflictError,
  normaliseEmail,
  TERMINAL_STATES,
  type LedgerRecord,
  type RequestKind,
  type RequestState,
} from "../ledger";
import type { WorkQueue } from "../ports";
import { silentLogger, type ClaimResult, type Ledger, type Logger } from "../ports";
import { ADOPT_EXISTING_KEY, type EntryPointGate } from "./entryPointGate";
import { RequestValidationError, type AccountRequest } from "./requestRules";
import { parseRequest } from "./requests";
import { canonicalJson, reopenFailedRequest } from "./retryRequest";

/** Default quiet time after which a repeated request re-enqueues an in-flight record. */
export const DEFAULT_NUDGE_AFTER_MS = 5 * 60_000;

/** History note written when the enqueue after a claim failed; the next repeat re-enqueues at once. */
export const ENQUEUE_FAILED_NOTE = "enqueue failed";

/** What {@link acceptRequest} needs. */
export interface IntakeDeps {
  readonly ledger: Ledger;
  readonly queue: WorkQueue;
  /** Clock. */
  readonly now: () => Date;
  /** Request id for requests that bring none. Default `randomUUID`. */
  readonly newRequestId?: () => string;
  /** See the module comment. Default {@link DEFAULT_NUDGE_AFTER_MS}. */
  readonly nudgeAfterMs?: number;
  /**
   * When a request arrives for a FAILED record: `changed` (default) retries it only when the request differs
   * from the stored one (a corrected resubmission); `always` retries it anyway (`avm vend` run again).
   * An identical repeat under `changed` reports the stored failure.
   */
  readonly retryFailed?: "changed" | "always";
  readonly logger?: Logger;
  /**
   * Authorization run after parsing and before anything is read or written (the entry point's trust
   * boundary, `entryPointGate.ts`). Absent: no check (the CLI, run with operator credentials).
   */
  readonly gate?: EntryPointGate;
}

/** Outcome of an accepted request. */
export interface AcceptResult {
  /** The ledger request id: the new one, or the existing record's for a repeated request. */
  readonly requestId: string;
  /** The record's state after intake. */
  readonly state: RequestState;
  /** True when this call recorded the request; false for a repeat (the record was left unchanged). */
  readonly created: boolean;
  /** True when this call put a work item on the queue. */
  readonly enqueued: boolean;
  /** True when this call put a FAILED record back to RECEIVED (a retry, see `retryRequest.ts`). */
  readonly retried: boolean;
  readonly kind: RequestKind;
  /** Normalised email (the ledger key). */
  readonly email: string;
  /** Known for meshStack hook requests and for accounts the workflow already created or adopted. */
  readonly accountId?: string;
}

/** Base class of intake errors. */
export class IntakeError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The request was recorded but its work item could not be enqueued. The record says so, and the next
 * repeat of the request enqueues it again.
 */
export class IntakeEnqueueError extends IntakeError {
  constructor(
    message: string,
    readonly requestId: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Validates and records one request and enqueues its work.
 * @param input the request as JSON text or a parsed object (a meshStack hook payload or a vend request).
 * @throws RequestValidationError for invalid input, including a request id already used for another email,
 * a hook whose email is recorded for another account id, or whose account id is recorded for another email
 * (one record per email and one per account id; nothing is recorded then); its subclass RequestRefusedError
 * when `deps.gate` refuses the request (nothing is read or recorded then).
 * @throws IntakeEnqueueError when the request was recorded but could not be enqueued.
 * @throws the ledger's errors when the ledger cannot be reached (nothing was recorded then).
 */
export async function acceptRequest(input: unknown, deps: IntakeDeps): Promise<AcceptResult> {
  const log = deps.logger ?? silentLogger;
  const request = parseRequest(input);
  await deps.gate?.check(request);
  const requestId =
    request.kind === "vend" && request.requestId !== undefined
      ? request.requestId
      : (deps.newRequestId ?? randomUUID)();

  if (request.kind === "vend" && request.requestId !== undefined) {
    const sameId = await deps.ledger.getByRequestId(request.requestId);
    if (sameId && sameId.email !== normaliseEmail(request.email)) {
      throw new RequestValidationError(
        [{ field: "requestId", message: "is already used by a request for another email" }],
        "vend",
      );
    }
  }

  if (request.kind === "meshstack-hook") {
    // One record per account id: a hook naming an account recorded under another email is refused, unwritten.
    const byAccount = await deps.ledger.getByAccountId(request.accountId);
    const email = normaliseEmail(request.email);
    if (byAccount && byAccount.email !== email) {
      throw new RequestValidationError(
        [
          {
            field: "AccountId",
            message: `account ${request.accountId} is already recorded for ${byAccount.email} (request ${byAccount.requestId}), not ${email}`,
          },
        ],
        "meshstack-hook",
      );
    }
  }

  const now = deps.now();
  const stored = storedRequest(request, deps.gate);
  let claimed: ClaimResult;
  try {
    claimed = await deps.ledger.claim(
      {
        email: request.email,
        requestId,
        kind: request.kind,
        request: stored,
        ...(request.kind === "meshstack-hook" ? { accountId: request.accountId } : {}),
      },
      now,
    );
  } catch (error) {
    // The check above read before it wrote; the ledger's claim is the atomic guard when two hooks race.
    if (error instanceof LedgerIdentityConflictError) {
      throw new RequestValidationError([{ field: "AccountId", message: error.message }], request.kind);
    }
    throw error;
  }

  const created = claimed.created;
  if (!created && request.kind === "meshstack-hook" && claimed.record.accountId !== undefined) {
    if (claimed.record.accountId !== request.accountId) {
      throw new RequestValidationError(
        [
          {
            field: "AccountEmail",
            message: `${claimed.record.email} is already recorded for account ${claimed.record.accountId} (request ${claimed.record.requestId}), not ${request.accountId}`,
          },
        ],
        "meshstack-hook",
      );
    }
  }

  let record = claimed.record;
  const always = deps.retryFailed === "always";
  const retried =
    !created &&
    ((record.state === "FAILED" && (always || !sameRequest(record.request, stored))) ||
      (record.state === "PLANNED" && always));
  if (retried) {
    const by = sameRequest(record.request, stored) ? "a repeated request" : "a corrected request";
    record = await reopenFailedRequest(deps.ledger, record, now, { request: stored, by });
    log.info("failed request retried", { requestId: record.requestId, by });
  }
  const nudge = !created && !retried && needsNudge(record, now, deps.nudgeAfterMs ?? DEFAULT_NUDGE_AFTER_MS);
  if (created || nudge || retried) {
    await enqueue(record, deps, log, created || retried);
  }
  log.info(created ? "request recorded" : "request already recorded", {
    requestId: record.requestId,
    kind: record.kind,
    state: record.state,
    created,
    enqueued: created || nudge || retried,
    ...(record.accountId !== undefined ? { accountId: record.accountId } : {}),
  });
  return {
    requestId: record.requestId,
    state: record.state,
    created,
    enqueued: created || nudge || retried,
    retried,
    kind: record.kind,
    email: record.email,
    ...(record.accountId !== undefined ? { accountId: record.accountId } : {}),
  };
}

/** True when an existing record should get another work item (see the module comment). */
export function needsNudge(record: LedgerRecord, now: Date, nudgeAfterMs: number): boolean {
  if (TERMINAL_STATES.has(record.state)) return false;
  if (record.history.at(-1)?.note?.startsWith(ENQUEUE_FAILED_NOTE)) return true;
  return now.getTime() - Date.parse(record.updatedAt) >= nudgeAfterMs;
}

async function enqueue(record: LedgerRecord, deps: IntakeDeps, log: Logger, created: boolean): Promise<void> {
  try {
    await deps.queue.enqueue({ email: record.email, requestId: record.requestId });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    log.error("enqueue failed", { requestId: record.requestId, reason });
    if (created) {
      try {
        await deps.ledger.update(
          record.email,
          record.version,
          { note: `${ENQUEUE_FAILED_NOTE}: ${reason}` },
          deps.now(),
        );
      } catch (noteError) {
        // The quiet-time nudge still recovers the record; the enqueue failure is what the caller must see.
        log.warn("could not note the failed enqueue", {
          requestId: record.requestId,
          reason: noteError instanceof Error ? noteError.message : String(noteError),
        });
      }
    }
    throw new IntakeEnqueueError(
      `request ${record.requestId} was recorded but could not be enqueued: ${reason}`,
      record.requestId,
      { cause: error },
    );
  }
}

/** True when two stored requests ask for the same thing (the request id and the email's case aside). */
function sameRequest(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): boolean {
  const strip = ({ requestId: _ignored, ...rest }: Readonly<Record<string, unknown>>) => ({
    ...rest,
    email: typeof rest["email"] === "string" ? normaliseEmail(rest["email"]) : rest["email"],
  });
  return canonicalJson(strip(a)) === canonicalJson(strip(b));
}

/** The validated request as stored in the ledger (`record.request`): the parsed request, JSON-safe. */
function storedRequest(request: AccountRequest, gate: EntryPointGate | undefined): Record<string, unknown> {
  const stored = JSON.parse(JSON.stringify(request)) as Record<string, unknown>;
  if (request.kind === "vend" && gate !== undefined && !gate.adoptExisting) stored[ADOPT_EXISTING_KEY] = false;
  return stored;
}
