/**
 * Jittered exponential backoff, shared by every retry loop (Organizations calls, the workflow's waits).
 */
import type { OrganizationsOperation } from "./organizations";

/** Jittered exponential backoff with a cap and a bounded number of attempts. */
export interface RetryPolicy {
  /** Backoff ceiling of the first retry, in ms. */
  readonly baseDelayMs: number;
  /** Largest backoff ceiling, in ms. */
  readonly maxDelayMs: number;
  /** Total attempts including the first call (>= 1). */
  readonly maxAttempts: number;
}

/** Default for Organizations calls: 8 attempts, 250 ms doubling up to 10 s (about 40 s in the worst case). */
export const DEFAULT_ORGANIZATIONS_RETRY: RetryPolicy = Object.freeze({
  baseDelayMs: 250,
  maxDelayMs: 10_000,
  maxAttempts: 8,
});

/**
 * Delay before retry number `retry` (0 for the first retry): "equal jitter", i.e. half of the capped
 * exponential ceiling `min(maxDelayMs, baseDelayMs * 2^retry)` plus a random share of the other half.
 * Keeping half fixed guarantees real spacing while the jitter de-synchronises concurrent workers.
 */
export function backoffDelay(retry: number, policy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">, random: number) {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.round(ceiling / 2 + random * (ceiling / 2));
}

/** Reported before each retry, for logs and benchmarks. */
export interface RetryEvent {
  readonly operation: OrganizationsOperation;
  /** 1-based number of the attempt that failed. */
  readonly attempt: number;
  readonly delayMs: number;
  readonly error: unknown;
}
