/**
 * {@link DeliveryStore} on DynamoDB for the Lambda host: a conditional put of the delivery id into the ledger
 * table under the ledger's reserved key prefix (`#webhook-delivery#<id>`), so concurrent Lambda instances cannot
 * both process one delivery. Keys starting with `#` are never emails and the ledger's `list` skips them; the
 * items carry none of the ledger's GSI attributes (`requestId`, `accountId`, `state`), so they never appear in
 * ledger queries either. `expiresAt` (epoch seconds) lets a table TTL remove them.
 */
import { PutItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DEFAULT_PROCESSING_MS, type DeliveryClaim, type DeliveryStore } from "../../core/ports";
import { LEDGER_TABLE, RESERVED_KEY_PREFIX, isConditionFailure } from "./ledgerTable";

/** Key prefix of delivery items in the ledger table; never a valid (normalised) email. */
export const DELIVERY_KEY_PREFIX = `${RESERVED_KEY_PREFIX}webhook-delivery#`;

/** Options of {@link DynamoDeliveryStore}. */
export interface DynamoDeliveryStoreOptions {
  readonly client: DynamoDBClient;
  /** The ledger table (env `AVM_LEDGER_TABLE`). */
  readonly tableName: string;
  /** How long a processed id blocks redeliveries, in seconds. Default 7 days. */
  readonly ttlSeconds?: number;
  /** How long a claim lasts while its delivery is processed, in seconds. Default 60. */
  readonly processingSeconds?: number;
}

/** Delivery de-duplication shared by every Lambda instance. */
export class DynamoDeliveryStore implements DeliveryStore {
  private readonly ttlSeconds: number;
  private readonly processingSeconds: number;

  constructor(private readonly options: DynamoDeliveryStoreOptions) {
    this.ttlSeconds = options.ttlSeconds ?? 7 * 24 * 60 * 60;
    this.processingSeconds = options.processingSeconds ?? DEFAULT_PROCESSING_MS / 1000;
  }

  private key(id: string): Record<string, { S: string }> {
    return { [LEDGER_TABLE.hashKey]: { S: `${DELIVERY_KEY_PREFIX}${id}` } };
  }

  async claim(id: string, now: Date): Promise<DeliveryClaim> {
    const nowSeconds = Math.floor(now.getTime() / 1000);
    try {
      await this.options.client.send(
        new PutItemCommand({
          TableName: this.options.tableName,
          Item: {
            ...this.key(id),
            kind: { S: "webhook-delivery" },
            claimedAt: { S: now.toISOString() },
            // Only for as long as processing may take: a redelivery after a timeout is processed.
            expiresAt: { N: String(nowSeconds + this.processingSeconds) },
          },
          // A claim whose retention has passed may be taken again even before TTL deletes the item.
          ConditionExpression: "attribute_not_exists(#k) OR expiresAt < :now",
          ExpressionAttributeNames: { "#k": LEDGER_TABLE.hashKey },
          ExpressionAttributeValues: { ":now": { N: String(nowSeconds) } },
          // The earlier claim comes back with the refusal: applied (`completedAt`) or still being processed.
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      return "claimed";
    } catch (error) {
      if (isConditionFailure(error)) {
        const earlier = (error as { Item?: Record<string, unknown> }).Item;
        return earlier !== undefined && "completedAt" in earlier ? "processed" : "in-progress";
      }
      throw error;
    }
  }

  /** Keeps the processed id for the retention (PutItem over the claim). */
  async complete(id: string, now: Date): Promise<void> {
    const nowSeconds = Math.floor(now.getTime() / 1000);
    await this.options.client.send(
      new PutItemCommand({
        TableName: this.options.tableName,
        Item: {
          ...this.key(id),
          kind: { S: "webhook-delivery" },
          claimedAt: { S: now.toISOString() },
          completedAt: { S: now.toISOString() },
          expiresAt: { N: String(nowSeconds + this.ttlSeconds) },
        },
      }),
    );
  }

  /**
   * Releases by overwriting the claim with an expired one (PutItem, the only write the webhook role needs
   * besides the ledger's own), so the next claim's condition `expiresAt < :now` passes.
   */
  async release(id: string): Promise<void> {
    await this.options.client.send(
      new PutItemCommand({
        TableName: this.options.tableName,
        Item: { ...this.key(id), kind: { S: "webhook-delivery" }, expiresAt: { N: "0" } },
      }),
    );
  }
}
