/** A {@link WorkQueue} for tests: records every item and can be told to fail. */
import type { WorkItem, WorkQueue } from "../../src/core/ports";

/** Records enqueued items in order; throws `failWith` instead when it is set. */
export class RecordingQueue implements WorkQueue {
  readonly items: WorkItem[] = [];
  failWith: Error | undefined;

  async enqueue(item: WorkItem): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.items.push({ email: item.email, requestId: item.requestId });
  }
}
