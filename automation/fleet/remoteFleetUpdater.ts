/**
 * {@link FleetUpdater} on Pulumi Deployments: each update is one deployment of the account stack through the
 * {@link AccountStackRunner} of `automation/deployments/` (create, poll until terminal); the rollout's concurrency
 * bounds the deployments in flight. The stack's outputs are not read remotely, so an update interrupted by a crash
 * is run again on resume (a second deployment of an up-to-date stack changes nothing).
 */
import type { DeploymentStamp } from "../../src/shared/deploymentStamp";
import { accountStackName } from "../../src/shared/naming";
import type { AccountStackRunner } from "../../src/core/ports";
import type { ProgressReporter } from "../progress";
import type { AccountStackTarget } from "../stacks/stackConfig";
import type { RemoteDriftRunner } from "./remoteDrift";
import type { FleetUpdater } from "./rollout";

/** A deployment did not end `succeeded` within the runner's wait budget. */
export class RemoteUpdateError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Updates account stacks on Pulumi Deployments. */
export class RemoteFleetUpdater implements FleetUpdater {
  /**
   * @param deployments `{update: runner}`: each update is an `update` deployment through the Deployments runner
   *   (`CliDeps.remoteStackRunner`); `{remediate: runner}`: a `remediate-drift` deployment (`pulumi up --refresh`,
   *   the remediation of `avm fleet drift --remote --remediate`; `CliDeps.remoteDriftRunner`)
   * @param rolloutId correlation id put into the request id of every deployment
   */
  constructor(
    private readonly deployments: { readonly update: AccountStackRunner } | { readonly remediate: RemoteDriftRunner },
    private readonly rolloutId: string,
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
    if (result.status !== "deployed") {
      throw new RemoteUpdateError(
        `deployment not finished within the wait budget (${result.summary}${result.url ? `, ${result.url}` : ""})`,
      );
    }
    return { summary: result.url ? `${result.summary} (${result.url})` : result.summary };
  }

  async deployedStamp(): Promise<DeploymentStamp | undefined> {
    return undefined;
  }

  expectedStamp(): DeploymentStamp | undefined {
    return undefined;
  }
}
