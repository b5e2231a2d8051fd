/**
 * Injected time: every wait, timestamp and random jitter in the product goes through a {@link Timing},
 * so tests of polling, backoff and retries run instantly and deterministically.
 */
export interface Timing {
  /** Current time. */
  now(): Date;
  /** Resolves after `ms` milliseconds. */
  sleep(ms: number): Promise<void>;
  /** A number in [0, 1) used for jitter. */
  random(): number;
}

/** Wall-clock timing for production use. */
export const realTiming: Timing = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: () => Math.random(),
};
