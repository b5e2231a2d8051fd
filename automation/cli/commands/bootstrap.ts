/**
 * `avm bootstrap <accountId>`: deploys the account's stack (`account-<id>`: the meshStack access role and
 * baseline) with the local Automation API (`pulumi up`), or with `--remote` on Pulumi Deployments.
 * Tags come from the account's ledger record when there is one.
 */
import { isAccountId } from "../../../src/shared/naming";
import { workflowInputOf } from "../../../src/core/vending/workflow";
import { withLedger, type CommandContext } from "../context";
import { CliUsageError } from "../errors";
import { createProgress } from "../../progress";
import { createStackRunner, resolveStackSettings, type StackFlags } from "../workflowSetup";
import { stackJson, type StackJson } from "./vendIntake";

/** Options of `avm bootstrap`. */
export interface BootstrapOptions extends StackFlags {
  readonly remote?: boolean;
}

/** `--json` shape of `avm bootstrap`. */
export interface BootstrapJson extends StackJson {
  readonly accountId: string;
  /** Stack outputs (secrets masked), or null when the runner does not report them (remote). */
  readonly outputs: Readonly<Record<string, unknown>> | null;
  /** Request id of the ledger record the tags came from, or null. */
  readonly requestId: string | null;
}

/** Runs `avm bootstrap`. */
export async function bootstrapCommand(
  ctx: CommandContext,
  accountId: string,
  options: BootstrapOptions,
): Promise<void> {
  if (!isAccountId(accountId)) {
    throw new CliUsageError(`<accountId> must be a 12-digit AWS account id, got "${accountId}"`);
  }
  const { settings, notes } = await resolveStackSettings(ctx, options);
  for (const note of notes) ctx.out.progress(`note: ${note}`);
  const record = await withLedger(ctx, (ledger) => ledger.getByAccountId(accountId));
  const input = record ? workflowInputOf(record) : undefined;
  const kind = options.remote ? "remote" : "local";
  const runner = await createStackRunner(ctx, kind, settings, createProgress(ctx.out.progressStream));
  ctx.out.progress(`account-${accountId}: ${kind === "remote" ? "starting a Pulumi Deployments update" : "pulumi up"}`);
  const result = await runner.deploy({
    accountId,
    accountName: input?.accountName ?? `account-${accountId}`,
    email: record?.email ?? "",
    requestId: record?.requestId ?? `bootstrap-${accountId}`,
    tags: input?.tags ?? {},
  });
  const json: BootstrapJson = {
    accountId,
    ...stackJson(result)!,
    outputs: result.outputs ?? null,
    requestId: record?.requestId ?? null,
  };
  const outputs = Object.entries(result.outputs ?? {}).map(
    ([k, v]) => `  ${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`,
  );
  ctx.out.result(
    json,
    [
      `${result.stackName}: ${result.status} (${result.summary})`,
      ...(result.url ? [`url: ${result.url}`] : []),
      ...(outputs.length ? ["outputs:", ...outputs] : []),
    ].join("\n") + "\n",
  );
}
