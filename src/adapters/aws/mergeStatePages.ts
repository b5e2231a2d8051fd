/**
 * One page of `list` from per-state index partitions that are each sorted by `createdAt` only: the merge behind
 * the DynamoDB ledger's `byStateCreatedAt` index, kept apart from the SDK so it is tested with any tie order.
 *
 * DynamoDB returns a partition in `createdAt` order, but the order of records that share one `createdAt` is not
 * specified, while `list` orders them by email. So a record is only placed on the page when no unread record can
 * precede it: every partition not read to its end has unread records only at or after the `createdAt` of the last
 * item it returned, so the records strictly before the smallest such `createdAt` are final. When fewer than the page
 * size are final, the partitions holding that smallest `createdAt` are read further (from their own continuation
 * key) until enough are final or every partition is read to its end. With distinct `createdAt` values (the clock's
 * milliseconds) one read per partition of `limit + 1` items always suffices; records sharing one millisecond past
 * the page's end only cost more reads, never a wrong page.
 */
import { type LedgerRecord, type RequestState } from "../../core/ledger";
import { compareRecords, isAfterPosition, type ListPosition } from "../../core/ledgerRecords";

/** What one read of one state's partition returned. */
export interface StateChunk<K> {
  /** The request records read (internal items already dropped), in any order. */
  readonly records: readonly LedgerRecord[];
  /** `createdAt` of the last item the read returned (dropped ones included), when it returned any. */
  readonly lastCreatedAt?: string;
  /** Where the next read of this partition continues; `undefined` when the partition is read to its end. */
  readonly next?: K;
}

/** Reads `state`'s partition from `start` (from its first record at or after the page's `createdAt` when `undefined`). */
export type ReadStateChunk<K> = (state: RequestState, start: K | undefined) => Promise<StateChunk<K>>;

interface Partition<K> {
  readonly state: RequestState;
  readonly records: LedgerRecord[];
  lastCreatedAt: string;
  start: K | undefined;
  done: boolean;
}

/**
 * The first `limit` records of `states` after `after`, in `list` order (`createdAt`, then email), read with `read`.
 * The first round reads every partition once (in parallel); later rounds only the partitions that hold the
 * earliest unsettled `createdAt`.
 */
export async function mergeStatePages<K>(
  states: readonly RequestState[],
  after: ListPosition | undefined,
  limit: number,
  read: ReadStateChunk<K>,
): Promise<LedgerRecord[]> {
  if (limit <= 0 || states.length === 0) return [];
  const partitions: Partition<K>[] = [...new Set(states)].map((state) => ({
    state,
    records: [],
    lastCreatedAt: "",
    start: undefined,
    done: false,
  }));
  let pending = partitions;
  for (;;) {
    await Promise.all(
      pending.map(async (partition) => {
        const chunk = await read(partition.state, partition.start);
        if (chunk.lastCreatedAt !== undefined) partition.lastCreatedAt = chunk.lastCreatedAt;
        partition.records.push(
          ...chunk.records.filter(
            (record) => record.state === partition.state && (after === undefined || isAfterPosition(record, after)),
          ),
        );
        partition.start = chunk.next;
        partition.done = chunk.next === undefined;
      }),
    );
    const open = partitions.filter((partition) => !partition.done);
    const known = partitions.flatMap((partition) => partition.records).sort(compareRecords);
    if (open.length === 0) return known.slice(0, limit);
    // Unread records of an open partition have a createdAt >= its lastCreatedAt: those before the smallest are final.
    const bound = open.map((partition) => partition.lastCreatedAt).reduce((a, b) => (b < a ? b : a));
    const final = known.filter((record) => record.createdAt < bound);
    if (final.length >= limit) return final.slice(0, limit);
    pending = open.filter((partition) => partition.lastCreatedAt === bound);
  }
}
