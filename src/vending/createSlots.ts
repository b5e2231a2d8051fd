/**
 * Caps the number of Organizations `CreateAccount` requests in flight across all concurrent workers
 * (AWS allows only a few at a time; DESIGN.md: at most 5).
 *
 * The workflow takes a slot before calling CreateAccount and gives it back once
 * DescribeCreateAccountStatus leaves IN_PROGRESS (or the call failed). Slots are leases: a worker that
 * crashes while holding one loses it when the lease expires, so the cap never leaks away.
 */

/** Default maximum number of CreateAccount requests in flight. */
export const DEFAULT_MAX_CONCURRENT_CREATES = 5;

/** Default lease of a slot: long enough for a slow account creation, short enough to recover from a crash. */
export const DEFAULT_SLOT_LEASE_MS = 15 * 60_000;

/** A bounded set of CreateAccount slots shared by all workers. */
export interface CreateSlots {
  /**
   * Takes a free slot for `owner` (use the ledger request id). Idempotent: when `owner` already holds a
   * slot, its lease is renewed and the result is `true`. Never waits: `false` means every slot is held and
   * the caller should back off and try again later.
   */
  acquire(owner: string): Promise<boolean>;
  /** Gives back the slot `owner` holds; a no-op when it holds none (e.g. its lease already expired). */
  release(owner: string): Promise<void>;
  /** Owners currently holding an unexpired slot (for status output and tests). */
  holders(): Promise<string[]>;
}

/** Base class of slot errors. */
export class CreateSlotsError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Validates a slot count: an integer from 1 to 100.
 * @throws CreateSlotsError naming the value otherwise.
 */
export function checkSlotCount(slots: number): number {
  if (!Number.isInteger(slots) || slots < 1 || slots > 100) {
    throw new CreateSlotsError(`maxConcurrentCreates must be an integer from 1 to 100, got ${slots}`);
  }
  return slots;
}

/**
 * Validates a slot owner: a non-blank string.
 * @throws CreateSlotsError otherwise.
 */
export function checkSlotOwner(owner: string): string {
  if (owner.trim() === "") throw new CreateSlotsError("owner must not be empty");
  return owner;
}

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
