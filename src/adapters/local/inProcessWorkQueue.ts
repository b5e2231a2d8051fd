/**
 * The {@link WorkQueue} of the CLI and tests: items wait in memory until {@link InProcessWorkQueue.drain}
 * processes them with bounded concurrency. At-least-once like SQS: an item whose processing throws is
 * retried up to `maxAttempts` times, then handed to `onDeadLetter`.
 */
import type { WorkItem, WorkQueue } from "../../core/ports";

/** Options of {@link InProcessWorkQueue.drain}. */
export interface DrainOptions {
  /** Items processed at the same time. Default 5. */
  readonly concurrency?: number;
  /** Attempts per item before it is dead-lettered. Default 3. */
  readonly maxAttempts?: number;
  /** Called with an item that failed `maxAttempts` times and its last error. Default: ignore. */
  readonly onDeadLetter?: (item: WorkItem, error: unknown) => void | Promise<void>;
}

/** Outcome of one {@link InProcessWorkQueue.drain}. */
export interface DrainResult {
  /** Items processed without an error. */
  readonly processed: number;
  /** Items that failed every attempt. */
  readonly deadLettered: number;
}

/** An in-memory FIFO queue. */
export class InProcessWorkQueue implements WorkQueue {
  private readonly items: { item: WorkItem; attempts: number }[] = [];

  async enqueue(item: WorkItem): Promise<void> {
    this.items.push({ item: { email: item.email, requestId: item.requestId }, attempts: 0 });
  }

  /** Number of items waiting. */
  get size(): number {
    return this.items.length;
  }

  /** The waiting items, oldest first (copies). */
  pending(): WorkItem[] {
    return this.items.map(({ item }) => ({ ...item }));
  }

  /**
   * Processes items until the queue is empty, including items enqueued while draining (e.g. by `process`
   * itself). Never rejects because of `process`: failures are retried, then dead-lettered.
   */
  async drain(process: (item: WorkItem) => Promise<void>, options: DrainOptions = {}): Promise<DrainResult> {
    const concurrency = Math.max(1, Math.trunc(options.concurrency ?? 5));
    const maxAttempts = Math.max(1, Math.trunc(options.maxAttempts ?? 3));
    let processed = 0;
    let deadLettered = 0;
    let active = 0;
    const run = async (entry: { item: WorkItem; attempts: number }): Promise<void> => {
      entry.attempts += 1;
      try {
        await process({ ...entry.item });
        processed += 1;
      } catch (error) {
        if (entry.attempts < maxAttempts) this.items.push(entry);
        else {
          deadLettered += 1;
          try {
            await options.onDeadLetter?.({ ...entry.item }, error);
          } catch {
            // A failing dead-letter callback must not stop the drain.
          }
        }
      }
    };
    await new Promise<void>((resolve) => {
      const pump = (): void => {
        while (active < concurrency && this.items.length > 0) {
          active += 1;
          void run(this.items.shift()!).finally(() => {
            active -= 1;
            pump();
          });
        }
        if (active === 0 && this.items.length === 0) resolve();
      };
      pump();
    });
    return { processed, deadLettered };
  }
}
