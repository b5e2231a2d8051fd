/**
 * Entry point of the `avm` CLI (`bin/avm.js`, `npm run avm -- ...`). The command logic lives in
 * {@link run}, which takes argv, the streams and the dependencies, so tests drive it in-process.
 */
import { buildProgram, type CliDeps, type RunState } from "./program";
import { defaultDeps } from "./deps";
import { CLI_ENV } from "./settings";
import { EXIT, oneLine, toCliError, type JsonError } from "./errors";
import { processIo, type CliIo } from "./io";
import { CommanderError } from "commander";

export { EXIT } from "./errors";
export { exitWhenFlushed } from "../exit";
export type { CliIo } from "./io";
export type { CliDeps } from "./program";

/**
 * Runs the CLI once.
 * @param argv arguments after the program name, e.g. `["status", "--email", "a@example.com"]`
 * @param io streams, env and cwd of the run
 * @param deps overrides of the default dependencies (ledger, AWS clients, stack runners, timing, ...)
 * @returns the process exit code: 0 success, 1 runtime error, 2 usage error (see {@link EXIT})
 */
export async function run(argv: readonly string[], io: CliIo, deps: Partial<CliDeps> = {}): Promise<number> {
  const json = argv.includes("--json");
  const state: RunState = { exitCode: EXIT.ok };
  const program = buildProgram(io, { ...defaultDeps(), ...deps }, state);
  try {
    await program.parseAsync([...argv], { from: "user" });
    return state.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end with code 0; "no command given" printed the help on stderr already.
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return EXIT.ok;
      if (error.code === "commander.help") return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
      const message = oneLine(error.message.replace(/^error:\s*/i, ""));
      return report(io, json, { code: "usage", message, exitCode: EXIT.usage });
    }
    const cliError = toCliError(error);
    if (cliError.code === "internal" && io.env[CLI_ENV.debug] === "1") {
      const cause = cliError.cause instanceof Error ? cliError.cause : cliError;
      io.stderr.write(`${cause.stack ?? cause.message}\n`);
    }
    const issues = (cliError as { issues?: JsonError["error"]["issues"] }).issues;
    // One JSON document on stdout: a command that printed its result (e.g. a FAILED record) gets no second one.
    return report(io, json && state.wroteJson !== true, {
      code: cliError.code,
      message: oneLine(cliError.message),
      exitCode: cliError.exitCode,
      ...(issues ? { issues } : {}),
    });
  }
}

function report(io: CliIo, json: boolean, error: JsonError["error"]): number {
  io.stderr.write(`avm: error: ${error.message}\n`);
  if (json) io.stdout.write(`${JSON.stringify({ error } satisfies JsonError, null, 2)}\n`);
  return error.exitCode;
}

/** Runs the CLI on the real process (argv, streams, env, signals) and returns the exit code. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  silenceSqliteWarning();
  const io = processIo((signal) => process.stderr.write(`avm: error: interrupted by ${signal}\n`));
  return run(argv, io);
}

let silenced = false;

/**
 * Idempotent per process. `node:sqlite` (the embedded ledger) prints an ExperimentalWarning on first load; the CLI promises one
 * line on stderr per error, so that one warning is dropped. Every other warning still prints.
 */
export function silenceSqliteWarning(): void {
  if (silenced) return;
  silenced = true;
  const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: unknown, ...rest: unknown[]) => {
    const first = rest[0];
    const type = typeof first === "string" ? first : (first as { type?: string } | undefined)?.type;
    if (type === "ExperimentalWarning" && String(warning).includes("SQLite")) return;
    emitWarning(warning, ...rest);
  }) as typeof process.emitWarning;
}

if (require.main === module) {
  void main().then((code) => {
    process.exitCode = code;
  });
}
