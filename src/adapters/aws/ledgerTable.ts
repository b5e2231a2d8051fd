/**
 * Physical layout of the DynamoDB request ledger, shared by the Pulumi program (which creates the table)
 * and the DynamoDB ledger implementation (which reads and writes it).
 */
export const LEDGER_TABLE = {
  /** Partition key: the normalised account email (string). */
  hashKey: "email",
  /** Global secondary index on `requestId` (string), projection ALL. */
  byRequestIdIndex: "byRequestId",
  /** Global secondary index on `accountId` (string), projection ALL. */
  byAccountIdIndex: "byAccountId",
  /** Global secondary index on `state` (string), projection ALL: listing by state without a scan. */
  byStateIndex: "byState",
} as const;
