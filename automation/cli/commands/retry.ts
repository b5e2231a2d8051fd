/**
 * `avm retry <email|request id>`: drives a request again. A FAILED request goes back to RECEIVED (see
 * `src/vending/retryRequest.ts`) and resumes from where its account stands, never creating a second account;
 * an unfinished one is resumed; a SUCCEEDED one is reported (exit 0).
 */
import { TERMINAL_STATES, type LedgerRecord } from "../../../src/core/ledger";
import { reopenFailedRequest } from "../../../src/core/vending/retryRequest";
import { withLedger, type CommandContext } from "../context";
import { CliNotFoundError, CliRefusedError } from "../errors";
import { recordJson } from "../output";
import { openLocalWorkflow, type LocalWorkflowOptions } from "../workflowSetup";
import { describeLedger } from "./status";
import { driveRequest, outcomeError, vendText, type DriveResult } from "./vend";

/** Options of `avm retry`. */
export interface RetryOptions extends LocalWorkflowOptions {
  /** Give up waiting after this many seconds (the request stays resumable). */
  readonly timeout?: number;
}

/**
 * Runs `avm retry`.
 * @throws CliNotFoundError when no record matches, CliRefusedError for a CLOSING or CLOSED account
 */
export async function retryCommand(ctx: CommandContext, key: string, options: RetryOptions): Promise<void> {
  const timeoutMs = (options.timeout ?? 1800) * 1000;
  const { json, record, error } = await withLedger(ctx, async (ledger): Promise<DriveResult> => {
    const found: LedgerRecord | undefined = key.includes("@")
      ? await ledger.get(key)
      : await ledger.getByRequestId(key);
    if (!found) throw new CliNotFoundError(`no request found for ${key} in ${describeLedger(ctx)}`);
    if (found.state === "CLOSING" || found.state === "CLOSED") {
      throw new CliRefusedError(`request ${found.requestId} (${found.email}) is ${found.state}: its account is closed`);
    }
    if (found.state === "SUCCEEDED") {
      const outcome = { status: "terminal" as const, record: found };
      const result = {
        created: false,
        outcome: "terminal" as const,
        reason: null,
        stack: null,
        record: recordJson(found),
      };
      return { json: result, record: found, error: outcomeError(outcome) };
    }
    // Settings and AWS access are checked before the record is touched.
    const local = await openLocalWorkflow(ctx, ledger, options);
    for (const note of local.notes) ctx.out.progress(`note: ${note}`);
    const record = TERMINAL_STATES.has(found.state)
      ? await reopenFailedRequest(ledger, found, ctx.deps.timing.now(), { by: "avm retry" })
      : found;
    const verb = TERMINAL_STATES.has(found.state) ? `retrying ${found.state}` : "resuming";
    return driveRequest(ctx, ledger, local, record, { created: false, verb, timeoutMs });
  });
  ctx.out.result(json, vendText(json, record));
  if (error) throw error;
}
