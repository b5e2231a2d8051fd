/**
 * Composition root of the worker Lambda: builds its clients once per container from the environment the
 * platform stack sets (see `env.ts`).
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { realTiming } from "../../shared/timing";
import { DynamoLedger } from "../../adapters/aws/dynamoLedger";
import { DynamoCreateSlots } from "../../adapters/aws/dynamoCreateSlots";
import { SqsWorkQueue } from "../../adapters/aws/sqsWorkQueue";
import { checkSlotCount, DEFAULT_MAX_CONCURRENT_CREATES } from "../../core/vending/createSlots";
import { OrganizationsGateway } from "../../adapters/aws/organizationsGateway";
import { describeError } from "../../core/organizations";
import { createWorkflow } from "../../core/vending/workflow";
import { ENV, requireEnv } from "../env";
import { createManagementOrganizationsClient } from "../../adapters/aws/managementClients";
import { createLambdaAccountStackRunner } from "./stackRunner";
import { createWorkerHandler, maxReceiveCountFrom, type WorkerDeps } from "./handler";

/**
 * Builds the worker's dependencies: DynamoDB ledger and CreateAccount slots (`AVM_LEDGER_TABLE`), the SQS
 * work queue (`AVM_QUEUE_URL`), Organizations through the assumed vending role (`AVM_MANAGEMENT_ROLE_ARN`),
 * the account stack runner, and a Powertools logger.
 * @throws Error naming the first missing or malformed environment variable.
 */
export function workerDepsFromEnv(env: NodeJS.ProcessEnv): WorkerDeps {
  const logger = new Logger({ serviceName: env[ENV.serviceName] ?? "meshstack-avm-worker" });
  const tableName = requireEnv(ENV.ledgerTable, env);
  const queueUrl = requireEnv(ENV.queueUrl, env);
  const slots = env[ENV.maxConcurrentCreates] ? Number(env[ENV.maxConcurrentCreates]) : DEFAULT_MAX_CONCURRENT_CREATES;
  const dynamo = new DynamoDBClient({});
  const ledger = new DynamoLedger({ client: dynamo, tableName });
  const createSlots = new DynamoCreateSlots({ client: dynamo, tableName, slots: checkSlotCount(slots) });
  const queue = new SqsWorkQueue({ client: new SQSClient({}), queueUrl });
  const organizations = new OrganizationsGateway(createManagementOrganizationsClient({ env }), {
    timing: realTiming,
    onRetry: (event) =>
      logger.warn("Organizations call retried", {
        operation: event.operation,
        attempt: event.attempt,
        delayMs: event.delayMs,
        reason: describeError(event.error),
      }),
  });
  const stackRunner = createLambdaAccountStackRunner(env);
  const defaultTargetOu = env[ENV.defaultOuId];
  const bootstrapRoleName = env[ENV.bootstrapRoleName];
  const options = {
    ...(defaultTargetOu ? { defaultTargetOu } : {}),
    ...(bootstrapRoleName ? { bootstrapRoleName } : {}),
  };
  return {
    workflowFor: (log) =>
      createWorkflow({ ledger, organizations, stackRunner, createSlots, timing: realTiming, logger: log, options }),
    ledger,
    queue,
    timing: realTiming,
    logger,
    maxReceiveCount: maxReceiveCountFrom(env),
  };
}

/**
 * The production handler: {@link createWorkerHandler} over {@link workerDepsFromEnv}, built on the first
 * invocation. `index.ts` loads this module (`deps.js` in the Lambda archive) on the first invocation, so the init
 * phase loads only `index.js`.
 */
export function workerHandlerFromEnv(env: NodeJS.ProcessEnv): ReturnType<typeof createWorkerHandler> {
  return createWorkerHandler(() => workerDepsFromEnv(env));
}
