/**
 * `avm vend -f requests.jsonl` (or `-f -`): many vend requests in one process. Each line is one request, checked
 * and recorded through the same intake as a single vend and driven through the same workflow, with at most
 * `--concurrency` requests at once and CreateAccount within the ledger's slots. A bad line is reported with its
 * line number and field and the other lines go on; a line whose request is already terminal is reported without
 * AWS calls, so running the same file again finishes only what is unfinished. Offline account stacks are
 * planned by long-lived planners (`@pulumi/aws` loads once per planner, not once per account).
 */
import { normaliseEmail, TERMINAL_STATES, type LedgerRecord } from "../../../src/core/ledger";
import { type Ledger } from "../../../src/core/ports";
import { RequestValidationError, type RequestIssue } from "../../../src/core/vending/requestRules";
import { parseVendRequest } from "../../../src/core/vending/requests";
import type { ProcessOutcome } from "../../../src/core/vending/workflow";
import { mapWithLimit } from "../../concurrency";
import { createProgress } from "../../progress";
import { withLedger, type CommandContext } from "../context";
import { EXIT, toCliError } from "../errors";
import { recordJson, table, type RecordJson } from "../output";
import { effectiveRunner, openLocalWorkflow, type LocalWorkflow } from "../workflowSetup";
import { acceptVend, stackJson, type StackJson, type VendOptions } from "./vendIntake";

/**
 * Requests driven at once unless `--concurrency` says otherwise. More than the 5 CreateAccount slots: while some
 * requests wait for a slot, others move, tag and plan (50 accounts on moto: about 15% faster than 5 at once).
 */
export const DEFAULT_BATCH_CONCURRENCY = 10;
/** Long-lived offline planners of a batch at most (the second starts only for a lasting backlog). */
export const BATCH_PLANNERS = 2;
/** Local account stacks (`pulumi up`, each an engine with its plugins) a batch runs at once at most. */
export const BATCH_LOCAL_STACKS = 4;

/** One line of a batch file. */
export interface BatchLine {
  /** 1-based line number (item number of a JSON array). */
  readonly line: number;
  /** The parsed JSON value, or the error that made it unreadable. */
  readonly value?: unknown;
  readonly error?: { readonly message: string; readonly issues: readonly RequestIssue[] };
}

/**
 * True when `text` from `file` is a batch: a `.jsonl`/`.ndjson` file, a JSON array, or several lines that are not
 * one JSON document. A single JSON object is a single vend, as before.
 */
export function isBatch(text: string, file: string): boolean {
  if (/\.(jsonl|ndjson)$/i.test(file)) return true;
  const trimmed = text.trim();
  if (trimmed.startsWith("[")) return true;
  try {
    JSON.parse(trimmed);
    return false;
  } catch {
    return trimmed.split("\n").filter((l) => l.trim() !== "").length > 1;
  }
}

/** Splits a batch into its lines (blank lines skipped); unreadable JSON is reported per line. */
export function batchLines(text: string): BatchLine[] {
  const trimmed = text.trim();
  if (trimmed.startsWith("[")) {
    try {
      const items = JSON.parse(trimmed) as unknown;
      if (Array.isArray(items)) return items.map((value, i) => ({ line: i + 1, value }));
    } catch {
      // Not one JSON array: read it line by line below.
    }
  }
  const lines: BatchLine[] = [];
  text.split("\n").forEach((raw, i) => {
    if (raw.trim() === "") return;
    try {
      lines.push({ line: i + 1, value: JSON.parse(raw) as unknown });
    } catch (error) {
      const position = /position (\d+)/.exec(String((error as Error).message))?.[1];
      const message = `not valid JSON${position ? ` (at position ${position})` : ""}`;
      lines.push({ line: i + 1, error: { message, issues: [{ field: "line", message }] } });
    }
  });
  return lines;
}

/** Outcome of one line: a workflow outcome, or `invalid` (nothing recorded) or `error` (stopped by an error). */
export type BatchOutcome = ProcessOutcome["status"] | "invalid" | "error";

/** One line in the `--json` result of a batch. */
export interface BatchResultJson {
  readonly line: number;
  readonly email: string | null;
  readonly outcome: BatchOutcome;
  /** False when the ledger already held the request (resumed or already terminal). */
  readonly created: boolean;
  /** Why the line stopped short of a terminal state, or what was wrong with it; else null. */
  readonly reason: string | null;
  readonly issues: readonly RequestIssue[] | null;
  readonly stack: StackJson | null;
  readonly record: RecordJson | null;
}

/** `--json` shape of a batch vend. */
export interface BatchJson {
  readonly total: number;
  readonly succeeded: number;
  /** Lines whose account stack was only planned (`--runner offline`): PLANNED, not deployed. */
  readonly planned: number;
  readonly failed: number;
  /** Waiting for a webhook (remote stacks) or ran out of time: resumable by running the file again. */
  readonly unfinished: number;
  readonly invalid: number;
  readonly seconds: number;
  readonly results: readonly BatchResultJson[];
}

function issueText(issues: readonly RequestIssue[]): string {
  return issues
    .slice(0, 3)
    .map((i) => `${i.field}: ${i.message}`)
    .join("; ");
}

/** Live counts: done/failed/in flight and an ETA from the rate so far. */
class BatchProgress {
  private done = 0;
  private failed = 0;
  private inFlight = 0;
  private readonly started: number;
  private readonly live;

  constructor(
    private readonly ctx: CommandContext,
    private readonly total: number,
  ) {
    this.started = ctx.deps.timing.now().getTime();
    const stream = ctx.out.progressStream;
    this.live = !ctx.out.quiet && stream.isTTY === true ? createProgress(stream, true) : undefined;
  }

  private summary(): string {
    const elapsed = (this.ctx.deps.timing.now().getTime() - this.started) / 1000;
    const left = this.total - this.done;
    const eta = this.done > 0 && left > 0 ? `, ETA ${Math.ceil((elapsed / this.done) * left)} s` : "";
    return `${this.done}/${this.total} done, ${this.failed} failed, ${this.inFlight} in flight${eta}`;
  }

  start(): void {
    this.inFlight += 1;
    this.live?.update("batch", `vend: ${this.summary()}`);
  }

  /** A line is done; `started` when {@link start} was called for it. */
  finish(result: BatchResultJson, started: boolean): void {
    if (started) this.inFlight -= 1;
    this.done += 1;
    const ok =
      result.outcome === "waiting" || result.record?.state === "SUCCEEDED" || result.record?.state === "PLANNED";
    if (!ok) this.failed += 1;
    const what = result.record?.state ?? result.outcome;
    const detail = result.reason ?? (result.record?.accountId ? `account ${result.record.accountId}` : "");
    const line = `line ${result.line}${result.email ? ` ${result.email}` : ""}: ${what}${detail ? ` ${detail}` : ""}`;
    if (this.live) {
      if (!ok) this.live.fail(`line ${result.line}`, line);
      this.live.update("batch", `vend: ${this.summary()}`);
    } else {
      this.ctx.out.progress(`[${this.summary()}] ${line}`);
    }
  }
}

/** Renders the end-of-batch table and totals for humans. */
export function batchText(result: BatchJson): string {
  const rows = result.results.map((r) => [
    String(r.line),
    r.email ?? "-",
    r.record?.state ?? r.outcome.toUpperCase(),
    r.record?.accountId ?? "-",
    r.reason ?? r.stack?.status ?? "",
  ]);
  return (
    table(["line", "email", "state", "account", "note"], rows) +
    `${result.total} requests: ${result.succeeded} succeeded, ${result.planned ? `${result.planned} planned (not deployed), ` : ""}${result.failed} failed, ${result.unfinished} unfinished, ` +
    `${result.invalid} invalid (${result.seconds.toFixed(1)} s)\n`
  );
}

/**
 * Runs a batch vend of `text` (the file's content) and returns the exit code: 0 when every line SUCCEEDED (or
 * waits for a webhook), 2 when every line is invalid, else 1.
 */
export async function vendBatchCommand(ctx: CommandContext, options: VendOptions, text: string): Promise<number> {
  const started = ctx.deps.timing.now().getTime();
  const timeoutMs = (options.timeout ?? 1800) * 1000;
  const deadline = new Date(started + timeoutMs);
  const lines = batchLines(text);
  const results: BatchResultJson[] = [];
  const none = { created: false, reason: null, issues: null, stack: null, record: null };
  const invalid = (line: number, email: string | null, message: string, issues: readonly RequestIssue[]) =>
    ({ ...none, line, email, outcome: "invalid", reason: message, issues }) satisfies BatchResultJson;
  const progress = new BatchProgress(ctx, lines.length);

  // Validate every line first: a bad line never stops the good ones, and two lines for one email are refused.
  const valid: { line: number; value: unknown; email: string }[] = [];
  const firstLineOf = new Map<string, number>();
  for (const entry of lines) {
    let result: BatchResultJson | undefined;
    if (entry.error) {
      result = invalid(entry.line, null, `line ${entry.line}: ${entry.error.message}`, entry.error.issues);
    } else {
      try {
        const request = parseVendRequest(entry.value);
        const email = normaliseEmail(request.email);
        const first = firstLineOf.get(email);
        if (first !== undefined) {
          const message = `line ${entry.line}: email: ${email} is already requested on line ${first}`;
          result = invalid(entry.line, email, message, [{ field: "email", message: `already on line ${first}` }]);
        } else {
          firstLineOf.set(email, entry.line);
          valid.push({ line: entry.line, value: entry.value, email });
        }
      } catch (error) {
        if (!(error instanceof RequestValidationError)) throw error;
        result = invalid(entry.line, null, `line ${entry.line}: ${issueText(error.issues)}`, error.issues);
      }
    }
    if (result) {
      results.push(result);
      progress.finish(result, false);
    }
  }

  // The offline planner loads the program while the ledger is read and the organization described.
  if (valid.length > 0 && runsOffline(ctx, options)) ctx.deps.prestartOfflinePlanner?.();
  await withLedger(ctx, async (ledger) => {
    let local: LocalWorkflow | undefined;
    let opening: Promise<LocalWorkflow> | undefined;
    // The workflow (and AWS) only when some request is unfinished: a finished file makes no AWS calls.
    const workflow = () =>
      (opening ??= openLocalWorkflow(ctx, ledger, {
        ...options,
        stepProgress: false,
        planners: BATCH_PLANNERS,
        localStacksAtOnce: BATCH_LOCAL_STACKS,
        // In-process slots are cheap to look at; lease items in DynamoDB are read on every look.
        slotWait:
          ctx.settings.ledger.kind === "sqlite"
            ? { baseDelayMs: 20, maxDelayMs: 500 }
            : { baseDelayMs: 250, maxDelayMs: 5_000 },
      }).then((opened) => (local = opened)));
    try {
      const concurrency = options.concurrency ?? DEFAULT_BATCH_CONCURRENCY;
      const driven = await mapWithLimit(valid, concurrency, async (entry) => {
        progress.start();
        const result = await driveLine(ctx, ledger, workflow, entry, deadline);
        progress.finish(result, true);
        return result;
      });
      results.push(...driven);
    } finally {
      await local?.runner.close();
    }
  });

  results.sort((a, b) => a.line - b.line);
  const count = (f: (r: BatchResultJson) => boolean) => results.filter(f).length;
  const json: BatchJson = {
    total: results.length,
    succeeded: count((r) => r.record?.state === "SUCCEEDED"),
    planned: count((r) => r.record?.state === "PLANNED"),
    failed: count((r) => r.record?.state === "FAILED" || r.outcome === "error"),
    unfinished: count((r) => r.outcome === "waiting" || r.outcome === "deferred"),
    invalid: count((r) => r.outcome === "invalid"),
    seconds: (ctx.deps.timing.now().getTime() - started) / 1000,
    results,
  };
  ctx.out.result(json, batchText(json));
  if (json.total > 0 && json.invalid === json.total) return EXIT.usage;
  return json.succeeded + json.planned + count((r) => r.outcome === "waiting") === json.total ? EXIT.ok : EXIT.runtime;
}

/** Whether this batch's account stacks are planned offline (a misconfigured runner is reported later, per line). */
function runsOffline(ctx: CommandContext, options: VendOptions): boolean {
  try {
    return effectiveRunner(ctx, options.runner) === "offline";
  } catch {
    return false;
  }
}

/** Records and drives one valid line; every error becomes the line's result. */
async function driveLine(
  ctx: CommandContext,
  ledger: Ledger,
  workflow: () => Promise<LocalWorkflow>,
  entry: { line: number; value: unknown; email: string },
  deadline: Date,
): Promise<BatchResultJson> {
  const base = { line: entry.line, email: entry.email, issues: null, stack: null };
  let record: LedgerRecord | undefined;
  try {
    const existing = await ledger.get(entry.email);
    if (existing && TERMINAL_STATES.has(existing.state)) {
      return { ...base, outcome: "terminal", created: false, reason: null, record: recordJson(existing) };
    }
    const local = await workflow();
    const accepted = await acceptVend(ledger, entry.value, false, () => ctx.deps.timing.now());
    record = accepted.record;
    const outcome = await local.workflow.processRequest(record.email, { deadline });
    const final = "record" in outcome ? outcome.record : ((await ledger.get(record.email)) ?? record);
    return {
      ...base,
      outcome: outcome.status,
      created: accepted.created,
      reason: outcome.status === "terminal" ? (final.failureReason ?? null) : outcome.reason,
      stack: stackJson(final.accountId ? local.runner.results.get(final.accountId) : undefined),
      record: recordJson(final),
    };
  } catch (error) {
    const cliError = toCliError(error);
    if (cliError.code === "validation") {
      const issues = (cliError as { issues?: readonly RequestIssue[] }).issues ?? [];
      return {
        ...base,
        outcome: "invalid",
        created: false,
        reason: `line ${entry.line}: ${cliError.message}`,
        issues,
        record: null,
      };
    }
    const now = record ? await ledger.get(record.email).catch(() => undefined) : undefined;
    const stays = now ?? record;
    return {
      ...base,
      outcome: "error",
      created: false,
      reason: `${cliError.message}${stays ? ` (request ${stays.requestId} stays ${stays.state}; run the file again to resume)` : ""}`,
      record: stays ? recordJson(stays) : null,
    };
  }
}
