/**
 * Physical layout of the DynamoDB request ledger: the one definition that the platform stack's table
 * (`src/components/`), the DynamoDB ledger and delivery store (which read and write it) and `createLedgerTable`
 * (tests, benchmarks) all derive from, and the conventions every adapter sharing the table keeps.
 */
/** One global secondary index: its name, its string hash key and optional string range key; every index projects ALL attributes. */
export interface LedgerIndex {
  readonly name: string;
  readonly hashKey: string;
  /** Sort key within a hash key, when the index has one. */
  readonly rangeKey?: string;
}

export const LEDGER_TABLE = {
  /** Partition key: the normalised account email (string). */
  hashKey: "email",
  /** Global secondary index on `requestId` (string), projection ALL. */
  byRequestIdIndex: "byRequestId",
  /** Global secondary index on `accountId` (string), projection ALL. */
  byAccountIdIndex: "byAccountId",
  /** Global secondary index on `state` (string), projection ALL: listing by state without a scan. */
  byStateIndex: "byState",
  /**
   * Global secondary index on `state` (hash) and `createdAt` (range, ISO-8601 string), projection ALL: a page of
   * `list` in its order ("records of state S after X, N of them") is one Query per state. Added next to `byState`
   * (not in its place: changing an index's keys deletes and recreates it), so a deployed table updates in place and
   * the ledger falls back to `byState` or a Scan while this index is missing or still backfilling.
   */
  byStateCreatedAtIndex: "byStateCreatedAt",
  /** TTL attribute (epoch seconds): webhook delivery-dedupe items expire through it. */
  ttlAttribute: "expiresAt",
} as const;

/** Every global secondary index of the ledger table. */
export const LEDGER_INDEXES: readonly LedgerIndex[] = [
  { name: LEDGER_TABLE.byRequestIdIndex, hashKey: "requestId" },
  { name: LEDGER_TABLE.byAccountIdIndex, hashKey: "accountId" },
  { name: LEDGER_TABLE.byStateIndex, hashKey: "state" },
  { name: LEDGER_TABLE.byStateCreatedAtIndex, hashKey: "state", rangeKey: "createdAt" },
];

/** The key attributes of a table with `indexes`: the table's hash key and every index key, each once, in order. */
export function keyAttributesOf(indexes: readonly LedgerIndex[]): string[] {
  return [
    ...new Set([
      LEDGER_TABLE.hashKey,
      ...indexes.flatMap((i) => (i.rangeKey === undefined ? [i.hashKey] : [i.hashKey, i.rangeKey])),
    ]),
  ];
}

/** Every key attribute (table and index keys, each once, in order of first use), all strings. */
export const LEDGER_KEY_ATTRIBUTES: readonly string[] = keyAttributesOf(LEDGER_INDEXES);

/** Keys of internal (non-request) items in the ledger table start with this; emails never do. */
export const RESERVED_KEY_PREFIX = "#";

/**
 * True when a write was rejected by its condition expression. By the error's name, which every copy of the SDK
 * sets (bundled or the Lambda runtime's, where `instanceof` would fail), so this module needs no SDK: the platform
 * stack's table component imports it, and a Pulumi program should not load a DynamoDB client.
 */
export function isConditionFailure(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === "ConditionalCheckFailedException";
}

/**
 * True when a Query failed because `index` is not there yet or still backfilling (a table deployed before the
 * index was added): AWS answers ValidationException "The table does not have the specified index: <name>" or
 * "Cannot read from backfilling global secondary index: <name>"; moto "Invalid index: <name> for table: ...";
 * some emulators a ResourceNotFoundException naming the index. Every such message names the index.
 */
export function isIndexUnavailable(error: unknown, index: string): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  const message = error instanceof Error ? error.message : "";
  return (name === "ValidationException" || name === "ResourceNotFoundException") && message.includes(index);
}
