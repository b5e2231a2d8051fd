/**
 * The deployed {@link DeadLetterQueue}: the work queue's SQS dead-letter queue (created by the platform stack
 * with a redrive policy on the work queue). Messages there are work items (see `sqsWorkQueue.ts`) whose last
 * delivery ended without the worker deleting them, typically because the worker Lambda crashed.
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { DeadLetterMessage, DeadLetterQueue } from "../../core/vending/reconcile";

/** Base class of dead-letter queue errors. */
export class DeadLetterQueueError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Options of {@link SqsDeadLetterQueue}. */
export interface SqsDeadLetterQueueOptions {
  /** An SQS client (created once by the caller). */
  readonly client: SQSClient;
  /** URL of the dead-letter queue (platform stack output `deadLetterQueueUrl`). */
  readonly queueUrl: string;
  /**
   * Long-poll wait of each receive, in seconds (0-20). Default 1: long polling asks every SQS server, so an
   * empty answer really means "nothing visible" (short polling samples a subset and may answer empty early).
   */
  readonly waitTimeSeconds?: number;
  /** How long a received message stays invisible to others while it is being reconciled. Default 60 s. */
  readonly visibilityTimeoutSeconds?: number;
}

function describe(error: unknown): string {
  const name = (error as { name?: unknown } | null)?.name;
  return `${String(name ?? "Error")}: ${(error as Error)?.message ?? String(error)}`;
}

/** Consumer side of the SQS dead-letter queue. */
export class SqsDeadLetterQueue implements DeadLetterQueue {
  private readonly client: SQSClient;
  private readonly queueUrl: string;
  private readonly waitTimeSeconds: number;
  private readonly visibilityTimeoutSeconds: number;

  constructor(options: SqsDeadLetterQueueOptions) {
    this.client = options.client;
    this.queueUrl = options.queueUrl;
    this.waitTimeSeconds = options.waitTimeSeconds ?? 1;
    this.visibilityTimeoutSeconds = options.visibilityTimeoutSeconds ?? 60;
  }

  /**
   * Receives up to `maxMessages` (1-10) visible messages with their `ApproximateReceiveCount`.
   * @throws DeadLetterQueueError keeping the SDK error as `cause`.
   */
  async receive(maxMessages: number): Promise<DeadLetterMessage[]> {
    if (!Number.isInteger(maxMessages) || maxMessages < 1 || maxMessages > 10) {
      throw new DeadLetterQueueError(`maxMessages must be an integer from 1 to 10, got ${maxMessages}`);
    }
    let messages;
    try {
      ({ Messages: messages } = await this.client.send(
        new ReceiveMessageCommand({
          QueueUrl: this.queueUrl,
          MaxNumberOfMessages: maxMessages,
          WaitTimeSeconds: this.waitTimeSeconds,
          VisibilityTimeout: this.visibilityTimeoutSeconds,
          MessageSystemAttributeNames: ["ApproximateReceiveCount"],
        }),
      ));
    } catch (error) {
      throw new DeadLetterQueueError(`cannot receive from the dead-letter queue: ${describe(error)}`, {
        cause: error,
      });
    }
    return (messages ?? []).map((message) => ({
      messageId: message.MessageId ?? "",
      body: message.Body ?? "",
      receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? "0"),
      receiptHandle: message.ReceiptHandle ?? "",
    }));
  }

  /** Deletes a received message. @throws DeadLetterQueueError keeping the SDK error as `cause`. */
  async delete(message: DeadLetterMessage): Promise<void> {
    try {
      await this.client.send(
        new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: message.receiptHandle }),
      );
    } catch (error) {
      throw new DeadLetterQueueError(`cannot delete dead-letter message ${message.messageId}: ${describe(error)}`, {
        cause: error,
      });
    }
  }

  /** Makes a received message visible again at once. @throws DeadLetterQueueError keeping the SDK error. */
  async release(message: DeadLetterMessage): Promise<void> {
    try {
      await this.client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.queueUrl,
          ReceiptHandle: message.receiptHandle,
          VisibilityTimeout: 0,
        }),
      );
    } catch (error) {
      throw new DeadLetterQueueError(`cannot release dead-letter message ${message.messageId}: ${describe(error)}`, {
        cause: error,
      });
    }
  }
}
