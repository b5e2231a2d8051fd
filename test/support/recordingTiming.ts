/** A {@link Timing} for tests: sleeps return at once and are recorded; the clock advances by the slept time. */
import type { Timing } from "../../src/shared/timing";

/** Instant timing that records every sleep. */
export class RecordingTiming implements Timing {
  readonly sleeps: number[] = [];
  private nowMs: number;

  /** @param start initial clock; @param randomValue what `random()` returns (default 0.5) */
  constructor(
    start = new Date("2026-01-01T00:00:00Z"),
    private readonly randomValue = 0.5,
  ) {
    this.nowMs = start.getTime();
  }
  now(): Date {
    return new Date(this.nowMs);
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.nowMs += ms;
    await Promise.resolve();
  }
  random(): number {
    return this.randomValue;
  }
  /** Moves the clock forward without recording a sleep. */
  advance(ms: number): void {
    this.nowMs += ms;
  }
}
