/**
 * {@link AccountStackRunner} on the local Automation API: `pulumi up` of the account's stack, status `deployed`.
 */
import type { AccountStackRequest, AccountStackResult, AccountStackRunner } from "../../src/vending/accountStackRunner";
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
  constructor(private readonly stacks: AccountStacks) {}

  async deploy(request: AccountStackRequest): Promise<AccountStackResult> {
    const result = await this.stacks.deploy({ accountId: request.accountId, tags: request.tags });
    return {
      status: "deployed",
      stackName: result.stackName,
      outputs: maskOutputs(result.outputs),
      summary: result.summary,
    };
  }
}
