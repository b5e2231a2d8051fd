/**
 * {@link CreateSlots} shared by every worker Lambda: N lease items in the ledger table under reserved keys
 * `#slot#0` .. `#slot#<N-1>` (a key without `@` can never be an email, and the ledger's `list` skips keys
 * starting with `#`). Each item holds `owner` and `leaseUntil` (epoch ms); a slot is free when the item is
 * missing or its lease has expired, so a crashed worker's slot frees itself.
 *
 * Taking a slot is a conditional `PutItem`, so two workers can never hold the same slot.
 */
import { DeleteItemCommand, GetItemCommand, PutItemCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { type CreateSlots } from "../../core/ports";
import {
  checkSlotCount,
  checkSlotOwner,
  CreateSlotsError,
  DEFAULT_MAX_CONCURRENT_CREATES,
  DEFAULT_SLOT_LEASE_MS,
} from "../../core/vending/createSlots";
import { isConditionFailure, RESERVED_KEY_PREFIX } from "./ledgerTable";

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
  /** The slot this instance gave each owner that has not released it yet. */
  private readonly held = new Map<string, string>();

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
    // Renew the slot this instance gave the owner (a resumed poll): one conditional write.
    const mine = this.held.get(owner);
    if (mine !== undefined) {
      if (await this.put(mine, owner, now, "renew")) return true;
      this.held.delete(owner);
    }
    // No reads: try each slot once with one conditional write that takes it when it is free or expired, or
    // renews it when this owner holds it (from an earlier process). The owner's own slot is tried first (its
    // preferred slot), so a resumed request usually finds its old slot; at worst it holds a second one until the
    // first one's lease expires. Never more than the slot count in total.
    const start = preferredSlot(owner, this.keys.length);
    for (let i = 0; i < this.keys.length; i++) {
      const key = this.keys[(start + i) % this.keys.length]!;
      if (await this.put(key, owner, now, "take")) {
        this.held.set(owner, key);
        return true;
      }
    }
    return false;
  }

  async release(owner: string): Promise<void> {
    checkSlotOwner(owner);
    const mine = this.held.get(owner);
    this.held.delete(owner);
    // The slot this instance gave the owner is deleted directly. Otherwise (acquired by another process) the
    // owner's preferred slot, where `acquire` looks first, is tried with the same conditional delete; only when
    // the owner does not hold that one are the slots read to find it.
    if (await this.remove(mine ?? this.keys[preferredSlot(owner, this.keys.length)]!, owner)) return;
    if (mine !== undefined) return;
    for (const slot of await this.read()) if (slot.owner === owner) await this.remove(slot.key, owner);
  }

  /** Deletes slot `key` if `owner` holds it; false when it does not (someone took it after our lease expired). */
  private async remove(key: string, owner: string): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: { email: { S: key } },
          ConditionExpression: "#owner = :owner",
          ExpressionAttributeNames: { "#owner": "owner" },
          ExpressionAttributeValues: { ":owner": { S: owner } },
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionFailure(error)) throw slotError("release", error);
      return false;
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

  private async put(key: string, owner: string, now: number, mode: "take" | "renew"): Promise<boolean> {
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
          ...(mode === "renew"
            ? {
                ConditionExpression: "#owner = :owner",
                ExpressionAttributeNames: { "#owner": "owner" },
                ExpressionAttributeValues: { ":owner": { S: owner } },
              }
            : {
                ConditionExpression: "attribute_not_exists(#email) OR #leaseUntil <= :now OR #owner = :owner",
                ExpressionAttributeNames: { "#email": "email", "#leaseUntil": "leaseUntil", "#owner": "owner" },
                ExpressionAttributeValues: { ":now": { N: String(now) }, ":owner": { S: owner } },
              }),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw slotError("acquire", error);
    }
  }
}

/** The slot an owner tries first: a stable hash of its name, so a resumed request finds its own slot first. */
function preferredSlot(owner: string, count: number): number {
  let hash = 0;
  for (let i = 0; i < owner.length; i++) hash = (hash * 31 + owner.charCodeAt(i)) >>> 0;
  return hash % count;
}

function slotError(action: string, error: unknown): CreateSlotsError {
  const name = (error as { name?: unknown } | null)?.name;
  const message = error instanceof Error ? error.message : String(error);
  return new CreateSlotsError(`CreateAccount slot ${action} failed: ${String(name ?? "Error")}: ${message}`, {
    cause: error,
  });
}
