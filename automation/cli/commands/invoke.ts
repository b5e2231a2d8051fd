/** `avm invoke` (wired when its core lands). */
import type { CommandContext } from "../context";
import { CliError } from "../errors";

/** Runs `avm invoke`. */
export async function invokeCommand(_ctx: CommandContext, ..._args: unknown[]): Promise<void> {
  throw new CliError("avm invoke is not available yet");
}
