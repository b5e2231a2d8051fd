/**
 * {@link FleetUpdater} on Pulumi Deployments: each update is one deployment of the account stack through the
 * {@link AccountStackRunner} of `automation/deployments/` (create, poll until terminal); the rollout's concurrency
 * bounds the deployments in flight. The stack's outputs are not read remotely, so an update interrupted by a crash
 * is run again on resume (a second deployment of an up-to-date stack changes nothing). With {@link WebhookResults} a
 * deployment still running after the runner's polling budget is finished by its Pulumi Cloud webhook event instead.
 */
import type { DeploymentStamp } from "../../src/shared/deploymentStamp";
import { accountStackName } from "../../src/shared/naming";
import type { AccountStackRunner } from "../../src/core/ports";
import type { ProgressReporter } from "../progress";
import type { AccountStackTarget } from "../stacks/stackConfig";
import type { Ledger } from "../../src/core/ports";
import { DEPLOYMENT_NOTE_PREFIX } from "../../src/core/webhooks/stackOutcomeRecorder";
import type { Timing } from "../../src/shared/timing";
import type { RemoteDriftRunner } from "./remoteDrift";
import type { FleetUpdater } from "./rollout";

/** A deployment did not end `succeeded` within the runner's wait budget. */
export class RemoteUpdateError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** How often the ledger is read while waiting for a deployment's webhook event. */
export const WEBHOOK_POLL_MS = 5_000;

/** Where a remote rollout reads deployment results that arrive by webhook (`avm fleet rollout --webhook-wait`). */
export interface WebhookResults {
  /** The platform's ledger, where the webhook receiver records them. */
  readonly ledger: Ledger;
  readonly timing: Timing;
  readonly waitMs: number;
}

/** Updates account stacks on Pulumi Deployments. */
export class RemoteFleetUpdater implements FleetUpdater {
  /**
   * @param deployments `{update: runner}`: each update is an `update` deployment through the Deployments runner
   *   (`CliDeps.remoteStackRunner`); `{remediate: runner}`: a `remediate-drift` deployment (`pulumi up --refresh`,
   *   the remediation of `avm fleet drift --remote --remediate`; `CliDeps.remoteDriftRunner`)
   * @param rolloutId correlation id put into the request id of every deployment
   * @param webhooks when set, an `update` deployment still running after the runner's wait budget is finished by its
   *   webhook event: the receiver notes it on the account's ledger record (`deployment: deployment update succeeded
   *   (#N) ...`), read here every {@link WEBHOOK_POLL_MS} up to `waitMs`
   */
  constructor(
    private readonly deployments: { readonly update: AccountStackRunner } | { readonly remediate: RemoteDriftRunner },
    private readonly rolloutId: string,
    private readonly webhooks?: WebhookResults,
  ) {}

  async update(target: AccountStackTarget, progress: ProgressReporter): Promise<{ summary: string }> {
    const stackName = accountStackName(target.accountId);
    if ("remediate" in this.deployments) {
      progress.update(stackName, "Pulumi Deployments: remediate-drift deployment created, polling");
      const outcome = await this.deployments.remediate.remediateDrift(target);
      const label = `remediate-drift deployment #${outcome.version ?? "?"}`;
      const url = outcome.consoleUrl ? ` (${outcome.consoleUrl})` : "";
      if (outcome.status !== "succeeded") {
        throw new RemoteUpdateError(`${label} still ${outcome.status} after the wait budget${url}`);
      }
      return { summary: `${label} succeeded${url}` };
    }
    progress.update(stackName, "Pulumi Deployments: deployment created, polling");
    const result = await this.deployments.update.deploy({
      accountId: target.accountId,
      accountName: stackName,
      email: "",
      requestId: `${this.rolloutId}-${target.accountId}`,
      tags: target.tags ?? {},
    });
    if (result.status === "deployed") {
      return { summary: result.url ? `${result.summary} (${result.url})` : result.summary };
    }
    const unfinished = `deployment not finished within the wait budget (${result.summary}${result.url ? `, ${result.url}` : ""})`;
    const version = /deployment #(\d+)/.exec(result.summary)?.[1];
    if (this.webhooks === undefined || version === undefined) throw new RemoteUpdateError(unfinished);
    progress.update(stackName, `Pulumi Deployments: deployment #${version} running; waiting for its webhook event`);
    const note = await this.webhookOutcome(target.accountId, Number(version));
    if (note === undefined) {
      throw new RemoteUpdateError(
        `${unfinished}, and no deployment webhook event for it reached the ledger within ` +
          `${Math.round(this.webhooks.waitMs / 1000)} s`,
      );
    }
    if (!/^deployment: deployment update succeeded/.test(note)) throw new RemoteUpdateError(note);
    return { summary: note };
  }

  /** The ledger note of deployment `version` of the account's stack, recorded by the webhook receiver; bounded wait. */
  private async webhookOutcome(accountId: string, version: number): Promise<string | undefined> {
    const { ledger, timing, waitMs } = this.webhooks!;
    const deadline = timing.now().getTime() + waitMs;
    const ofVersion = new RegExp(`^${DEPLOYMENT_NOTE_PREFIX} deployment update \\w+ \\(#${version}\\)`);
    for (;;) {
      const record = await ledger.getByAccountId(accountId);
      const note = record?.history.map((h) => h.note ?? "").find((n) => ofVersion.test(n));
      if (note !== undefined) return note.replace(/ \(webhook [^)]*\)$/, "");
      const left = deadline - timing.now().getTime();
      if (left <= 0 || record === undefined) return undefined;
      await timing.sleep(Math.min(WEBHOOK_POLL_MS, left));
    }
  }

  async deployedStamp(): Promise<DeploymentStamp | undefined> {
    return undefined;
  }

  expectedStamp(): DeploymentStamp | undefined {
    return undefined;
  }
}
