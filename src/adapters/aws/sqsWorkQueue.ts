/**
 * The deployed {@link WorkQueue}: an SQS standard queue (with a dead-letter queue, created by the platform
 * stack). The body of each message is the JSON {@link WorkItem}. Delivery is at-least-once and unordered;
 * the ledger's conditional writes, not the queue, make processing exactly-once (moto's FIFO deduplication
 * differs from AWS anyway, see the moto notes).
 */
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { WorkItem, WorkQueue } from "../../core/ports";
import { serializeWorkItem, WorkQueueError } from "../../core/workItem";

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
