/**
 * {@link FleetUpdater} on the local Automation API: `pulumi up` of the account stack through {@link AccountStacks}
 * (busy-stack retries, engine error classification), the stack's `avmDeployment` output for the look-up after an
 * interruption, and the stamp this checkout and settings deploy.
 */
import { DEPLOYMENT_STAMP_OUTPUT, parseDeploymentStamp, type DeploymentStamp } from "../../src/shared/deploymentStamp";
import type { ProgressReporter } from "../progress";
import type { AccountStacks } from "../stacks/accountStacks";
import { expectedDeploymentStamp, type AccountStackSettings, type AccountStackTarget } from "../stacks/stackConfig";
import type { FleetUpdater } from "./rollout";

/** Updates account stacks in this process. */
export class LocalFleetUpdater implements FleetUpdater {
  /**
   * @param stacks the account-stack verbs on the engine
   * @param settings the settings every stack is deployed with
   * @param programVersion the version this checkout records (see `src/shared/deploymentStamp.ts`)
   */
  constructor(
    private readonly stacks: AccountStacks,
    private readonly settings: AccountStackSettings,
    private readonly programVersion: string,
    /** `pulumi up --refresh` (drift remediation: without a refresh, `up` compares with the stale state). */
    private readonly refresh = false,
  ) {}

  async update(target: AccountStackTarget, progress: ProgressReporter): Promise<{ summary: string }> {
    const result = await this.stacks.deploy(target, progress, { refresh: this.refresh });
    return { summary: result.summary };
  }

  async deployedStamp(accountId: string): Promise<DeploymentStamp | undefined> {
    try {
      return parseDeploymentStamp((await this.stacks.outputs(accountId))[DEPLOYMENT_STAMP_OUTPUT]?.value);
    } catch {
      // Unknown (no stack, unreadable outputs): the caller updates again, which is safe.
      return undefined;
    }
  }

  expectedStamp(target: AccountStackTarget): DeploymentStamp {
    return expectedDeploymentStamp(target, this.settings, this.programVersion);
  }
}
