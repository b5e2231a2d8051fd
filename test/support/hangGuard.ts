/**
 * Correctness tests are bounded by progress, never by how fast the machine is (README, "Testing notes"). A
 * wall-clock limit appears only as a guard against a hang: generous (minutes), far beyond any busy machine, and
 * when it fires the failure says what the test was still waiting for. Speed figures belong in `bench/`.
 */

/**
 * Mocha timeout for every test and hook (scripts/test.mjs passes it; integration, moto and engine suites set it
 * with `this.timeout(HANG_GUARD_MS)` so a single-file run with a short `--timeout` keeps it). 10 minutes.
 */
export const HANG_GUARD_MS = 10 * 60_000;

/**
 * Waits until `condition` holds, yielding to the event loop between checks. Gives up only when `stopped`
 * reports that whatever would make the condition true has ended (for example a server that already exited),
 * or after `guardMs` (a hang guard, default {@link HANG_GUARD_MS} minus a minute so it fires before mocha's).
 * @param what what the test waits for, used in the error message
 * @param condition checked every `intervalMs` (default 5 ms)
 * @param options `stopped`: returns a reason when waiting is pointless; `describe`: the current state, appended
 * to the error message
 * @throws Error naming `what`, the reason or the guard, and the current state
 */
export async function waitUntil(
  what: string,
  condition: () => boolean | Promise<boolean>,
  options: {
    readonly stopped?: () => string | undefined;
    readonly describe?: () => string | Promise<string>;
    readonly guardMs?: number;
    readonly intervalMs?: number;
  } = {},
): Promise<void> {
  const guardMs = options.guardMs ?? HANG_GUARD_MS - 60_000;
  const started = Date.now();
  for (;;) {
    if (await condition()) return;
    const reason =
      options.stopped?.() ?? (Date.now() - started > guardMs ? `hang guard: ${guardMs / 60_000} minutes` : undefined);
    if (reason !== undefined) {
      const state = options.describe ? `; ${await options.describe()}` : "";
      throw new Error(`gave up waiting for ${what} (${reason})${state}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 5));
  }
}
