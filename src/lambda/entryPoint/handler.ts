/**
 * `AVMEntryPoint`: the Lambda meshStack invokes synchronously after every project replication (and that
 * operators may invoke with a vend request). Thin: parse -> validate -> record -> enqueue, through
 * {@link acceptRequest}, and one place that maps outcomes to the response.
 *
 * Before anything is written, the request passes the entry point's gate (`entryPointGate.ts`): a hook must
 * name an account whose id and email match the organization's record (DescribeAccount through the vending
 * role, in a session limited to that call); vend requests are refused unless the operator enabled them.
 *
 * Responses (meshStack ignores the value and only logs returned errors):
 * - accepted, new or repeated: `{ "requestId": "...", "state": "RECEIVED" }`;
 * - invalid or refused input (nothing recorded; retrying the same payload cannot help):
 *   `{ "error": { "message": "...", "issues": [{ "field": "...", "message": "..." }] } }`.
 *
 * The invocation fails (throws) only when the AVM itself is broken: missing configuration, the ledger or
 * the queue unreachable. Then nothing was recorded, or the record notes the failed enqueue and the next
 * invocation re-enqueues it, so meshStack's retry of the replication is safe.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import type { Context } from "aws-lambda";
import type { EntryPointGate } from "../../core/vending/entryPointGate";
import type { IntakeDeps } from "../../core/vending/intake";
import type { RequestIssue } from "../../core/vending/requestRules";

/** Successful response. */
export interface EntryPointAccepted {
  readonly requestId: string;
  readonly state: string;
}

/** Response for invalid input. */
export interface EntryPointRejected {
  readonly error: { readonly message: string; readonly issues: readonly RequestIssue[] };
}

/** What the handler returns. */
export type EntryPointResponse = EntryPointAccepted | EntryPointRejected;

/** The logger surface the handler uses (Powertools' `Logger` in production, a recorder in tests). */
export type EntryPointLogger = Pick<Logger, "info" | "warn" | "error" | "appendKeys" | "resetKeys" | "addContext">;

/** Dependencies of {@link createEntryPointHandler}; production builds them from the environment. */
export interface EntryPointDeps extends Omit<IntakeDeps, "logger" | "gate"> {
  readonly logger: EntryPointLogger;
  /** The trust boundary every request passes before anything is written (required: no silent default). */
  readonly gate: EntryPointGate;
}

/**
 * Creates the handler over `deps`, or over the factory `deps`, called on the first invocation and kept for the
 * life of the execution environment (clients are created once, not per call).
 */
export function createEntryPointHandler(deps: EntryPointDeps | (() => EntryPointDeps)) {
  let resolved: EntryPointDeps | undefined = typeof deps === "object" ? deps : undefined;
  const build = typeof deps === "function" ? deps : () => deps;
  return async function entryPointHandler(event: unknown, context?: Context): Promise<EntryPointResponse> {
    resolved ??= build();
    // Loaded with the first invocation (validation with zod, the intake), not during the init phase.
    /* eslint-disable @typescript-eslint/no-require-imports */
    const { acceptRequest, IntakeEnqueueError } =
      require("../../core/vending/intake") as typeof import("../../core/vending/intake");
    const { RequestValidationError } =
      require("../../core/vending/requestRules") as typeof import("../../core/vending/requestRules");
    const { RequestRefusedError } =
      require("../../core/vending/entryPointGate") as typeof import("../../core/vending/entryPointGate");
    /* eslint-enable @typescript-eslint/no-require-imports */
    const { logger } = resolved;
    logger.resetKeys();
    if (context) logger.addContext(context);
    try {
      const intakeLogger = {
        info: (message: string, attributes: Record<string, unknown>) => logger.info(message, attributes),
        warn: (message: string, attributes: Record<string, unknown>) => logger.warn(message, attributes),
        error: (message: string, attributes: Record<string, unknown>) => logger.error(message, attributes),
      };
      const result = await acceptRequest(event, { ...resolved, logger: intakeLogger });
      return { requestId: result.requestId, state: result.state };
    } catch (error) {
      if (error instanceof RequestRefusedError) {
        // Field names only: refusals quote the payload's account id and email, which stay out of the logs.
        logger.warn("request refused", {
          kind: error.requestKind ?? "unknown",
          fields: error.issues.map((issue) => issue.field),
        });
        return { error: { message: error.message, issues: error.issues } };
      }
      if (error instanceof RequestValidationError) {
        // Field names and rules only: payload values (emails, names) stay out of the logs.
        logger.warn("invalid request", { kind: error.requestKind ?? "unknown", issues: error.issues });
        return { error: { message: error.message, issues: error.issues } };
      }
      logger.error("request could not be recorded or enqueued", {
        ...(error instanceof IntakeEnqueueError ? { requestId: error.requestId } : {}),
        error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      });
      throw error;
    }
  };
}
