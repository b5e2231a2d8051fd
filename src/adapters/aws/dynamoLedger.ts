/**
 * The deployed {@link Ledger}: a DynamoDB table laid out as `ledgerTable.ts` says (hash key `email`,
 * global secondary indexes `byRequestId`, `byAccountId`, `byState`, `byStateCreatedAt`).
 *
 * - `claim` is a `PutItem` with `attribute_not_exists(email)`: of two concurrent claims exactly one wins.
 * - `update` reads the item (strongly consistent), applies the patch and writes it back with
 *   `version = :expected`: a stale writer gets {@link LedgerConflictError}.
 * - Lookups through a GSI (`getByRequestId`, `getByAccountId`, `list` by state) are one Query each: the indexes
 *   project ALL attributes, so a hit is not re-read. They are eventually consistent in AWS (a hit may lag a
 *   write by a moment); callers that decide on the state or write re-read the record by email.
 *
 * The same table also holds internal items whose key starts with `#` (e.g. the CreateAccount slots of
 * `dynamoCreateSlots.ts`); such a key can never be an email, and `list` skips them.
 */
import { isDeepStrictEqual } from "node:util";
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  QueryCommand,
  ScanCommand,
  type AttributeValue,
} from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import {
  LedgerError,
  LedgerIdentityConflictError,
  REQUEST_STATES,
  type AwaitedDeployment,
  type CreateAttemptsState,
  type HistoryEntry,
  type LedgerPatch,
  type LedgerRecord,
  type NewLedgerRecord,
  type RequestKind,
  type RequestLease,
  type RequestState,
} from "../../core/ledger";
import {
  applyPatch,
  checkListOptions,
  conflictError,
  createRecord,
  KnownRecords,
  LedgerClosedError,
  ledgerKey,
  notFoundError,
  selectRecords,
  type ListPosition,
} from "../../core/ledgerRecords";
import { type ClaimResult, type Ledger, type ListOptions } from "../../core/ports";
import {
  isConditionFailure,
  isIndexUnavailable,
  keyAttributesOf,
  LEDGER_INDEXES,
  type LedgerIndex,
  LEDGER_TABLE,
  RESERVED_KEY_PREFIX,
} from "./ledgerTable";
import { mergeStatePages, type ReadStateChunk } from "./mergeStatePages";

/** A DynamoDB call failed for a reason other than a lost compare-and-set. */
export class DynamoLedgerError extends LedgerError {}

/** Options of {@link DynamoLedger}. */
export interface DynamoLedgerOptions {
  /** A DynamoDB client (created once by the caller, e.g. at Lambda module scope). */
  readonly client: DynamoDBClient;
  /** Table name (the platform stack passes it in `AVM_LEDGER_TABLE`). */
  readonly tableName: string;
}

/**
 * The single place that maps DynamoDB errors to ledger errors: a failed condition on a write means
 * another writer won ({@link LedgerConflictError}); anything else becomes a {@link DynamoLedgerError}
 * keeping the SDK error as `cause`.
 */
export function classifyDynamoError(error: unknown, key: string, expectedVersion: number, action: string): LedgerError {
  if (error instanceof LedgerError) return error;
  if (isConditionFailure(error)) return conflictError(key, expectedVersion, error);
  const name = (error as { name?: unknown } | null)?.name;
  const message = error instanceof Error ? error.message : String(error);
  return new DynamoLedgerError(`DynamoDB ${action} for ${key} failed: ${String(name ?? "Error")}: ${message}`, {
    cause: error,
  });
}

const names = { "#email": "email", "#version": "version" };

/**
 * Whether `stored` (returned by a failed conditional write) is exactly the record this call wrote. Every write
 * carries its own `updatedAt` and version (and a claim its request id and `createdAt`), so another writer's item is
 * never equal to it.
 */
function isOwnWrite(stored: Record<string, AttributeValue>, written: LedgerRecord): boolean {
  return isDeepStrictEqual(fromItem(stored), fromItem(toItem(written)));
}

/** Key prefix of the items that tie an account id to the one email holding it (reserved: starts with `#`). */
const ACCOUNT_KEY_PREFIX = `${RESERVED_KEY_PREFIX}account#`;

/** The per-item cancellation codes of a cancelled transaction (`None`, `ConditionalCheckFailed`, ...), if it was one. */
function cancellationReasons(error: unknown): (string | undefined)[] | undefined {
  if ((error as { name?: unknown } | null)?.name !== "TransactionCanceledException") return undefined;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
  if (reasons !== undefined) return reasons.map((reason) => reason.Code);
  // Without structured reasons, DynamoDB's message lists them: "... [ConditionalCheckFailed, None]".
  const listed = /\[([^\]]*)\]/.exec((error as Error).message ?? "")?.[1];
  return listed?.split(",").map((code) => code.trim());
}

/** The item a failed conditional write returned (`ReturnValuesOnConditionCheckFailure: ALL_OLD`), if any. */
function itemOfConditionFailure(error: unknown): Record<string, AttributeValue> | undefined {
  return (error as { Item?: Record<string, AttributeValue> } | null)?.Item;
}

/**
 * A {@link Ledger} in a DynamoDB table.
 *
 * Calls per operation: `claim` one conditional PutItem (a lost race returns the stored item with the failed
 * condition, no read); `update` one conditional PutItem when this ledger read or wrote the expected version last
 * (versions only grow and every write is conditional on the previous one, so the remembered record IS that
 * version), else a consistent GetItem first; a failed condition returns the current item, remembered for the
 * caller's next read.
 */
export class DynamoLedger implements Ledger {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private closed = false;
  /**
   * Set when `byStateCreatedAt` answered that it is missing or backfilling: later pages of this ledger object go
   * straight to the old path (an `avm list --all` walk does not ask again per page). A new object asks again.
   */
  private pagingIndexUnavailable = false;
  /** The last version this ledger read or wrote, by key: an update of that version needs no read. */
  private readonly known = new KnownRecords();

  constructor(options: DynamoLedgerOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
  }

  async claim(input: NewLedgerRecord, now: Date): Promise<ClaimResult> {
    this.checkOpen();
    const record = createRecord(input, now);
    if (record.accountId !== undefined) return this.claimWithAccount(record, record.accountId);
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: toItem(record),
          ConditionExpression: "attribute_not_exists(#email)",
          ExpressionAttributeNames: { "#email": names["#email"] },
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      return { created: true, record: this.known.remember(record) };
    } catch (error) {
      if (!isConditionFailure(error)) throw classifyDynamoError(error, record.email, 0, "claim");
      const stored = itemOfConditionFailure(error);
      // Our own write, whose reply was lost and which the SDK sent again: this call did create the record.
      if (stored && isOwnWrite(stored, record)) return { created: true, record: this.known.remember(record) };
      if (stored) return { created: false, record: this.known.remember(fromItem(stored)) };
    }
    const existing = await this.get(record.email);
    if (!existing) throw new DynamoLedgerError(`claim for ${record.email} lost a race but found no record`);
    return { created: false, record: existing };
  }

  /**
   * The claim of a record with an account id: one transaction puts the record (unless its email exists) and the
   * account id's key item `#account#<id>` (unless another email holds it), so of two concurrent claims for one
   * account id only one succeeds. Records whose account id was set before key items existed are found by the
   * caller's `getByAccountId` check first.
   */
  private async claimWithAccount(record: LedgerRecord, accountId: string): Promise<ClaimResult> {
    const accountKey = `${ACCOUNT_KEY_PREFIX}${accountId}`;
    try {
      await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: toItem(record),
                ConditionExpression: "attribute_not_exists(#email)",
                ExpressionAttributeNames: { "#email": names["#email"] },
              },
            },
            {
              Put: {
                TableName: this.tableName,
                Item: { email: { S: accountKey }, owner: { S: record.email } },
                ConditionExpression: "attribute_not_exists(#email) OR #owner = :owner",
                ExpressionAttributeNames: { "#email": names["#email"], "#owner": "owner" },
                ExpressionAttributeValues: { ":owner": { S: record.email } },
              },
            },
          ],
        }),
      );
      return { created: true, record: this.known.remember(record) };
    } catch (error) {
      const reasons = cancellationReasons(error);
      if (reasons === undefined) throw classifyDynamoError(error, record.email, 0, "claim");
      if (reasons[0] === "ConditionalCheckFailed") {
        // The email exists: ours (a lost reply the SDK resent) or an earlier record.
        const existing = await this.get(record.email);
        if (!existing) throw new DynamoLedgerError(`claim for ${record.email} lost a race but found no record`);
        if (isDeepStrictEqual(existing, fromItem(toItem(record)))) return { created: true, record: existing };
        return { created: false, record: existing };
      }
      if (reasons[1] === "ConditionalCheckFailed") {
        const owner = await this.accountOwner(accountKey);
        const holder = owner === undefined ? undefined : await this.get(owner);
        throw new LedgerIdentityConflictError(
          accountId,
          record.email,
          holder ?? { email: owner ?? "another email", requestId: "unknown" },
        );
      }
      throw classifyDynamoError(error, record.email, 0, "claim");
    }
  }

  /** The email holding the account id's key item, if any. */
  private async accountOwner(accountKey: string): Promise<string | undefined> {
    try {
      const result = await this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: { email: { S: accountKey } }, ConsistentRead: true }),
      );
      const owner = result.Item?.["owner"]?.S;
      return owner;
    } catch (error) {
      throw classifyDynamoError(error, accountKey, 0, "GetItem");
    }
  }

  async get(email: string): Promise<LedgerRecord | undefined> {
    this.checkOpen();
    const key = ledgerKey(email);
    try {
      const result = await this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: { email: { S: key } }, ConsistentRead: true }),
      );
      if (!result.Item) {
        this.known.forget(key);
        return undefined;
      }
      return this.known.remember(fromItem(result.Item));
    } catch (error) {
      throw classifyDynamoError(error, key, 0, "GetItem");
    }
  }

  async getByRequestId(requestId: string): Promise<LedgerRecord | undefined> {
    return this.getByIndex(LEDGER_TABLE.byRequestIdIndex, "requestId", requestId);
  }

  async getByAccountId(accountId: string): Promise<LedgerRecord | undefined> {
    return this.getByIndex(LEDGER_TABLE.byAccountIdIndex, "accountId", accountId);
  }

  /**
   * With a `limit`: one Query of the `byStateCreatedAt` index per state asked for (all 11 without `states`), each
   * for `limit + 1` items from the cursor's `createdAt`, merged in order (`mergeStatePages.ts`), so a page costs the
   * same whatever the size of the table. While that index is missing or still backfilling (a table deployed before
   * it), the old path below answers instead and the page is cut from its result (from then on for this object). Without a `limit`: every matching
   * record, by a Scan (or a Query of `byState` per state), in pages of 1 MB.
   */
  async list(options: ListOptions = {}): Promise<LedgerRecord[]> {
    this.checkOpen();
    const after = checkListOptions(options);
    if (options.limit === 0 || options.states?.length === 0) return [];
    if (options.limit !== undefined && !this.pagingIndexUnavailable) {
      try {
        return await mergeStatePages(
          options.states ?? REQUEST_STATES,
          after,
          options.limit,
          this.stateChunkReader(after, options.limit + 1),
        );
      } catch (error) {
        if (!isIndexUnavailable(error, LEDGER_TABLE.byStateCreatedAtIndex)) {
          throw classifyDynamoError(error, this.tableName, 0, "list");
        }
        this.pagingIndexUnavailable = true;
      }
    }
    let records: LedgerRecord[];
    try {
      records = await this.readAll(options.states);
    } catch (error) {
      throw classifyDynamoError(error, this.tableName, 0, "list");
    }
    return selectRecords(records, options);
  }

  /** Reads one state's partition of `byStateCreatedAt`: `limit` items from `after`'s `createdAt` on, or from `start`. */
  private stateChunkReader(
    after: ListPosition | undefined,
    limit: number,
  ): ReadStateChunk<Record<string, AttributeValue>> {
    return async (state, start) => {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: LEDGER_TABLE.byStateCreatedAtIndex,
          KeyConditionExpression:
            after === undefined ? "#state = :state" : "#state = :state AND #createdAt >= :createdAt",
          ExpressionAttributeNames: {
            "#state": "state",
            ...(after === undefined ? {} : { "#createdAt": "createdAt" }),
          },
          ExpressionAttributeValues: {
            ":state": { S: state },
            ...(after === undefined ? {} : { ":createdAt": { S: after.createdAt } }),
          },
          Limit: limit,
          ExclusiveStartKey: start,
        }),
      );
      const items = page.Items ?? [];
      const lastCreatedAt = items[items.length - 1]?.["createdAt"]?.S;
      return {
        records: items.filter((item) => !item["email"]?.S?.startsWith(RESERVED_KEY_PREFIX)).map(fromItem),
        ...(lastCreatedAt !== undefined ? { lastCreatedAt } : {}),
        ...(page.LastEvaluatedKey !== undefined ? { next: page.LastEvaluatedKey } : {}),
      };
    };
  }

  /** Every request record of `states` (of every state when `undefined`), in no particular order. */
  private async readAll(states: readonly RequestState[] | undefined): Promise<LedgerRecord[]> {
    const records: LedgerRecord[] = [];
    if (states !== undefined) {
      for (const state of new Set(states)) {
        records.push(
          ...(await this.queryAll(LEDGER_TABLE.byStateIndex, "state", state)).filter((r) => r.state === state),
        );
      }
      return records;
    }
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: "NOT begins_with(#email, :reserved)",
          ExpressionAttributeNames: { "#email": names["#email"] },
          ExpressionAttributeValues: { ":reserved": { S: RESERVED_KEY_PREFIX } },
          ExclusiveStartKey: start,
        }),
      );
      records.push(...(page.Items ?? []).map(fromItem));
      start = page.LastEvaluatedKey;
    } while (start);
    return records;
  }

  async update(email: string, expectedVersion: number, patch: LedgerPatch, now: Date): Promise<LedgerRecord> {
    this.checkOpen();
    const key = ledgerKey(email);
    const current = this.known.at(key, expectedVersion) ?? (await this.get(key));
    if (!current) throw notFoundError(key);
    if (current.version !== expectedVersion) throw conflictError(key, expectedVersion);
    const next = applyPatch(current, patch, now);
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: toItem(next),
          ConditionExpression: "#version = :expected",
          ExpressionAttributeNames: { "#version": names["#version"] },
          ExpressionAttributeValues: { ":expected": { N: String(expectedVersion) } },
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        const stored = itemOfConditionFailure(error);
        // The item is exactly what this call wrote: the write landed, its reply was lost and the SDK sent it
        // again, which then failed its own condition. That is a success, not another writer.
        if (stored && isOwnWrite(stored, next)) return this.known.remember(next);
        // Another writer won: remember what it wrote (when DynamoDB returned it) for the caller's next read.
        if (stored) this.known.remember(fromItem(stored));
        else this.known.forget(key);
      }
      throw classifyDynamoError(error, key, expectedVersion, "update");
    }
    return this.known.remember(next);
  }

  /** Marks the ledger closed. The client belongs to the caller (shared at Lambda module scope) and stays open. */
  async close(): Promise<void> {
    this.closed = true;
  }

  private checkOpen(): void {
    if (this.closed) throw new LedgerClosedError();
  }

  private async getByIndex(index: string, attribute: string, value: string): Promise<LedgerRecord | undefined> {
    this.checkOpen();
    let hits: LedgerRecord[];
    try {
      hits = await this.queryAll(index, attribute, value);
    } catch (error) {
      throw classifyDynamoError(error, value, 0, `Query ${index}`);
    }
    // Every index projects ALL attributes: the hit is the whole record, not re-read. The index is eventually
    // consistent, so in AWS the hit may lag a write by a moment; a caller that decides on the state or writes
    // re-reads by email (`get`, consistent), and a stale version can only ever lose its compare-and-set.
    return selectRecords(hits)[0];
  }

  private async queryAll(index: string, attribute: string, value: string): Promise<LedgerRecord[]> {
    const records: LedgerRecord[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: index,
          KeyConditionExpression: "#k = :v",
          ExpressionAttributeNames: { "#k": attribute },
          ExpressionAttributeValues: { ":v": { S: value } },
          ExclusiveStartKey: start,
        }),
      );
      // Internal items never carry index attributes today; skip them anyway should one ever do.
      records.push(
        ...(page.Items ?? []).filter((item) => !item["email"]?.S?.startsWith(RESERVED_KEY_PREFIX)).map(fromItem),
      );
      start = page.LastEvaluatedKey;
    } while (start);
    return records;
  }
}

function toItem(record: LedgerRecord): Record<string, AttributeValue> {
  return marshall(record, { removeUndefinedValues: true, convertEmptyValues: false });
}

function fromItem(item: Record<string, AttributeValue>): LedgerRecord {
  const raw = unmarshall(item) as Record<string, unknown>;
  const optional = (name: string): Record<string, string> =>
    typeof raw[name] === "string" ? { [name]: raw[name] as string } : {};
  return {
    email: String(raw["email"]),
    requestId: String(raw["requestId"]),
    kind: raw["kind"] as RequestKind,
    state: raw["state"] as RequestState,
    request: (raw["request"] ?? {}) as Record<string, unknown>,
    ...optional("accountId"),
    ...optional("createAccountRequestId"),
    ...optional("failureReason"),
    attempts: Number(raw["attempts"] ?? 0),
    ...leaseOf(raw["lease"]),
    ...createAttemptsOf(raw["createAttempts"]),
    ...awaitedDeploymentOf(raw["awaitedDeployment"]),
    ...(typeof raw["redrives"] === "number" ? { redrives: raw["redrives"] } : {}),
    history: ((raw["history"] ?? []) as HistoryEntry[]).map((entry) => ({
      at: entry.at,
      state: entry.state,
      ...(entry.note !== undefined ? { note: entry.note } : {}),
    })),
    createdAt: String(raw["createdAt"]),
    updatedAt: String(raw["updatedAt"]),
    version: Number(raw["version"]),
  };
}

function createAttemptsOf(value: unknown): { createAttempts?: CreateAttemptsState } {
  if (value === null || typeof value !== "object") return {};
  const attempts = value as Record<string, unknown>;
  return {
    createAttempts: {
      issued: Number(attempts["issued"] ?? 0),
      total: Number(attempts["total"] ?? 0),
      ...(typeof attempts["unconfirmedAt"] === "string" ? { unconfirmedAt: attempts["unconfirmedAt"] } : {}),
      ...(typeof attempts["interruptedAt"] === "string" ? { interruptedAt: attempts["interruptedAt"] } : {}),
    },
  };
}

function awaitedDeploymentOf(value: unknown): { awaitedDeployment?: AwaitedDeployment } {
  if (value === null || typeof value !== "object") return {};
  const awaited = value as Record<string, unknown>;
  return {
    awaitedDeployment: {
      queuedAt: String(awaited["queuedAt"]),
      ...(typeof awaited["version"] === "number" ? { version: awaited["version"] } : {}),
      ...(typeof awaited["url"] === "string" ? { url: awaited["url"] } : {}),
    },
  };
}

function leaseOf(value: unknown): { lease?: RequestLease } {
  if (value === null || typeof value !== "object") return {};
  const lease = value as Record<string, unknown>;
  return {
    lease: {
      owner: String(lease["owner"]),
      expiresAt: String(lease["expiresAt"]),
      heartbeatAt: String(lease["heartbeatAt"]),
    },
  };
}

/**
 * Creates a ledger table with the layout of `ledgerTable.ts` (on-demand billing; the keys and indexes the ledger
 * queries) and waits until it is ACTIVE. For tests, the demo and benchmarks; the platform stack creates the deployed table.
 * @param indexes the global secondary indexes; default every one of {@link LEDGER_INDEXES}. A subset builds the table
 *   as an older layout had it (tests and benchmarks of a deployed table before an index was added).
 */
export async function createLedgerTable(
  client: DynamoDBClient,
  tableName: string,
  indexes: readonly LedgerIndex[] = LEDGER_INDEXES,
): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: keyAttributesOf(indexes).map((attribute) => ({
        AttributeName: attribute,
        AttributeType: "S",
      })),
      KeySchema: [{ AttributeName: LEDGER_TABLE.hashKey, KeyType: "HASH" }],
      GlobalSecondaryIndexes: indexes.map((index) => ({
        IndexName: index.name,
        KeySchema: [
          { AttributeName: index.hashKey, KeyType: "HASH" },
          ...(index.rangeKey === undefined ? [] : [{ AttributeName: index.rangeKey, KeyType: "RANGE" as const }]),
        ],
        Projection: { ProjectionType: "ALL" },
      })),
    }),
  );
  for (let attempt = 0; attempt < 60; attempt += 1) {
    const described = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (described.Table?.TableStatus === "ACTIVE") return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new DynamoLedgerError(`table ${tableName} did not become ACTIVE within 30 s`);
}
