/**
 * Errors of the automation layer (account stacks through the Automation API) and the ONE place that
 * maps Pulumi engine errors onto them: {@link classifyEngineError}. The engine's message is kept
 * verbatim in `engineMessage` and the original error in `cause`.
 */
// The error classes alone: the automation index would load the whole Pulumi SDK into every command that classifies errors.
import { ConcurrentUpdateError, StackAlreadyExistsError, StackNotFoundError } from "@pulumi/pulumi/automation/errors";

/** Base class of automation errors. */
export class AutomationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Local settings are missing or invalid (backend URL, secrets provider, passphrase, stack config). */
export class AutomationConfigError extends AutomationError {}

/** Base class of errors that came out of a Pulumi engine operation on one stack. */
export class StackOperationError extends AutomationError {
  /**
   * @param stackName stack the operation ran on
   * @param operation verb (`ensure`, `up`, `preview`, `refresh`, `destroy`, `outputs`, `remove`, `list`, `config`)
   * @param engineMessage the engine's own message, verbatim
   */
  constructor(
    message: string,
    readonly stackName: string,
    readonly operation: string,
    readonly engineMessage: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The `pulumi` CLI is not on PATH (the Automation API shells out to it). */
export class PulumiCliNotFoundError extends StackOperationError {}

/** The stack does not exist in the backend. */
export class AccountStackNotFoundError extends StackOperationError {}

/** The stack already exists (only raised by explicit creates). */
export class AccountStackExistsError extends StackOperationError {}

/**
 * Another update holds the stack (Pulumi's ConcurrentUpdateError: HTTP 409 on Pulumi Cloud, a lock file on
 * DIY backends). Retried with backoff by {@link AccountStacks}; thrown when the retries are exhausted.
 */
export class StackBusyError extends StackOperationError {
  /** Attempts made before giving up (1 when raised by the classifier itself). */
  attempts = 1;
}

/** Any other failure of a Pulumi command (resource errors, program errors, auth failures, ...). */
export class EngineError extends StackOperationError {}

/**
 * `pulumi up` of an account stack found an IAM role with the access role's name that the stack does not manage;
 * the message says how to rename or import it.
 */
export class AccessRoleCollisionError extends EngineError {}

const CLI_MISSING = /ENOENT[\s\S]*pulumi|spawn pulumi ENOENT/;

/**
 * A DIY backend's lock check lists `.pulumi/locks/<stack>/` and then reads each lock file to name its holder; when
 * the other update releases its lock between the two, the CLI fails with "open .../locks/...json: no such file or
 * directory" instead of ConcurrentUpdateError. The stack was busy a moment ago, so it is retried the same way.
 */
const DIY_LOCK_RELEASED = /\.pulumi[\\/]locks[\\/]\S+\.json: no such file or directory/;

/** First meaningful line of the engine's stderr, for one-line messages. */
function headline(message: string): string {
  const stderr = /stderr: ([\s\S]*?)(?:\n err\?:|$)/.exec(message)?.[1] ?? message;
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const error = lines.find((l) => /^error:/i.test(l));
  return (error ?? lines[0] ?? message.trim()).slice(0, 500);
}

/**
 * Maps any error thrown by an engine call to the project's error classes. Errors that already are
 * {@link AutomationError}s pass through unchanged.
 * @param error what the engine threw
 * @param stackName stack the operation ran on
 * @param operation the verb, for the message
 */
export function classifyEngineError(error: unknown, stackName: string, operation: string): AutomationError {
  if (error instanceof AutomationError) return error;
  const engineMessage = error instanceof Error ? error.message : String(error);
  const options = { cause: error };
  if (CLI_MISSING.test(engineMessage)) {
    return new PulumiCliNotFoundError(
      `${operation} ${stackName}: the pulumi CLI is not on PATH (install it from https://www.pulumi.com/docs/install/, or use the offline plan)`,
      stackName,
      operation,
      engineMessage,
      options,
    );
  }
  const lockReleased = DIY_LOCK_RELEASED.test(engineMessage);
  if (error instanceof ConcurrentUpdateError || lockReleased) {
    const detail = lockReleased ? "its lock file was released while the pulumi CLI read it" : headline(engineMessage);
    return new StackBusyError(
      `${operation} ${stackName}: another update is in progress on this stack: ${detail}`,
      stackName,
      operation,
      engineMessage,
      options,
    );
  }
  if (error instanceof StackNotFoundError) {
    return new AccountStackNotFoundError(
      `${operation} ${stackName}: stack not found in the backend`,
      stackName,
      operation,
      engineMessage,
      options,
    );
  }
  // The SDK matches /stack.*already exists/ against stderr, which also hits resource errors such as
  // "MeshstackAccountAccessRole already exists"; only a create can really meet an existing stack.
  if (error instanceof StackAlreadyExistsError && operation === "ensure") {
    return new AccountStackExistsError(
      `${operation} ${stackName}: stack already exists`,
      stackName,
      operation,
      engineMessage,
      options,
    );
  }
  // CommandError (exit code != 0) and anything unexpected alike: keep the engine's text.
  return new EngineError(
    `${operation} ${stackName} failed: ${headline(engineMessage)}`,
    stackName,
    operation,
    engineMessage,
    options,
  );
}
