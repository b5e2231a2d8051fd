/**
 * Production wiring of `AVMEntryPoint`: the DynamoDB ledger, the SQS work queue and the Powertools logger, from
 * the environment the platform stack sets. `entryPoint.ts` loads this module on the first invocation, so the
 * AWS SDK is not loaded during the Lambda's init phase; its static imports let esbuild keep only the SDK parts
 * used here (see `bench/coldStart.ts`).
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoLedger } from "../vending/dynamoLedger";
import { SqsWorkQueue } from "../vending/sqsWorkQueue";
import { ENTRY_POINT_FUNCTION_NAME } from "../shared/naming";
import type { EntryPointDeps, EntryPointLogger } from "./entryPoint";
import { ENV, requireEnv } from "./env";

/** The Powertools logger of the entry point; `POWERTOOLS_SERVICE_NAME` (set by the platform stack) wins. */
export function entryPointLogger(env: NodeJS.ProcessEnv = process.env): Logger {
  return new Logger({ serviceName: env[ENV.serviceName] ?? ENTRY_POINT_FUNCTION_NAME });
}

/**
 * Builds the production dependencies (`AVM_LEDGER_TABLE`, `AVM_QUEUE_URL`) over clients using the standard
 * credential chain and `AWS_ENDPOINT_URL`.
 * @param logger default {@link entryPointLogger}
 * @throws Error naming the missing variable.
 */
export function entryPointDepsFromEnv(env: NodeJS.ProcessEnv, logger?: EntryPointLogger): EntryPointDeps {
  const tableName = requireEnv(ENV.ledgerTable, env);
  const queueUrl = requireEnv(ENV.queueUrl, env);
  return {
    ledger: new DynamoLedger({ client: new DynamoDBClient({}), tableName }),
    queue: new SqsWorkQueue({ client: new SQSClient({}), queueUrl }),
    now: () => new Date(),
    logger: logger ?? entryPointLogger(env),
  };
}
