/**
 * Moves ledger records on account-stack outcomes reported by Pulumi Cloud webhooks:
 * - success while BOOTSTRAPPING -> COMPLETING (compare-and-set), then a {@link WorkItem} is enqueued so the
 *   worker writes the completion tags; success while already COMPLETING only re-enqueues (a redelivery after a
 *   failed enqueue must still reach the worker; the worker is idempotent);
 * - failure while BOOTSTRAPPING -> FAILED with the reason;
 * - anything else (late, duplicate or out-of-order events, e.g. an old failure after a success) changes nothing.
 * A deployment event older than the deployment the record waits for (its `#<version>` in the history) is stale.
 * A deployment of a SUCCEEDED record's stack newer than any the record knows (a fleet rollout's) is appended to its
 * history as a `deployment: ...` note. Drift runs ({@link LedgerStackOutcomeRecorder.recordDrift}) are appended to a SUCCEEDED record's history as a
 * `drift: ...` note; they never change its state, and records still in flight are left alone (a write would take the
 * compare-and-set from the runner holding the request's lease).
 */
import { LedgerConflictError, type LedgerRecord, type RequestState } from "../ledger";
import { type Ledger } from "../ports";
import type { WorkQueue } from "../ports";
import type { Timing } from "../../shared/timing";
import { DRIFT_NOTE_PREFIX } from "./events";

/** A final outcome of an account stack update. */
export interface StackOutcome {
  readonly succeeded: boolean;
  /** One line, e.g. `deployment update failed (#12)`. */
  readonly summary: string;
  /** Console URL of the update or deployment. */
  readonly url?: string;
  /** Deployment version, for deployment events. */
  readonly deploymentVersion?: number;
  /** Webhook delivery id, for the history note. */
  readonly deliveryId: string;
}

/** What {@link LedgerStackOutcomeRecorder.record} did. */
export type RecordAction =
  | "completing"
  | "failed"
  | "re-enqueued"
  | "stale"
  | "unknown-account"
  | "drift-recorded"
  | "deployment-recorded"
  | "duplicate";

/** Result of recording one outcome. */
export interface RecordResult {
  readonly action: RecordAction;
  readonly requestId?: string;
  /** State after the call (absent for unknown accounts). */
  readonly state?: RequestState;
}

/** Options of {@link LedgerStackOutcomeRecorder}. */
export interface LedgerStackOutcomeRecorderOptions {
  readonly ledger: Ledger;
  readonly queue: WorkQueue;
  readonly timing: Timing;
  /** Re-reads after a lost compare-and-set; default 3. */
  readonly conflictRetries?: number;
}

const WAITING_FOR_DEPLOYMENT = /deployment #(\d+)/;

/**
 * The deployment version a BOOTSTRAPPING record waits for: its `awaitedDeployment` field, or (records written before
 * it was a field) the latest history note that names one.
 */
export function awaitedDeploymentVersion(record: LedgerRecord): number | undefined {
  if (record.awaitedDeployment !== undefined) return record.awaitedDeployment.version;
  for (let i = record.history.length - 1; i >= 0; i--) {
    const match = WAITING_FOR_DEPLOYMENT.exec(record.history[i]?.note ?? "");
    if (match) return Number(match[1]);
  }
  return undefined;
}

/** Records webhook outcomes in the ledger. */
export class LedgerStackOutcomeRecorder {
  private readonly conflictRetries: number;

  constructor(private readonly options: LedgerStackOutcomeRecorderOptions) {
    this.conflictRetries = options.conflictRetries ?? 3;
  }

  /**
   * Applies `outcome` to the record of `accountId`.
   * @throws LedgerConflictError when concurrent writers win every retry; other ledger/queue errors as raised
   */
  async record(accountId: string, outcome: StackOutcome): Promise<RecordResult> {
    const { ledger, queue, timing } = this.options;
    for (let attempt = 0; ; attempt++) {
      const record = await this.current(accountId);
      if (!record) return { action: "unknown-account" };
      const stale = { action: "stale" as const, requestId: record.requestId, state: record.state };
      const where = outcome.url ? ` ${outcome.url}` : "";
      const note = `webhook ${outcome.deliveryId}: ${outcome.summary}${where}`;
      try {
        if (record.state === "BOOTSTRAPPING") {
          const awaited = awaitedDeploymentVersion(record);
          if (outcome.deploymentVersion !== undefined && awaited !== undefined && outcome.deploymentVersion < awaited) {
            return stale;
          }
          if (outcome.succeeded) {
            const next = await ledger.update(record.email, record.version, { state: "COMPLETING", note }, timing.now());
            await queue.enqueue({ email: next.email, requestId: next.requestId });
            return { action: "completing", requestId: next.requestId, state: next.state };
          }
          const next = await ledger.update(
            record.email,
            record.version,
            { state: "FAILED", failureReason: `account stack failed: ${outcome.summary}${where}`, note },
            timing.now(),
          );
          return { action: "failed", requestId: next.requestId, state: next.state };
        }
        if (record.state === "COMPLETING" && outcome.succeeded) {
          await queue.enqueue({ email: record.email, requestId: record.requestId });
          return { action: "re-enqueued", requestId: record.requestId, state: record.state };
        }
        if (record.state === "SUCCEEDED" && outcome.deploymentVersion !== undefined) {
          // A later deployment of a managed account's stack (a fleet rollout): noted, never a state change. Only
          // versions newer than every one the record knows, so late and duplicate events change nothing.
          const newest = Math.max(awaitedDeploymentVersion(record) ?? 0, latestNotedDeploymentVersion(record) ?? 0);
          if (outcome.deploymentVersion <= newest) return stale;
          const next = await ledger.update(
            record.email,
            record.version,
            { note: `${DEPLOYMENT_NOTE_PREFIX} ${outcome.summary}${where} (webhook ${outcome.deliveryId})` },
            timing.now(),
          );
          return { action: "deployment-recorded", requestId: next.requestId, state: next.state };
        }
        return stale;
      } catch (error) {
        if (error instanceof LedgerConflictError && attempt < this.conflictRetries) continue;
        throw error;
      }
    }
  }

  /**
   * Appends the drift note `note` (see `driftNote` in events.ts) to the SUCCEEDED record of `accountId`, unless its
   * latest drift note already says the same (Pulumi Cloud sends `drift_detected` and `drift_detection_succeeded` for
   * one run).
   * @throws LedgerConflictError when concurrent writers win every retry
   */
  async recordDrift(accountId: string, note: string, deliveryId: string): Promise<RecordResult> {
    const { ledger, timing } = this.options;
    for (let attempt = 0; ; attempt++) {
      const record = await this.current(accountId);
      if (!record) return { action: "unknown-account" };
      if (record.state !== "SUCCEEDED") return { action: "stale", requestId: record.requestId, state: record.state };
      if (latestDriftNote(record)?.startsWith(note)) {
        return { action: "duplicate", requestId: record.requestId, state: record.state };
      }
      try {
        const next = await ledger.update(
          record.email,
          record.version,
          { note: `${note} (webhook ${deliveryId})` },
          timing.now(),
        );
        return { action: "drift-recorded", requestId: next.requestId, state: next.state };
      } catch (error) {
        if (error instanceof LedgerConflictError && attempt < this.conflictRetries) continue;
        throw error;
      }
    }
  }

  /**
   * The current record of `accountId`: the account-id index finds the email, the decision is made on the record
   * read by email (an index lookup may lag a write by a moment in DynamoDB; a lagging state would drop an outcome
   * as stale). A ledger whose lookups are consistent (`consistentLookups`) is not read twice.
   */
  private async current(accountId: string): Promise<LedgerRecord | undefined> {
    const { ledger } = this.options;
    const hit = await ledger.getByAccountId(accountId);
    if (hit === undefined || ledger.consistentLookups === true) return hit;
    return ledger.get(hit.email);
  }
}

/** Prefix of the history notes of deployments of a SUCCEEDED record's stack (`avm fleet rollout --remote` reads them). */
export const DEPLOYMENT_NOTE_PREFIX = "deployment:";

const NOTED_DEPLOYMENT = /^deployment: deployment \w[\w-]* \w+ \(#(\d+)\)/;

/** The newest deployment version noted by {@link LedgerStackOutcomeRecorder.record} on a SUCCEEDED record. */
export function latestNotedDeploymentVersion(record: LedgerRecord): number | undefined {
  let newest: number | undefined;
  for (const entry of record.history) {
    const match = NOTED_DEPLOYMENT.exec(entry.note ?? "");
    if (match) newest = Math.max(newest ?? 0, Number(match[1]));
  }
  return newest;
}

/** The latest `drift: ...` note of `record`'s history (with its webhook suffix), if any. */
export function latestDriftNote(record: LedgerRecord): string | undefined {
  for (let i = record.history.length - 1; i >= 0; i--) {
    const note = record.history[i]?.note;
    if (note?.startsWith(DRIFT_NOTE_PREFIX)) return note;
  }
  return undefined;
}
