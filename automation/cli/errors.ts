/**
 * Errors of the `avm` CLI and the one place that turns any error into an exit code and ONE stderr line
 * (`avm: error: <message>`). User errors never print a stack trace; unexpected errors print one only
 * when `AVM_DEBUG=1`.
 */

/** Process exit codes of `avm`. */
export const EXIT = {
  /** The command did what it was asked. */
  ok: 0,
  /** The command ran but failed: AWS/engine error, request FAILED, record not found, refused close. */
  runtime: 1,
  /** The command line or its input is invalid (unknown option, bad value, invalid request): nothing was done. */
  usage: 2,
  /** Interrupted by SIGINT/SIGTERM. */
  interrupted: 130,
} as const;

/** Machine-readable error codes of the `--json` error shape. */
export type CliErrorCode = "usage" | "validation" | "not-found" | "refused" | "failed" | "runtime" | "internal";

/** Base class of CLI errors: carries the exit code and the `--json` error code. */
export class CliError extends Error {
  /**
   * @param message one line, shown after `avm: error: `
   * @param code machine-readable class of the error
   * @param exitCode process exit code
   */
  constructor(
    message: string,
    readonly code: CliErrorCode = "runtime",
    readonly exitCode: number = EXIT.runtime,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad command line: unknown option, missing or malformed value, contradictory flags. Exit 2. */
export class CliUsageError extends CliError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, "usage", EXIT.usage, options);
  }
}

/** The request given on the command line or in a file is invalid; names the field. Exit 2. */
export class CliValidationError extends CliError {
  /** Every problem, each naming the field. */
  readonly issues: readonly { readonly field: string; readonly message: string }[];
  constructor(message: string, issues: readonly { field: string; message: string }[], options?: ErrorOptions) {
    super(message, "validation", EXIT.usage, options);
    this.issues = issues;
  }
}

/** No ledger record (or stack) matches what was asked for. Exit 1. */
export class CliNotFoundError extends CliError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, "not-found", EXIT.runtime, options);
  }
}

/** The command refused to act (close quota, missing confirmation). Exit 1. */
export class CliRefusedError extends CliError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, "refused", EXIT.runtime, options);
  }
}

/** The work ran and ended badly (request FAILED, deployment failed). Exit 1. */
export class CliFailedError extends CliError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, "failed", EXIT.runtime, options);
  }
}

/** The `--json` error shape printed on stdout (in addition to the stderr line). */
export interface JsonError {
  readonly error: {
    readonly code: CliErrorCode;
    readonly message: string;
    readonly exitCode: number;
    /** Present for validation errors. */
    readonly issues?: readonly { readonly field: string; readonly message: string }[];
  };
}

/** Collapses whitespace (newlines included) so a message is one line. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

/** Errors of invalid operator settings (flags, environment): exit 2 like other usage errors. */
const CONFIG_ERRORS: ReadonlySet<string> = new Set(["AutomationConfigError", "DeploymentsConfigError"]);

/** Classifies an error into a {@link CliError}. Known project errors (named `...Error`) keep their message. */
export function toCliError(error: unknown): CliError {
  if (error instanceof CliError) return error;
  if (error instanceof Error) {
    const issues = (error as { issues?: unknown }).issues;
    if (error.name === "RequestValidationError" && Array.isArray(issues)) {
      return new CliValidationError(error.message, issues as { field: string; message: string }[], { cause: error });
    }
    // Settings read from flags and the environment: a usage error, nothing was done.
    if (CONFIG_ERRORS.has(error.name)) return new CliUsageError(error.message, { cause: error });
    if (error.name === "AccountStackNotFoundError") return new CliNotFoundError(error.message, { cause: error });
    if (error.name === "CredentialsProviderError") {
      return new CliError(
        `${error.message} (AWS credentials come from the standard chain: AWS_PROFILE, AWS_ACCESS_KEY_ID and ` +
          "AWS_SECRET_ACCESS_KEY, SSO, or an instance role)",
        "runtime",
        EXIT.runtime,
        { cause: error },
      );
    }
    // Project errors, AWS SDK errors and plain Errors carry user-facing messages; language errors are bugs.
    const internal = ["TypeError", "ReferenceError", "SyntaxError"].includes(error.name);
    const cliError = new CliError(
      internal ? `unexpected ${error.name}: ${error.message}` : error.message,
      internal ? "internal" : "runtime",
      EXIT.runtime,
      { cause: error },
    );
    return cliError;
  }
  return new CliError(`unexpected error: ${String(error)}`, "internal", EXIT.runtime, { cause: error });
}
