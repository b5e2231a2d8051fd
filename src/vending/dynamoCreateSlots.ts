/**
 * {@link CreateSlots} shared by every worker Lambda: N lease items in the ledger table under reserved keys
 * `#slot#0` .. `#slot#<N-1>` (a key without `@` can never be an email, and the ledger's `list` skips keys
 * starting with `#`). Each item holds `owner` and `leaseUntil` (epoch ms); a slot is free when the item is
 * missing or its lease has expired, so a crashed worker's slot frees itself.
 *
 * Taking a slot is a conditional `PutItem`, so two workers can never hold the same slot.
 */
import { DeleteItemCommand, GetItemCommand, PutItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  checkSlotCount,
  checkSlotOwner,
  CreateSlotsError,
  DEFAULT_MAX_CONCURRENT_CREATES,
  DEFAULT_SLOT_LEASE_MS,
  type CreateSlots,
} from "./createSlots";
import { isConditionFailure, RESERVED_KEY_PREFIX } from "./dynamoLedger";

/** Key prefix of the slot items. */
export const SLOT_KEY_PREFIX = `${RESERVED_KEY_PREFIX}slot#`;

/** Options of {@link DynamoCreateSlots}. */
export interface DynamoCreateSlotsOptions {
  readonly client: DynamoDBClient;
  /** The ledger table (hash key `email`). */
  readonly tableName: string;
  /** Number of slots. Default {@link DEFAULT_MAX_CONCURRENT_CREATES}. */
  readonly slots?: number;
  /** Lease length in ms. Default {@link DEFAULT_SLOT_LEASE_MS}. */
  readonly leaseMs?: number;
  /** Clock. Default wall clock. */
  readonly now?: () => Date;
}

interface Slot {
  readonly key: string;
  readonly owner?: string;
  readonly leaseUntil?: number;
}

/** CreateAccount slots as lease items in the DynamoDB ledger table. */
export class DynamoCreateSlots implements CreateSlots {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly keys: readonly string[];
  private readonly leaseMs: number;
  private readonly now: () => Date;

  constructor(options: DynamoCreateSlotsOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    const count = checkSlotCount(options.slots ?? DEFAULT_MAX_CONCURRENT_CREATES);
    this.keys = Array.from({ length: count }, (_, i) => `${SLOT_KEY_PREFIX}${i}`);
    this.leaseMs = options.leaseMs ?? DEFAULT_SLOT_LEASE_MS;
    this.now = options.now ?? (() => new Date());
  }

  async acquire(owner: string): Promise<boolean> {
    checkSlotOwner(owner);
    const now = this.now().getTime();
    const slots = await this.read();
    // Renew a slot this owner already holds (a redelivered message, a resumed worker).
    const held = slots.find((slot) => slot.owner === owner);
    if (held && (await this.put(held.key, owner, now, "#owner = :owner"))) return true;
    for (const slot of slots) {
      if (slot.owner !== undefined && (slot.leaseUntil ?? 0) > now) continue;
      if (await this.put(slot.key, owner, now, "attribute_not_exists(#email) OR #leaseUntil <= :now")) return true;
    }
    return false;
  }

  async release(owner: string): Promise<void> {
    checkSlotOwner(owner);
    for (const slot of await this.read()) {
      if (slot.owner !== owner) continue;
      try {
        await this.client.send(
          new DeleteItemCommand({
            TableName: this.tableName,
            Key: { email: { S: slot.key } },
            ConditionExpression: "#owner = :owner",
            ExpressionAttributeNames: { "#owner": "owner" },
            ExpressionAttributeValues: { ":owner": { S: owner } },
          }),
        );
      } catch (error) {
        // Someone took the slot after our lease expired: it is no longer ours to release.
        if (!isConditionFailure(error)) throw slotError("release", error);
      }
    }
  }

  async holders(): Promise<string[]> {
    const now = this.now().getTime();
    const owners = (await this.read())
      .filter((slot) => slot.owner !== undefined && (slot.leaseUntil ?? 0) > now)
      .map((slot) => slot.owner!);
    return [...new Set(owners)];
  }

  private async read(): Promise<Slot[]> {
    try {
      return await Promise.all(
        this.keys.map(async (key) => {
          const { Item } = await this.client.send(
            new GetItemCommand({ TableName: this.tableName, Key: { email: { S: key } }, ConsistentRead: true }),
          );
          const owner = Item?.["owner"]?.S;
          const leaseUntil = Item?.["leaseUntil"]?.N;
          return {
            key,
            ...(owner !== undefined ? { owner } : {}),
            ...(leaseUntil !== undefined ? { leaseUntil: Number(leaseUntil) } : {}),
          };
        }),
      );
    } catch (error) {
      throw slotError("read", error);
    }
  }

  private async put(key: string, owner: string, now: number, condition: string): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            email: { S: key },
            owner: { S: owner },
            leaseUntil: { N: String(now + this.leaseMs) },
            acquiredAt: { S: new Date(now).toISOString() },
          },
          ConditionExpression: condition,
          ExpressionAttributeNames: condition.includes("#email")
            ? { "#email": "email", "#leaseUntil": "leaseUntil" }
            : { "#owner": "owner" },
          ExpressionAttributeValues: condition.includes(":now")
            ? { ":now": { N: String(now) } }
            : { ":owner": { S: owner } },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw slotError("acquire", error);
    }
  }
}

function slotError(action: string, error: unknown): CreateSlotsError {
  const name = (error as { name?: unknown } | null)?.name;
  const message = error instanceof Error ? error.message : String(error);
  return new CreateSlotsError(`CreateAccount slot ${action} failed: ${String(name ?? "Error")}: ${message}`, {
    cause: error,
  });
}
