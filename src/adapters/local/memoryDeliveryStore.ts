/**
 * Webhook delivery de-duplication in this process's memory (`avm serve`); see `DeliveryStore` in
 * `src/core/ports.ts` for the claim / complete / release contract.
 */
import { DEFAULT_PROCESSING_MS, type DeliveryClaim, type DeliveryStore } from "../../core/ports";

/** Options of {@link MemoryDeliveryStore}. */
export interface MemoryDeliveryStoreOptions {
  /** Most ids remembered; the least recently claimed is evicted first. Default 10,000. */
  readonly maxEntries?: number;
  /** How long a processed id is remembered, in ms. Default 24 h. */
  readonly ttlMs?: number;
  /** How long a claim lasts while its delivery is processed, in ms. Default {@link DEFAULT_PROCESSING_MS}. */
  readonly processingMs?: number;
}

/** In-process LRU with TTL, for `avm serve` (one process). */
export class MemoryDeliveryStore implements DeliveryStore {
  /** Id -> until when it blocks redeliveries, and whether its delivery was applied. */
  private readonly seen = new Map<string, { until: number; done: boolean }>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly processingMs: number;

  constructor(options: MemoryDeliveryStoreOptions = {}) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.ttlMs = options.ttlMs ?? 24 * 60 * 60 * 1000;
    this.processingMs = options.processingMs ?? DEFAULT_PROCESSING_MS;
    if (!Number.isInteger(this.maxEntries) || this.maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer, got ${this.maxEntries}`);
    }
  }

  /** Number of ids currently remembered. */
  get size(): number {
    return this.seen.size;
  }

  async claim(id: string, now: Date): Promise<DeliveryClaim> {
    const at = now.getTime();
    const earlier = this.seen.get(id);
    if (earlier !== undefined && at < earlier.until) return earlier.done ? "processed" : "in-progress";
    this.seen.delete(id);
    this.seen.set(id, { until: at + this.processingMs, done: false });
    while (this.seen.size > this.maxEntries) {
      const oldest = this.seen.keys().next().value as string;
      this.seen.delete(oldest);
    }
    return "claimed";
  }

  async complete(id: string, now: Date): Promise<void> {
    this.seen.delete(id);
    this.seen.set(id, { until: now.getTime() + this.ttlMs, done: true });
  }

  async release(id: string): Promise<void> {
    this.seen.delete(id);
  }
}
