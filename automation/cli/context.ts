/**
 * What every command action receives: the run's streams, resolved global settings, output writers and
 * dependencies, plus helpers that open (and always close) the ledger.
 */
import type { Ledger } from "../../src/core/ports";
import type { CliDeps } from "./deps";
import type { CliIo } from "./io";
import type { Output } from "./output";
import type { GlobalSettings } from "./settings";

/** Context of one command run. */
export interface CommandContext {
  readonly io: CliIo;
  readonly deps: CliDeps;
  readonly settings: GlobalSettings;
  readonly out: Output;
}

/** Opens the configured ledger, runs `fn`, and closes the ledger whatever happens. */
export async function withLedger<T>(ctx: CommandContext, fn: (ledger: Ledger) => Promise<T>): Promise<T> {
  const ledger = await ctx.deps.openLedger(ctx.settings.ledger);
  try {
    return await fn(ledger);
  } finally {
    await ledger.close();
  }
}
