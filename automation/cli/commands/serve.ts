/** `avm serve` (wired when its core lands). */
import type { CommandContext } from "../context";
import { CliError } from "../errors";

/** Runs `avm serve`. */
export async function serveCommand(_ctx: CommandContext, ..._args: unknown[]): Promise<void> {
  throw new CliError("avm serve is not available yet");
}
