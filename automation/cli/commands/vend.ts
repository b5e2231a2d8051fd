/**
 * `avm vend`: accepts a vend request (from flags or a JSON file) into the ledger, exactly as the
 * AVMEntryPoint Lambda would, then drives it locally through the account workflow to a terminal state
 * (CreateAccount, OU move, tags, account stack, completion tags) with progress on stderr.
 * Running the same command again resumes the same request; it never creates a second account.
 */
import { normaliseEmail, TERMINAL_STATES, type LedgerRecord } from "../../../src/core/ledger";
import { type Ledger } from "../../../src/core/ports";
import { SUPERSEDED_REASON, type ProcessOutcome } from "../../../src/core/vending/workflow";
import { withLedger, type CommandContext } from "../context";
import { CliError, CliFailedError, CliUsageError, toCliError } from "../errors";
import { recordJson, recordText, type RecordJson } from "../output";
import { openLocalWorkflow, type LocalWorkflow } from "../workflowSetup";
import {
  acceptVend,
  rawVendRequest,
  stackJson,
  validateVendRequest,
  type StackJson,
  type VendOptions,
} from "./vendIntake";

/** `--json` shape of `avm vend` (and of `avm invoke --process`'s `processed` member). */
export interface VendJson {
  /** False when the ledger already held a request for this email (the command resumed or reported it). */
  readonly created: boolean;
  /** `terminal`: SUCCEEDED/FAILED; `waiting`: a remote deployment reports back by webhook; `deferred`: ran out of time. */
  readonly outcome: ProcessOutcome["status"];
  /** Why the run stopped short of a terminal state, else null. */
  readonly reason: string | null;
  /** The account stack step, when it ran in this invocation. */
  readonly stack: StackJson | null;
  readonly record: RecordJson;
}

/** Renders a finished vend for humans. */
export function vendText(result: VendJson, record: LedgerRecord): string {
  const head = result.created ? "" : "(request already in the ledger: resumed)\n";
  const stack = result.stack
    ? `stack     ${result.stack.stackName}: ${result.stack.status} (${result.stack.summary})\n`
    : "";
  const why = result.reason ? `note      ${result.reason}\n` : "";
  return head + recordText(record) + stack + why;
}

/**
 * Exit status of a processed request: SUCCEEDED (or waiting for a webhook) is success; FAILED and
 * deferred are failures with one clear line.
 */
export function outcomeError(outcome: ProcessOutcome): CliError | undefined {
  if (outcome.status === "terminal") {
    const record = outcome.record;
    if (record.state === "FAILED") {
      return new CliFailedError(
        `request ${record.requestId} (${record.email}) FAILED: ${record.failureReason ?? "no reason recorded"}`,
      );
    }
    return undefined;
  }
  if (outcome.status === "waiting") return undefined;
  if (outcome.status === "busy") {
    return new CliFailedError(
      `${outcome.reason}; it did not finish within --timeout: run the command again to wait or take over`,
    );
  }
  if (outcome.status === "deferred") {
    return new CliFailedError(
      `request ${outcome.record.requestId} (${outcome.record.email}) not finished: ${outcome.reason}; run the command again to resume`,
    );
  }
  return new CliFailedError(`request not processed: ${outcome.reason}`);
}

/**
 * Runs the workflow; an error (AWS unreachable, engine failure) is reported with where the request stopped,
 * since the same command resumes it from there.
 */
export async function processOrExplain(
  ledger: Ledger,
  record: LedgerRecord,
  process: () => Promise<ProcessOutcome>,
): Promise<ProcessOutcome> {
  try {
    return await process();
  } catch (error) {
    const cliError = toCliError(error);
    const state = (await ledger.get(record.email).catch(() => undefined))?.state ?? record.state;
    throw new CliError(
      `${cliError.message} (request ${record.requestId} stays ${state}; run the command again to resume)`,
      cliError.code,
      cliError.exitCode,
      { cause: error },
    );
  }
}

/** How often a run waiting for another run's lease looks at the ledger. */
export const LEASE_POLL_MS = 1_000;

/** What {@link driveRequest} produced: the `--json` result, the final record and the exit error if any. */
export interface DriveResult {
  readonly json: VendJson;
  readonly record: LedgerRecord;
  readonly error: CliError | undefined;
}

/**
 * Runs the workflow on `record` under its request lease (taken by `processRequest` with a compare-and-set and
 * released when it stops). When another run holds the lease (or just changed the record), waits for that run's
 * outcome and takes over when its lease ends without one (a crashed holder): so two runs on one request never both
 * act. Polls the ledger only, every {@link LEASE_POLL_MS}; bounded by `deadline` (epoch ms). Shared by `avm vend`,
 * `avm retry` and `avm fleet adopt`.
 * @param onWait called once per lease holder the run waits for, with the reason (who holds it, until when)
 */
export async function processUnderLease(
  ctx: CommandContext,
  ledger: Ledger,
  local: LocalWorkflow,
  record: LedgerRecord,
  deadline: number,
  onWait: (reason: string) => void = () => undefined,
): Promise<ProcessOutcome> {
  const timing = ctx.deps.timing;
  const process = () =>
    processOrExplain(ledger, record, () =>
      local.workflow.processRequest(record.email, { deadline: new Date(deadline) }),
    );
  let outcome = await process();
  let reported = "";
  while (
    (outcome.status === "busy" || (outcome.status === "skipped" && outcome.reason === SUPERSEDED_REASON)) &&
    timing.now().getTime() < deadline
  ) {
    if (outcome.status === "busy" && outcome.lease.owner !== reported) {
      reported = outcome.lease.owner;
      onWait(outcome.reason);
    }
    await timing.sleep(Math.min(LEASE_POLL_MS, Math.max(0, deadline - timing.now().getTime())));
    outcome = await process();
  }
  return outcome;
}

/**
 * Drives a recorded request through the local workflow to a terminal state (or the timeout), with progress.
 * Shared by `avm vend` and `avm retry`.
 */
export async function driveRequest(
  ctx: CommandContext,
  ledger: Ledger,
  local: LocalWorkflow,
  record: LedgerRecord,
  how: { readonly created: boolean; readonly verb: string; readonly timeoutMs: number },
): Promise<DriveResult> {
  ctx.out.progress(`${record.email}: ${how.verb} request ${record.requestId} (account stacks: ${local.runnerKind})`);
  const deadline = ctx.deps.timing.now().getTime() + how.timeoutMs;
  const outcome = await processUnderLease(ctx, ledger, local, record, deadline, (reason) =>
    ctx.out.progress(`${record.email}: ${reason}; waiting for its outcome`),
  );
  const final = "record" in outcome ? outcome.record : ((await ledger.get(record.email)) ?? record);
  local.progress.done(final);
  const json: VendJson = {
    created: how.created,
    outcome: outcome.status,
    reason: outcome.status === "terminal" ? null : outcome.reason,
    stack: stackJson(final.accountId ? local.runner.results.get(final.accountId) : undefined),
    record: recordJson(final),
  };
  return { json, record: final, error: outcomeError(outcome) };
}

/** Runs `avm vend`: one request, or a batch file (`vendBatch.ts`). */
export async function vendCommand(ctx: CommandContext, options: VendOptions): Promise<number | void> {
  const { raw, fromFlags } = await rawVendRequest(ctx, options);
  if (!fromFlags && typeof raw === "string") {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const batch = require("./vendBatch") as typeof import("./vendBatch");
    if (batch.isBatch(raw, options.file ?? "-")) return batch.vendBatchCommand(ctx, options, raw);
  }
  if (options.concurrency !== undefined) throw new CliUsageError("--concurrency applies to batch files only");
  const request = validateVendRequest(raw, fromFlags);
  const timeoutMs = (options.timeout ?? 1800) * 1000;
  const { json, record, error } = await withLedger(ctx, async (ledger) => {
    const existing = await ledger.get(normaliseEmail(request.email));
    if (
      existing &&
      TERMINAL_STATES.has(existing.state) &&
      existing.state !== "FAILED" &&
      existing.state !== "PLANNED"
    ) {
      // Nothing left to do: report the stored outcome without touching AWS.
      const outcome: ProcessOutcome = { status: "terminal", record: existing };
      const result: VendJson = {
        created: false,
        outcome: "terminal",
        reason: null,
        stack: null,
        record: recordJson(existing),
      };
      return { json: result, record: existing, error: outcomeError(outcome) };
    }
    // Settings and AWS access are checked before the request is recorded.
    const local = await openLocalWorkflow(ctx, ledger, options);
    const accepted = await acceptVend(ledger, raw, fromFlags, () => ctx.deps.timing.now());
    for (const note of local.notes) ctx.out.progress(`note: ${note}`);
    const verb = accepted.created
      ? "accepted"
      : accepted.retried
        ? `retrying ${existing?.state ?? "FAILED"}`
        : "resuming";
    return driveRequest(ctx, ledger, local, accepted.record, { created: accepted.created, verb, timeoutMs });
  });
  ctx.out.result(json, vendText(json, record));
  if (error) throw error;
}
