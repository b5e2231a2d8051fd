/**
 * Counts the commands an AWS SDK v3 client sends (an `initialize` middleware), for exact AWS call-count assertions.
 */

/** Adds a middleware to `client` that pushes each command's name (without `Command`) onto `calls`; returns `client`. */
export function countCalls<T>(client: T, calls: string[]): T {
  (
    client as unknown as {
      middlewareStack: { add(mw: unknown, options: { step: string; name: string; priority: string }): void };
    }
  ).middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      calls.push((context.commandName ?? "unknown").replace(/Command$/, ""));
      return next(args);
    },
    { step: "initialize", name: "countCalls", priority: "high" },
  );
  return client;
}

/** `{name: count}` of recorded calls, keys sorted. */
export function tally(calls: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const call of [...calls].sort()) counts[call] = (counts[call] ?? 0) + 1;
  return counts;
}
