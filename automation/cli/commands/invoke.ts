/**
 * `avm invoke`: runs the AVMEntryPoint handler (the Lambda's own code, `createEntryPointHandler`) locally
 * on a JSON event from `--file` or stdin, against the local ledger and an in-process work queue, and prints
 * its response. With `--process` it then drives the enqueued request to a terminal state, as the SQS
 * worker would in AWS.
 *
 * The handler runs behind the same gate as in AWS (`src/vending/entryPointGate.ts`): a hook's account id and
 * email are checked with DescribeAccount (with the operator's Organizations credentials here), and vend
 * requests are refused unless `AVM_ENTRY_POINT_VENDING=true` (with `AVM_ENTRY_POINT_ADOPTION` and
 * `AVM_ENTRY_POINT_TARGET_OUS`, the variables the platform stack sets on the Lambda). To vend as an
 * operator, use `avm vend`.
 */
import path from "node:path";
import { readFile } from "node:fs/promises";
import type { EntryPointLogger, EntryPointResponse } from "../../../src/lambda/entryPoint/handler";
import { TERMINAL_STATES } from "../../../src/core/ledger";
import { InProcessWorkQueue } from "../../../src/adapters/local/inProcessWorkQueue";
import { authorityFromEnv, authorityProblems, createEntryPointGate } from "../../../src/core/vending/entryPointGate";
import { OrganizationsGateway } from "../../../src/adapters/aws/organizationsGateway";
import { ENV } from "../../../src/lambda/env";
import { CLI_ENV } from "../settings";
import { withLedger, type CommandContext } from "../context";
import { CliUsageError, CliValidationError, type CliError } from "../errors";
import { readAll } from "../io";
import { recordJson, recordText } from "../output";
import { openLocalWorkflow, type LocalWorkflowOptions } from "../workflowSetup";
import { outcomeError, processOrExplain, type VendJson } from "./vend";
import { stackJson } from "./vendIntake";

/** Options of `avm invoke`. */
export interface InvokeOptions extends LocalWorkflowOptions {
  readonly file?: string;
  readonly process?: boolean;
  /** Print the handler's structured log lines on stderr. */
  readonly logs?: boolean;
}

/** `--json` shape of `avm invoke`. */
export interface InvokeJson {
  /** The handler's response, verbatim: `{requestId, state}` or `{error: {message, issues}}`. */
  readonly response: EntryPointResponse;
  /** Work items the handler put on the queue (0 for a repeat of a request in flight or done). */
  readonly enqueued: number;
  /** With `--process`: the request driven to its end (same shape as `avm vend --json`), else null. */
  readonly processed: VendJson | null;
}

/** The Lambda's structured log lines as single JSON lines on stderr (or nowhere). */
function handlerLogger(ctx: CommandContext, enabled: boolean): EntryPointLogger {
  const keys: Record<string, unknown> = {};
  const line =
    (level: string) =>
    (message: unknown, ...extra: unknown[]): void => {
      if (!enabled) return;
      const fields = Object.assign({}, keys, ...extra.filter((e) => typeof e === "object" && e !== null));
      ctx.io.stderr.write(`${JSON.stringify({ level, message, service: "AVMEntryPoint", ...fields })}\n`);
    };
  return {
    info: line("INFO"),
    warn: line("WARN"),
    error: line("ERROR"),
    appendKeys: (attributes: Record<string, unknown>) => void Object.assign(keys, attributes),
    resetKeys: () => {
      for (const key of Object.keys(keys)) delete keys[key];
    },
    addContext: () => undefined,
  } as unknown as EntryPointLogger;
}

/** Reads and parses the event. @throws CliUsageError for an unreadable file or text that is not JSON */
async function readEvent(ctx: CommandContext, file: string | undefined): Promise<unknown> {
  const source = file === undefined || file === "-" ? "stdin" : `--file ${file}`;
  let text: string;
  try {
    text = source === "stdin" ? await readAll(ctx.io.stdin) : await readFile(path.resolve(ctx.io.cwd, file!), "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliUsageError(`cannot read ${source}: ${code ?? (error as Error).message}`, { cause: error });
  }
  if (text.trim() === "") throw new CliUsageError(`${source} is empty: expected one JSON event`);
  try {
    return JSON.parse(text);
  } catch (error) {
    const position = /position (\d+)/.exec(String((error as Error).message))?.[1];
    throw new CliUsageError(`${source} is not valid JSON${position ? ` (at position ${position})` : ""}`, {
      cause: error,
    });
  }
}

/** Runs `avm invoke`. */
export async function invokeCommand(ctx: CommandContext, options: InvokeOptions): Promise<void> {
  const event = await readEvent(ctx, options.file);
  // Loaded on use: the handler module brings the Lambda's logger and SQS/DynamoDB clients.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createEntryPointHandler } =
    require("../../../src/lambda/entryPoint/handler") as typeof import("../../../src/lambda/entryPoint/handler");
  const env = ctx.io.env;
  let authority;
  try {
    authority = authorityFromEnv(env, {
      vend: ENV.entryPointVending,
      adopt: ENV.entryPointAdoption,
      moveTargets: ENV.entryPointTargetOus,
    });
  } catch (error) {
    throw new CliUsageError((error as Error).message, { cause: error });
  }
  const defaultTargetOu = options.defaultOu ?? (env[CLI_ENV.defaultOu]?.trim() || undefined);
  const problems = authorityProblems(authority, defaultTargetOu);
  if (problems.length > 0) throw new CliUsageError(`entry point settings are inconsistent: ${problems.join("; ")}`);
  let gateway: OrganizationsGateway | undefined;
  const organizations = (): OrganizationsGateway =>
    (gateway ??= new OrganizationsGateway(ctx.deps.organizationsClient(env), { timing: ctx.deps.timing }));
  const gate = createEntryPointGate({
    authority,
    directory: { describeAccount: (accountId) => organizations().describeAccount(accountId) },
    managementAccountId:
      options.managementAccountId ??
      (env[CLI_ENV.managementAccountId]?.trim() ||
        (async () => (await organizations().describeOrganization()).managementAccountId)),
    ...(defaultTargetOu !== undefined ? { defaultTargetOu } : {}),
  });
  const { json, text, error } = await withLedger(ctx, async (ledger) => {
    const queue = new InProcessWorkQueue();
    const handler = createEntryPointHandler({
      ledger,
      queue,
      now: () => ctx.deps.timing.now(),
      logger: handlerLogger(ctx, options.logs === true),
      gate,
    });
    const response = await handler(event);
    const enqueued = queue.size;
    if ("error" in response) {
      const result: InvokeJson = { response, enqueued, processed: null };
      return {
        json: result,
        text: `${JSON.stringify(response, null, 2)}\n`,
        error: new CliValidationError(response.error.message, response.error.issues) as CliError,
      };
    }
    let processed: VendJson | null = null;
    let processedText = "";
    let failure: CliError | undefined;
    if (options.process === true) {
      const record = await ledger.getByRequestId(response.requestId);
      if (record && TERMINAL_STATES.has(record.state)) {
        processed = { created: false, outcome: "terminal", reason: null, stack: null, record: recordJson(record) };
        processedText = recordText(record);
        failure = outcomeError({ status: "terminal", record });
      } else if (record) {
        const local = await openLocalWorkflow(ctx, ledger, options);
        for (const note of local.notes) ctx.out.progress(`note: ${note}`);
        ctx.out.progress(
          `${record.email}: processing request ${record.requestId} (account stacks: ${local.runnerKind})`,
        );
        const outcome = await processOrExplain(ledger, record, () => local.workflow.processRequest(record.email));
        const final = "record" in outcome ? outcome.record : ((await ledger.get(record.email)) ?? record);
        local.progress.done(final);
        processed = {
          created: enqueued > 0,
          outcome: outcome.status,
          reason: outcome.status === "terminal" ? null : outcome.reason,
          stack: stackJson(final.accountId ? local.runner.results.get(final.accountId) : undefined),
          record: recordJson(final),
        };
        processedText = recordText(final);
        failure = outcomeError(outcome);
      }
    }
    const result: InvokeJson = { response, enqueued, processed };
    return { json: result, text: `${JSON.stringify(response, null, 2)}\n${processedText}`, error: failure };
  });
  ctx.out.result(json, text);
  if (error) throw error;
}
