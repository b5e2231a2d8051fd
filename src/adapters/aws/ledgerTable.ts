/**
 * Physical layout of the DynamoDB request ledger: the one definition that the platform stack's table
 * (`src/components/`), the DynamoDB ledger and delivery store (which read and write it) and `createLedgerTable`
 * (tests, benchmarks) all derive from, and the conventions every adapter sharing the table keeps.
 */
/** One global secondary index: its name and its string hash key; every index projects ALL attributes. */
export interface LedgerIndex {
  readonly name: string;
  readonly hashKey: string;
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
  /** TTL attribute (epoch seconds): webhook delivery-dedupe items expire through it. */
  ttlAttribute: "expiresAt",
} as const;

/** Every global secondary index of the ledger table. */
export const LEDGER_INDEXES: readonly LedgerIndex[] = [
  { name: LEDGER_TABLE.byRequestIdIndex, hashKey: "requestId" },
  { name: LEDGER_TABLE.byAccountIdIndex, hashKey: "accountId" },
  { name: LEDGER_TABLE.byStateIndex, hashKey: "state" },
];

/** Every key attribute (table and index hash keys), all strings. */
export const LEDGER_KEY_ATTRIBUTES: readonly string[] = [LEDGER_TABLE.hashKey, ...LEDGER_INDEXES.map((i) => i.hashKey)];

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
