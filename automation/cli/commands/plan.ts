/**
 * `avm plan <accountId>`: the account stack rendered offline. Runs the Pulumi program under the Pulumi mock
 * runtime (no Pulumi CLI, no AWS credentials), lists every resource and IAM policy it would create, and runs
 * the IAM catalog check on every policy. Nothing is deployed.
 */
import { isAccountId } from "../../../src/shared/naming";
import { workflowInputOf } from "../../../src/core/vending/workflow";
import type { OfflinePlan, PlannedPolicy, PlannedResource } from "../../plan/offlinePlan";
import { withLedger, type CommandContext } from "../context";
import { CliUsageError } from "../errors";
import { table } from "../output";
import { resolveStackSettings, type StackFlags } from "../workflowSetup";

/** Options of `avm plan`. */
export type PlanOptions = StackFlags;

/** `--json` shape of `avm plan`. */
export interface PlanJson {
  readonly accountId: string;
  readonly stackName: string;
  /** Always `planned`: nothing was deployed. */
  readonly status: "planned";
  readonly resources: readonly PlannedResource[];
  readonly policies: readonly PlannedPolicy[];
  /** The IAM catalog check passed for this many policies / actions. */
  readonly catalogCheck: { readonly policies: number; readonly actions: number };
}

/** Human rendering of a plan. */
export function planText(plan: Omit<OfflinePlan, "accountId">): string {
  const lines = [
    `${plan.stackName}: planned offline (no pulumi CLI, no credentials; nothing deployed)`,
    "",
    `resources (${plan.resources.length}):`,
    table(
      ["TYPE", "NAME"],
      plan.resources.map((r) => [r.type, r.name]),
    )
      .trimEnd()
      .split("\n")
      .map((l) => `  ${l}`)
      .join("\n"),
    "",
    `IAM policies (${plan.policies.length}); IAM catalog check passed for ${plan.catalogCheck.actions} actions in ${plan.catalogCheck.policies} policies:`,
  ];
  for (const policy of plan.policies) {
    lines.push(`  ${policy.name} (${policy.resource})`);
    lines.push(
      ...JSON.stringify(policy.document, null, 2)
        .split("\n")
        .map((l) => `    ${l}`),
    );
  }
  return `${lines.join("\n")}\n`;
}

/** Runs `avm plan`. */
export async function planCommand(ctx: CommandContext, accountId: string, options: PlanOptions): Promise<void> {
  if (!isAccountId(accountId)) {
    throw new CliUsageError(`<accountId> must be a 12-digit AWS account id, got "${accountId}"`);
  }
  const { settings, notes } = await resolveStackSettings(ctx, options);
  for (const note of notes) ctx.out.progress(`note: ${note}`);
  const record = await withLedger(ctx, (ledger) => ledger.getByAccountId(accountId));
  const tags = record ? workflowInputOf(record).tags : {};
  ctx.out.progress(`account-${accountId}: rendering the account stack under the Pulumi mock runtime`);
  const plan = await ctx.deps.planAccountStack({ accountId, tags }, settings);
  const json: PlanJson = {
    accountId,
    stackName: plan.stackName,
    status: "planned",
    resources: plan.resources,
    policies: plan.policies,
    catalogCheck: plan.catalogCheck,
  };
  ctx.out.result(json, planText(plan));
}
