/**
 * Caps the number of Organizations `CreateAccount` requests in flight across all concurrent workers
 * (AWS allows only a few at a time: at most 5 by default). The slot port is `CreateSlots` in `../ports.ts`.
 *
 * The workflow takes a slot before calling CreateAccount and gives it back once
 * DescribeCreateAccountStatus leaves IN_PROGRESS (or the call failed). Slots are leases: a worker that
 * crashes while holding one loses it when the lease expires, so the cap never leaks away.
 */

/** Default maximum number of CreateAccount requests in flight. */
export const DEFAULT_MAX_CONCURRENT_CREATES = 5;

/** Default lease of a slot: long enough for a slow account creation, short enough to recover from a crash. */
export const DEFAULT_SLOT_LEASE_MS = 15 * 60_000;

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
