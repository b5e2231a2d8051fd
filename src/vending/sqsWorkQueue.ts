/**
 * The deployed {@link WorkQueue}: an SQS standard queue (with a dead-letter queue, created by the platform
 * stack). The body of each message is the JSON {@link WorkItem}. Delivery is at-least-once and unordered;
 * the ledger's conditional writes, not the queue, make processing exactly-once (moto's FIFO deduplication
 * differs from AWS anyway, see the moto notes).
 */
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { WorkItem, WorkQueue } from "./workQueue";

/** Base class of work queue errors. */
export class WorkQueueError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A message body is not a work item. */
export class WorkItemFormatError extends WorkQueueError {}

/** The JSON message body of `item` (only the two contract fields, in a fixed order). */
export function serializeWorkItem(item: WorkItem): string {
  return JSON.stringify({ email: item.email, requestId: item.requestId });
}

/**
 * Reads a message body written by {@link serializeWorkItem}.
 * @throws WorkItemFormatError naming what is wrong (never echoing the body).
 */
export function parseWorkItem(body: string): WorkItem {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (error) {
    throw new WorkItemFormatError("work item body is not valid JSON", { cause: error });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new WorkItemFormatError("work item body must be a JSON object");
  }
  const { email, requestId } = value as Record<string, unknown>;
  if (typeof email !== "string" || email.trim() === "") {
    throw new WorkItemFormatError("work item field email must be a non-empty string");
  }
  if (typeof requestId !== "string" || requestId.trim() === "") {
    throw new WorkItemFormatError("work item field requestId must be a non-empty string");
  }
  return { email, requestId };
}

/** Options of {@link SqsWorkQueue}. */
export interface SqsWorkQueueOptions {
  /** An SQS client (created once by the caller, e.g. at Lambda module scope). */
  readonly client: SQSClient;
  /** Queue URL (the platform stack passes it in `AVM_QUEUE_URL`). */
  readonly queueUrl: string;
}

/** Producer side of the SQS work queue. */
export class SqsWorkQueue implements WorkQueue {
  private readonly client: SQSClient;
  private readonly queueUrl: string;

  constructor(options: SqsWorkQueueOptions) {
    this.client = options.client;
    this.queueUrl = options.queueUrl;
  }

  /**
   * Sends `item` (visible after `delaySeconds`, 0-900, default 0).
   * @throws WorkQueueError keeping the SDK error as `cause`.
   */
  async enqueue(item: WorkItem, delaySeconds = 0): Promise<void> {
    if (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > 900) {
      throw new WorkQueueError(`delaySeconds must be an integer from 0 to 900, got ${delaySeconds}`);
    }
    try {
      await this.client.send(
        new SendMessageCommand({
          QueueUrl: this.queueUrl,
          MessageBody: serializeWorkItem(item),
          ...(delaySeconds > 0 ? { DelaySeconds: delaySeconds } : {}),
          MessageAttributes: { requestId: { DataType: "String", StringValue: item.requestId } },
        }),
      );
    } catch (error) {
      const name = (error as { name?: unknown } | null)?.name;
      throw new WorkQueueError(
        `cannot enqueue request ${item.requestId}: ${String(name ?? "Error")}: ${(error as Error)?.message ?? String(error)}`,
        { cause: error },
      );
    }
  }
}
