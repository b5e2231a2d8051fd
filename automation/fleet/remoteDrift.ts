/**
 * `avm fleet drift --remote`: drift detection on Pulumi Deployments. Per account stack, one `detect-drift` deployment
 * (a preview-only refresh run by Pulumi Cloud; operation names of the REST API's `PulumiOperation`:
 * https://www.pulumi.com/docs/reference/pkg/nodejs/pulumi/cloud-sdk/enums/Models.PulumiOperation.html; drift runs:
 * https://www.pulumi.com/docs/deployments/concepts/drift/) polled until it ends. Whether it found drift is not in the
 * deployment's status: Pulumi Cloud reports it with a `drift_detection` webhook event
 * (https://www.pulumi.com/docs/pulumi-cloud/webhooks/, "Event filtering" and "Drift detection" payload), which the
 * AVM's receiver records on the account's ledger record as a `drift: ...` history note. So the check then reads the
 * ledger until that run's note is there, bounded by a wait budget.
 */
import type { LedgerRecord } from "../../src/core/ledger";
import type { Ledger } from "../../src/core/ports";
import { DRIFT_NOTE_PREFIX } from "../../src/core/webhooks/events";
import type { Timing } from "../../src/shared/timing";
import type { DeploymentOutcome } from "../../src/stacks/deploymentsRunner";
import type { AccountStackTarget } from "../stacks/stackConfig";

/** Runs drift deployments (`DeploymentsAccountStackRunner`). */
export interface RemoteDriftRunner {
  /** Creates a `detect-drift` deployment of the account stack and polls it until it ends (or the wait budget). */
  detectDrift(target: AccountStackTarget): Promise<DeploymentOutcome>;
  /**
   * Creates a `remediate-drift` deployment (`pulumi up --refresh` on Pulumi Deployments) and polls it until it ends.
   * @throws DeploymentFailedError / DeploymentSkippedError for those final statuses
   */
  remediateDrift(target: AccountStackTarget): Promise<DeploymentOutcome>;
}

/** The result of one remote check. */
export interface RemoteDriftResult {
  readonly drift: "none" | "drift" | "error";
  /** The recorded `drift: ...` note (without its webhook suffix), or why there is none. */
  readonly detail: string;
}

/** How often the ledger is read while waiting for the webhook's note. */
export const DRIFT_NOTE_POLL_MS = 5_000;

/** Options of {@link checkDriftRemotely}. */
export interface RemoteDriftOptions {
  readonly runner: RemoteDriftRunner;
  readonly ledger: Ledger;
  readonly timing: Timing;
  /** How long to wait for the webhook's note after the deployment ended. */
  readonly webhookWaitMs: number;
}

const WEBHOOK_SUFFIX = / \(webhook [^)]*\)$/;

/**
 * The drift note of the run of `outcome` on `record`, if recorded: one whose URL is the deployment's (the event's
 * `referenceUrl` is the deployment's console URL, `.../deployments/<version>`), else, when the event carried no URL,
 * one recorded after `since`.
 */
export function driftNoteOfRun(record: LedgerRecord, outcome: DeploymentOutcome, since: number): string | undefined {
  for (let i = record.history.length - 1; i >= 0; i--) {
    const entry = record.history[i];
    const note = entry?.note;
    if (entry === undefined || note === undefined || !note.startsWith(DRIFT_NOTE_PREFIX)) continue;
    const text = note.replace(WEBHOOK_SUFFIX, "");
    const ofRun =
      (outcome.consoleUrl !== undefined && text.endsWith(`, ${outcome.consoleUrl}`)) ||
      (outcome.version !== undefined && text.endsWith(`/deployments/${outcome.version}`));
    if (ofRun) return text;
    if (!/, https?:\/\//.test(text) && Date.parse(entry.at) >= since) return text;
  }
  return undefined;
}

/**
 * Checks one account stack for drift on Pulumi Deployments (see the module comment). Never throws for a failed
 * check: the result says why.
 */
export async function checkDriftRemotely(
  target: AccountStackTarget,
  options: RemoteDriftOptions,
): Promise<RemoteDriftResult> {
  const { runner, ledger, timing } = options;
  if ((await ledger.getByAccountId(target.accountId)) === undefined) {
    return {
      drift: "error",
      detail: `no ledger record for account ${target.accountId}: drift events are recorded on it (avm fleet adopt first)`,
    };
  }
  const since = timing.now().getTime();
  let outcome: DeploymentOutcome;
  try {
    outcome = await runner.detectDrift(target);
  } catch (error) {
    return { drift: "error", detail: error instanceof Error ? error.message : String(error) };
  }
  const label = `detect-drift deployment #${outcome.version ?? "?"}${outcome.consoleUrl ? ` (${outcome.consoleUrl})` : ""}`;
  if (outcome.status !== "succeeded") {
    return { drift: "error", detail: `${label} is still ${outcome.status} after the wait budget` };
  }
  const deadline = timing.now().getTime() + options.webhookWaitMs;
  for (;;) {
    const record = await ledger.getByAccountId(target.accountId);
    const note = record === undefined ? undefined : driftNoteOfRun(record, outcome, since);
    if (note !== undefined) {
      if (note.startsWith(`${DRIFT_NOTE_PREFIX} detected`)) return { drift: "drift", detail: note };
      if (note.startsWith(`${DRIFT_NOTE_PREFIX} none`)) return { drift: "none", detail: note };
      return { drift: "error", detail: note };
    }
    const left = deadline - timing.now().getTime();
    if (left <= 0) {
      return {
        drift: "error",
        detail:
          `${label} succeeded, but no drift_detection webhook event reached the ledger within ` +
          `${Math.round(options.webhookWaitMs / 1000)} s (check the webhook with avm doctor; the ledger must be the ` +
          "platform's, --ledger-table)",
      };
    }
    await timing.sleep(Math.min(DRIFT_NOTE_POLL_MS, left));
  }
}
