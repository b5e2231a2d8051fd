/**
 * {@link BoundedRunner}: at most `limit` account stack deploys at once. A batch drives more requests at once than
 * it should run local `pulumi up`s (each one an engine, a language host and the provider plugins), so its local
 * stacks wait their turn here, in the order they asked.
 */
import type { AccountStackRequest, AccountStackResult, AccountStackRunner } from "../../src/core/ports";

/** Wraps a runner so that at most `limit` of its deploys run at once; the others wait, first come first served. */
export class BoundedRunner implements AccountStackRunner {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  /** @throws RangeError unless `limit` is a positive integer */
  constructor(
    private readonly inner: AccountStackRunner,
    private readonly limit: number,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
  }

  async deploy(request: AccountStackRequest): Promise<AccountStackResult> {
    if (this.running < this.limit) this.running += 1;
    // The finishing deploy hands its place over directly, so a newcomer cannot overtake the queue.
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await this.inner.deploy(request);
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }

  /** Ends what the inner runner keeps running, if anything. */
  async close(): Promise<void> {
    await (this.inner as { close?: () => Promise<void> }).close?.();
  }
}
