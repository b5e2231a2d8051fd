/**
 * The caller's deadline, carried through async calls: the workflow runs each `processRequest` under the worker's
 * remaining invocation time (or the CLI's `--timeout`), and every retry loop below it (the Organizations gateway's
 * backoff) reads it and stops before a sleep would pass it, instead of running into the Lambda timeout.
 */
import { AsyncLocalStorage } from "node:async_hooks";

const scope = new AsyncLocalStorage<number>();

/**
 * Runs `fn` with `deadlineMs` (epoch milliseconds) as the current deadline. A nested call keeps the earlier of the
 * two deadlines.
 */
export function runWithDeadline<T>(deadlineMs: number, fn: () => Promise<T>): Promise<T> {
  const outer = scope.getStore();
  return scope.run(outer === undefined ? deadlineMs : Math.min(outer, deadlineMs), fn);
}

/** The current deadline (epoch milliseconds), or `undefined` outside {@link runWithDeadline}. */
export function currentDeadline(): number | undefined {
  return scope.getStore();
}
