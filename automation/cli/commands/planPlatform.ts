/**
 * `avm plan-platform [stack]`: the platform stack rendered offline from its configuration (the JSON of
 * `pulumi config --json`, or plain `{"key": value}`, plus `--set key=value`). Runs the Pulumi program under the
 * Pulumi mock runtime (no Pulumi CLI, no AWS credentials), lists every resource and IAM policy it would create,
 * including the vending role and, with `meshfedServicePolicy`, meshStack's principal policy in the management
 * account, and runs the IAM catalog check on every policy. Nothing is deployed.
 */
import path from "node:path";
import { readFile } from "node:fs/promises";
import { PlatformPlanInputError, platformPlanInput } from "../../plan/platformPlanInput";
import type { PlannedPolicy, PlannedResource } from "../../plan/offlinePlan";
import type { CommandContext } from "../context";
import { CliUsageError } from "../errors";
import { readAll } from "../io";
import { planText } from "./plan";

/** Options of `avm plan-platform`. */
export interface PlanPlatformOptions {
  /** Stack configuration as JSON; `-` reads stdin. */
  readonly file?: string;
  /** `key=value` settings, applied after the file. */
  readonly set?: string[];
}

/** `--json` shape of `avm plan-platform`. */
export interface PlanPlatformJson {
  readonly stackName: string;
  /** Always `planned`: nothing was deployed. */
  readonly status: "planned";
  readonly resources: readonly PlannedResource[];
  readonly policies: readonly PlannedPolicy[];
  /** The IAM catalog check passed for this many policies / actions. */
  readonly catalogCheck: { readonly policies: number; readonly actions: number };
}

async function readConfigJson(ctx: CommandContext, file: string | undefined): Promise<unknown> {
  if (file === undefined) return undefined;
  let content: string;
  try {
    content = file === "-" ? await readAll(ctx.io.stdin) : await readFile(path.resolve(ctx.io.cwd, file), "utf8");
  } catch (error) {
    throw new CliUsageError(
      `cannot read --file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      { cause: error },
    );
  }
  try {
    return JSON.parse(content) as unknown;
  } catch (error) {
    throw new CliUsageError(`--file ${file} is not JSON: ${(error as Error).message}`, { cause: error });
  }
}

/** Runs `avm plan-platform`. */
export async function planPlatformCommand(
  ctx: CommandContext,
  stack: string,
  options: PlanPlatformOptions,
): Promise<void> {
  let input;
  try {
    input = platformPlanInput(await readConfigJson(ctx, options.file), options.set ?? []);
  } catch (error) {
    if (error instanceof PlatformPlanInputError) throw new CliUsageError(error.message, { cause: error });
    throw error;
  }
  ctx.out.progress(`${stack}: rendering the platform stack under the Pulumi mock runtime`);
  let plan;
  try {
    plan = await ctx.deps.planPlatformStack(stack, input.config, input.secretKeys);
  } catch (error) {
    // The program's own configuration check: a usage error naming the key, nothing was planned.
    if ((error as { programErrorName?: string }).programErrorName === "ConfigError") {
      throw new CliUsageError((error as Error).message, { cause: error });
    }
    throw error;
  }
  const json: PlanPlatformJson = {
    stackName: plan.stackName,
    status: "planned",
    resources: plan.resources,
    policies: plan.policies,
    catalogCheck: plan.catalogCheck,
  };
  ctx.out.result(json, planText(plan));
}
