/**
 * `avm outputs <accountId>`: the outputs of an account's stack (`accessRoleArn`, `accessRoleName`, ...) from the
 * state backend, e.g. the access role ARN to enter in meshStack. Secret outputs are masked. Read-only.
 */
import { isAccountId } from "../../../src/shared/naming";
import { maskOutputs } from "../../stacks/localAccountStackRunner";
import type { CommandContext } from "../context";
import { CliUsageError } from "../errors";
import { resolveStackSettings, type StackFlags } from "../workflowSetup";

/** `--json` shape of `avm outputs`. */
export interface OutputsJson {
  readonly accountId: string;
  readonly stackName: string;
  /** Outputs by name; secret values replaced by `[secret]`. */
  readonly outputs: Readonly<Record<string, unknown>>;
}

/** Runs `avm outputs`. */
export async function outputsCommand(ctx: CommandContext, accountId: string, options: StackFlags): Promise<void> {
  if (!isAccountId(accountId)) {
    throw new CliUsageError(`<accountId> must be a 12-digit AWS account id, got "${accountId}"`);
  }
  const { settings } = await resolveStackSettings(ctx, options);
  const stacks = await ctx.deps.accountStacks(settings, ctx.io.env);
  const outputs = maskOutputs(await stacks.outputs(accountId));
  const json: OutputsJson = { accountId, stackName: `account-${accountId}`, outputs };
  const lines = Object.entries(outputs).map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
  ctx.out.result(json, `${lines.length === 0 ? "(no outputs)" : lines.join("\n")}\n`);
}
