/**
 * {@link AccountStackRunner} on the local Automation API: `pulumi up` of the account's stack, status `deployed`.
 */
import type { AccountStackRequest, AccountStackResult, AccountStackRunner } from "../../src/core/ports";
import { silentProgress, type ProgressReporter } from "../progress";
import type { AccountStacks } from "./accountStacks";
import type { EngineOutputs } from "./engine";

/** Secret outputs are replaced by this marker wherever outputs leave the automation layer. */
export const SECRET_MARKER = "[secret]";

/** Outputs with secret values masked. */
export function maskOutputs(outputs: EngineOutputs): Record<string, unknown> {
  return Object.fromEntries(Object.entries(outputs).map(([k, o]) => [k, o.secret ? SECRET_MARKER : o.value]));
}

/** Deploys account stacks in this process through {@link AccountStacks}. */
export class LocalAccountStackRunner implements AccountStackRunner {
  /**
   * @param stacks the account-stack verbs
   * @param progress per-stack progress display (default silent); concurrent deploys each get their own line
   */
  constructor(
    private readonly stacks: AccountStacks,
    private readonly progress: ProgressReporter = silentProgress,
  ) {}

  async deploy(request: AccountStackRequest): Promise<AccountStackResult> {
    const stackName = `account-${request.accountId}`;
    this.progress.start(stackName, "up");
    let result: Awaited<ReturnType<AccountStacks["deploy"]>>;
    try {
      result = await this.stacks.deploy({ accountId: request.accountId, tags: request.tags }, this.progress);
    } catch (error) {
      this.progress.fail(stackName, error instanceof Error ? error.message : String(error));
      throw error;
    }
    this.progress.succeed(stackName, result.summary);
    return {
      status: "deployed",
      stackName: result.stackName,
      outputs: maskOutputs(result.outputs),
      summary: result.summary,
    };
  }
}
