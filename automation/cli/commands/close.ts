/**
 * `avm close <accountId>`: closes a member account after checking AWS's rolling 30-day close quota
 * (10% of member accounts, at least 10). Explicit only: it asks for confirmation (or `--yes`), never runs
 * as a side effect of anything else, and never removes an account from the organization.
 */
import { isAccountId } from "../../../src/shared/naming";
import { CloseRefusedError, type CloseQuota } from "../../../src/core/vending/workflow";
import { withLedger, type CommandContext } from "../context";
import { CliRefusedError, CliUsageError } from "../errors";
import { recordJson, type RecordJson } from "../output";
import { openLocalWorkflow } from "../workflowSetup";

/** Options of `avm close`. */
export interface CloseOptions {
  readonly yes?: boolean;
  readonly reason?: string;
}

/** `--json` shape of `avm close`. */
export interface CloseJson {
  readonly accountId: string;
  /** `close-requested`: CloseAccount accepted now; `already-closed`: it was closed (or closing) before. */
  readonly status: "close-requested" | "already-closed";
  /** The quota before this close; null when nothing needed closing. */
  readonly quota: CloseQuota | null;
  /** The account's ledger record, when the AVM vended or adopted it. */
  readonly record: RecordJson | null;
}

/**
 * Confirms, then closes.
 * @throws CliUsageError for a malformed id or a missing `--yes` without a terminal
 * @throws CliRefusedError when the operator declines, the quota is used up, or the workflow refuses
 */
export async function closeCommand(ctx: CommandContext, accountId: string, options: CloseOptions): Promise<void> {
  if (!isAccountId(accountId)) {
    throw new CliUsageError(`<accountId> must be a 12-digit AWS account id, got "${accountId}"`);
  }
  if (options.yes !== true) {
    if (!ctx.io.interactive || !ctx.io.prompt) {
      throw new CliUsageError("close needs --yes when not run interactively (closing an account cannot be undone)");
    }
    const answer = await ctx.io.prompt(
      `Close AWS account ${accountId}? It is suspended and can only be reopened through AWS Support for 90 days. Type the account id to confirm: `,
    );
    if (answer.trim() !== accountId) throw new CliRefusedError(`close of account ${accountId} not confirmed`);
  }
  const json = await withLedger(ctx, async (ledger) => {
    const local = await openLocalWorkflow(ctx, ledger, { withoutStacks: true });
    try {
      const outcome = await local.workflow.closeAccount({
        accountId,
        ...(options.reason !== undefined ? { reason: options.reason } : {}),
      });
      return {
        accountId,
        status: outcome.status,
        quota: outcome.quota ?? null,
        record: outcome.record ? recordJson(outcome.record) : null,
      } satisfies CloseJson;
    } catch (error) {
      if (error instanceof CloseRefusedError) throw new CliRefusedError(error.message, { cause: error });
      throw error;
    }
  });
  const quota = json.quota
    ? ` (close quota: ${json.quota.used + (json.status === "close-requested" ? 1 : 0)} of ${json.quota.allowed} used in the last 30 days)`
    : "";
  ctx.out.result(
    json,
    json.status === "already-closed"
      ? `account ${accountId} was already closed\n`
      : `account ${accountId}: close requested${quota}; it stays in the organization (SUSPENDED)\n`,
  );
}
