/**
 * CreateAccount slots held in this process's memory (see `CreateSlots` in `src/core/ports.ts`).
 */
import type { CreateSlots } from "../../core/ports";
import {
  checkSlotCount,
  checkSlotOwner,
  DEFAULT_MAX_CONCURRENT_CREATES,
  DEFAULT_SLOT_LEASE_MS,
} from "../../core/vending/createSlots";

/** Options of {@link InProcessCreateSlots}. */
export interface InProcessCreateSlotsOptions {
  /** Number of slots. Default {@link DEFAULT_MAX_CONCURRENT_CREATES}. */
  readonly slots?: number;
  /** Lease length in ms. Default {@link DEFAULT_SLOT_LEASE_MS}. */
  readonly leaseMs?: number;
  /** Clock. Default wall clock. */
  readonly now?: () => Date;
}

/**
 * Slots held in this process's memory: for the CLI and the SQLite ledger, where every worker runs in one
 * process.
 */
export class InProcessCreateSlots implements CreateSlots {
  private readonly slots: number;
  private readonly leaseMs: number;
  private readonly now: () => Date;
  private readonly leases = new Map<string, number>();

  constructor(options: InProcessCreateSlotsOptions = {}) {
    this.slots = checkSlotCount(options.slots ?? DEFAULT_MAX_CONCURRENT_CREATES);
    this.leaseMs = options.leaseMs ?? DEFAULT_SLOT_LEASE_MS;
    this.now = options.now ?? (() => new Date());
  }

  async acquire(owner: string): Promise<boolean> {
    checkSlotOwner(owner);
    const now = this.now().getTime();
    for (const [holder, until] of this.leases) {
      if (until <= now) this.leases.delete(holder);
    }
    if (!this.leases.has(owner) && this.leases.size >= this.slots) return false;
    this.leases.set(owner, now + this.leaseMs);
    return true;
  }

  async release(owner: string): Promise<void> {
    checkSlotOwner(owner);
    this.leases.delete(owner);
  }

  async holders(): Promise<string[]> {
    const now = this.now().getTime();
    return [...this.leases].filter(([, until]) => until > now).map(([holder]) => holder);
  }
}
