/** A {@link DeadLetterQueue} for tests: messages in memory with SQS-like visibility and receive counts. */
import type { DeadLetterMessage, DeadLetterQueue } from "../../src/core/vending/reconcile";

interface Stored {
  readonly messageId: string;
  readonly body: string;
  receiveCount: number;
  visible: boolean;
}

/** In-memory dead-letter queue; records every call. */
export class FakeDeadLetterQueue implements DeadLetterQueue {
  readonly calls: string[] = [];
  private readonly stored: Stored[] = [];
  private next = 0;

  /** Adds a message as SQS would after `receiveCount` deliveries from the work queue; returns its id. */
  add(body: string, receiveCount = 5): string {
    this.next += 1;
    const messageId = `m-${this.next}`;
    this.stored.push({ messageId, body, receiveCount, visible: true });
    return messageId;
  }

  /** Ids of the messages still in the queue (visible or not), in order. */
  get ids(): string[] {
    return this.stored.map((m) => m.messageId);
  }

  /** Ids of the visible messages. */
  get visibleIds(): string[] {
    return this.stored.filter((m) => m.visible).map((m) => m.messageId);
  }

  async receive(maxMessages: number): Promise<DeadLetterMessage[]> {
    this.calls.push(`receive ${maxMessages}`);
    const batch = this.stored.filter((m) => m.visible).slice(0, maxMessages);
    return batch.map((m) => {
      m.visible = false;
      m.receiveCount += 1;
      return { messageId: m.messageId, body: m.body, receiveCount: m.receiveCount, receiptHandle: `rh-${m.messageId}` };
    });
  }

  async delete(message: DeadLetterMessage): Promise<void> {
    this.calls.push(`delete ${message.messageId}`);
    const index = this.stored.findIndex((m) => m.messageId === message.messageId);
    if (index >= 0) this.stored.splice(index, 1);
  }

  async release(message: DeadLetterMessage): Promise<void> {
    this.calls.push(`release ${message.messageId}`);
    const found = this.stored.find((m) => m.messageId === message.messageId);
    if (found) found.visible = true;
  }
}
