/**
 * `AVMEntryPoint`: the Lambda meshStack invokes synchronously after every project replication (and that
 * operators may invoke with a vend request). Thin: parse -> validate -> record -> enqueue, through
 * {@link acceptRequest}, and one place that maps outcomes to the response.
 *
 * Responses (meshStack ignores the value and only logs returned errors):
 * - accepted, new or repeated: `{ "requestId": "...", "state": "RECEIVED" }`;
 * - invalid input (nothing recorded; retrying the same payload cannot help):
 *   `{ "error": { "message": "...", "issues": [{ "field": "...", "message": "..." }] } }`.
 *
 * The invocation fails (throws) only when the AVM itself is broken: missing configuration, the ledger or
 * the queue unreachable. Then nothing was recorded, or the record notes the failed enqueue and the next
 * invocation re-enqueues it, so meshStack's retry of the replication is safe.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { Logger } from "@aws-lambda-powertools/logger";
import type { Context } from "aws-lambda";
import { acceptRequest, IntakeEnqueueError, type IntakeDeps } from "../vending/intake";
import { DynamoLedger } from "../vending/dynamoLedger";
import { RequestValidationError, type RequestIssue } from "../vending/requests";
import { SqsWorkQueue } from "../vending/sqsWorkQueue";
import { ENTRY_POINT_FUNCTION_NAME } from "../shared/naming";
import { ENV, requireEnv } from "./env";

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
export interface EntryPointDeps extends Omit<IntakeDeps, "logger"> {
  readonly logger: EntryPointLogger;
}

/**
 * Builds production dependencies from the environment (`AVM_LEDGER_TABLE`, `AVM_QUEUE_URL`): a DynamoDB
 * ledger and an SQS queue over clients using the standard credential chain and `AWS_ENDPOINT_URL`.
 * @throws Error naming the missing variable.
 */
export function depsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  logger: EntryPointLogger = defaultLogger(),
): EntryPointDeps {
  const tableName = requireEnv(ENV.ledgerTable, env);
  const queueUrl = requireEnv(ENV.queueUrl, env);
  return {
    ledger: new DynamoLedger({ client: new DynamoDBClient({}), tableName }),
    queue: new SqsWorkQueue({ client: new SQSClient({}), queueUrl }),
    now: () => new Date(),
    logger,
  };
}

function defaultLogger(): Logger {
  // POWERTOOLS_SERVICE_NAME (set by the platform stack) wins over this default.
  return new Logger({ serviceName: process.env[ENV.serviceName] ?? ENTRY_POINT_FUNCTION_NAME });
}

/**
 * Creates the handler over `deps`, or over {@link depsFromEnv} built lazily on the first invocation and
 * kept for the life of the execution environment (clients are created once, not per call).
 */
export function createEntryPointHandler(deps?: EntryPointDeps | (() => EntryPointDeps)) {
  let resolved: EntryPointDeps | undefined = typeof deps === "object" ? deps : undefined;
  const build = typeof deps === "function" ? deps : () => depsFromEnv();
  return async function entryPointHandler(event: unknown, context?: Context): Promise<EntryPointResponse> {
    resolved ??= build();
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

/** The Lambda entry point (`AVMEntryPoint`), configured from the environment. */
export const handler = createEntryPointHandler();
