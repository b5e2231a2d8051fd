/**
 * The work queue between the entry point (producer) and the worker (consumer). SQS when deployed;
 * an in-process queue for the CLI and tests.
 */

/** One unit of work: "drive this ledger record one more time towards a terminal state". */
export interface WorkItem {
  /** Ledger key (normalised email). */
  readonly email: string;
  readonly requestId: string;
}

/** Producer side of the work queue. Delivery is at-least-once; the ledger makes processing idempotent. */
export interface WorkQueue {
  enqueue(item: WorkItem): Promise<void>;
}
