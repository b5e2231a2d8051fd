/**
 * `avm reconcile --dlq-url <url>`: ends or resumes the requests whose work messages SQS moved to the
 * dead-letter queue (the worker Lambda crashed on their last delivery), so every request still ends
 * SUCCEEDED or FAILED with a reason. The rule is `reconcileDeadLetters` in `src/vending/reconcile.ts`:
 * records that cannot have an account are marked FAILED (`dead-lettered in <state> after <n> deliveries`),
 * records whose account exists or may exist are put back on the work queue (`--queue-url`, a bounded number
 * of times), terminal records are left alone, unreadable messages are reported and left.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import {
  DEFAULT_RECONCILE_MAX_MESSAGES,
  reconcileDeadLetters,
  type ReconcileResult,
} from "../../../src/core/vending/reconcile";
import { SqsDeadLetterQueue } from "../../../src/adapters/aws/sqsDeadLetterQueue";
import { SqsWorkQueue } from "../../../src/adapters/aws/sqsWorkQueue";
import { withLedger, type CommandContext } from "../context";
import { CliUsageError } from "../errors";
import { table } from "../output";

/** Options of `avm reconcile`. */
export interface ReconcileCommandOptions {
  /** URL of the dead-letter queue (platform stack output `deadLetterQueueUrl`). Required. */
  readonly dlqUrl?: string;
  /** URL of the work queue (output `queueUrl`); without it records that need a re-drive are skipped. */
  readonly queueUrl?: string;
  /** Most messages examined. Default 100. */
  readonly max?: number;
  /** Report only; change nothing. */
  readonly dryRun?: boolean;
}

/** `--json` shape of `avm reconcile`: the reconcile result as it is (`messages`: one entry per message). */
export type ReconcileJson = ReconcileResult;

const AWS_QUEUE_HOST = /^(?:sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?|([a-z0-9-]+)\.queue\.amazonaws\.com)$/;

/**
 * Checks a queue URL flag and returns the region its host names (AWS hosts only).
 * @throws CliUsageError naming the flag
 */
export function queueUrlRegion(flag: string, value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliUsageError(
      `${flag} must be an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<queue>), got "${value}"`,
    );
  }
  if ((url.protocol !== "https:" && url.protocol !== "http:") || url.pathname.split("/").filter(Boolean).length !== 2) {
    throw new CliUsageError(
      `${flag} must be an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<queue>), got "${value}"`,
    );
  }
  const match = AWS_QUEUE_HOST.exec(url.hostname);
  return match ? (match[1] ?? match[2]) : undefined;
}

/** Runs `avm reconcile`. */
export async function reconcileCommand(ctx: CommandContext, options: ReconcileCommandOptions): Promise<void> {
  if (options.dlqUrl === undefined) throw new CliUsageError("reconcile needs --dlq-url <url>");
  const dlqRegion = queueUrlRegion("--dlq-url", options.dlqUrl);
  if (options.queueUrl !== undefined) queueUrlRegion("--queue-url", options.queueUrl);
  if (options.queueUrl !== undefined && options.queueUrl === options.dlqUrl) {
    throw new CliUsageError("--queue-url must be the work queue, not the dead-letter queue");
  }
  const client: SQSClient = ctx.deps.sqsClient(ctx.settings.region ?? dlqRegion);
  let result: ReconcileResult;
  try {
    result = await withLedger(ctx, (ledger) =>
      reconcileDeadLetters({
        ledger,
        deadLetters: new SqsDeadLetterQueue({ client, queueUrl: options.dlqUrl! }),
        ...(options.queueUrl !== undefined
          ? { workQueue: new SqsWorkQueue({ client, queueUrl: options.queueUrl }) }
          : {}),
        timing: ctx.deps.timing,
        maxMessages: options.max ?? DEFAULT_RECONCILE_MAX_MESSAGES,
        dryRun: options.dryRun === true,
      }),
    );
  } finally {
    client.destroy();
  }
  const json: ReconcileJson = result;
  const rows = result.messages.map((m) => [m.messageId, m.action, m.email ?? "-", m.state ?? "-", m.reason]);
  const summary =
    `examined ${result.examined}: ${result.failed} failed, ${result.requeued} requeued, ` +
    `${result.skipped} skipped, ${result.unreadable} unreadable` +
    (result.dryRun ? " (dry run: nothing changed)" : "");
  const text =
    result.examined === 0
      ? "the dead-letter queue has no visible messages\n"
      : `${table(["MESSAGE ID", "ACTION", "EMAIL", "STATE", "REASON"], rows)}${summary}\n`;
  ctx.out.result(json, text);
}
