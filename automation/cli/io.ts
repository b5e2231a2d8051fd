/**
 * What a CLI run talks to: its output streams, input, environment and working directory. `run()` takes
 * one of these so every command can be driven in-process by tests; {@link processIo} is the real one.
 */
import type { Readable } from "node:stream";

/** The subset of a writable stream the CLI writes to. */
export interface CliOutput {
  write(chunk: string): unknown;
  /** True when the stream is a terminal (progress is drawn live only then). */
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/** The streams, environment and cwd of one CLI run. */
export interface CliIo {
  readonly stdout: CliOutput;
  readonly stderr: CliOutput;
  /** Where `-` (and `invoke` without `--file`) reads from. */
  readonly stdin: Readable | string;
  /** Environment used for every env fallback; default `process.env`. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths (ledger file, request files) are resolved against. */
  readonly cwd: string;
  /** True when stdin is a terminal: `close` may then ask for confirmation. */
  readonly interactive?: boolean;
  /** Reads one answer line from the terminal (only used when `interactive`). */
  prompt?(question: string): Promise<string>;
  /**
   * Resolves with the signal name when the operator asks to stop (SIGINT/SIGTERM). Default: never.
   * A command that shuts down gracefully on it (`serve`) calls {@link CliIo.claimInterrupt} first;
   * otherwise the process exits with code 130 at once (every step is durable in the ledger, so an
   * interrupted `vend` resumes on the next run).
   */
  readonly interrupted?: Promise<string>;
  /** Tells the host this command handles {@link CliIo.interrupted} itself. */
  claimInterrupt?(): void;
}

/** Reads all of `input` as UTF-8 text. */
export async function readAll(input: Readable | string): Promise<string> {
  if (typeof input === "string") return input;
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * The real process: stdout, stderr, stdin, `process.env`, `process.cwd()`. On SIGINT/SIGTERM the
 * `interrupted` promise resolves; unless the running command claimed it, the process exits with 130
 * after `onUnclaimed` (which prints the one-line notice).
 */
export function processIo(onUnclaimed: (signal: string) => void): CliIo {
  let claimed = false;
  const interrupted = new Promise<string>((resolve) => {
    const on = (signal: NodeJS.Signals) => () => {
      resolve(signal);
      if (!claimed) {
        onUnclaimed(signal);
        process.exit(130);
      }
    };
    process.once("SIGINT", on("SIGINT"));
    process.once("SIGTERM", on("SIGTERM"));
  });
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    interactive: process.stdin.isTTY === true && process.stderr.isTTY === true,
    prompt: async (question: string) => {
      const { createInterface } = await import("node:readline/promises");
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return await rl.question(question);
      } finally {
        rl.close();
      }
    },
    interrupted,
    claimInterrupt: () => {
      claimed = true;
    },
  };
}
