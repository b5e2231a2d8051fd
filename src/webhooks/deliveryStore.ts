/**
 * Webhook delivery de-duplication by `Pulumi-Webhook-ID`. Pulumi Cloud may redeliver; a delivery id is
 * claimed before processing and released again when processing fails, so a redelivery is processed then.
 */

/** Claims delivery ids. */
export interface DeliveryStore {
  /**
   * Claims `id`. Resolves `true` for the first claim, `false` when the id was already claimed (and not
   * released) within the store's retention.
   */
  claim(id: string, now: Date): Promise<boolean>;
  /** Releases a claim so a redelivery of `id` is processed again. */
  release(id: string): Promise<void>;
}

/** Options of {@link MemoryDeliveryStore}. */
export interface MemoryDeliveryStoreOptions {
  /** Most ids remembered; the least recently claimed is evicted first. Default 10,000. */
  readonly maxEntries?: number;
  /** How long an id is remembered, in ms. Default 24 h. */
  readonly ttlMs?: number;
}

/** In-process LRU with TTL, for `avm serve` (one process). */
export class MemoryDeliveryStore implements DeliveryStore {
  private readonly seen = new Map<string, number>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;

  constructor(options: MemoryDeliveryStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.ttlMs = options.ttlMs ?? 24 * 60 * 60 * 1000;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer, got ${this.maxEntries}`);
    }
  }

  /** Number of ids currently remembered. */
  get size(): number {
    return this.seen.size;
  }

  async claim(id: string, now: Date): Promise<boolean> {
    const at = now.getTime();
    const claimedAt = this.seen.get(id);
    if (claimedAt !== undefined && at - claimedAt < this.ttlMs) return false;
    this.seen.delete(id);
    this.seen.set(id, at);
    while (this.seen.size > this.maxEntries) {
      const oldest = this.seen.keys().next().value as string;
      this.seen.delete(oldest);
    }
    return true;
  }

  async release(id: string): Promise<void> {
    this.seen.delete(id);
  }
}
