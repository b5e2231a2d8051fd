/** `avm plan` (wired when its core lands). */
import type { CommandContext } from "../context";
import { CliError } from "../errors";

/** Runs `avm plan`. */
export async function planCommand(_ctx: CommandContext, ..._args: unknown[]): Promise<void> {
  throw new CliError("avm plan is not available yet");
}
