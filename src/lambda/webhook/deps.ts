/**
 * Production wiring of `AVMWebhook`: the webhook secret from Secrets Manager, the DynamoDB ledger and delivery
 * store, the SQS work queue and the Powertools logger, from the environment the platform stack sets.
 * `webhook.ts` loads this module on the first invocation, so the AWS SDK is not loaded during the Lambda's init
 * phase; its static imports let esbuild keep only the SDK parts used here (see `bench/coldStart.ts`).
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SQSClient } from "@aws-sdk/client-sqs";
import { realTiming } from "../../shared/timing";
import { DynamoLedger } from "../../adapters/aws/dynamoLedger";
import { SqsWorkQueue } from "../../adapters/aws/sqsWorkQueue";
import { DynamoDeliveryStore } from "../../adapters/aws/dynamoDeliveryStore";
import { LedgerStackOutcomeRecorder } from "../../core/webhooks/stackOutcomeRecorder";
import { ENV, requireEnv } from "../env";
import { createWebhookHandler, fromPowertools, type WebhookHandlerDeps } from "./handler";
import { secretsManagerSecret } from "../../adapters/aws/secretsManagerSecret";

/**
 * Builds the production dependencies (`AVM_LEDGER_TABLE`, `AVM_QUEUE_URL`, `AVM_WEBHOOK_SECRET_ARN`) over
 * clients using the standard credential chain and `AWS_ENDPOINT_URL`.
 * @throws Error naming a missing variable.
 */
export function webhookDepsFromEnv(env: NodeJS.ProcessEnv = process.env): WebhookHandlerDeps {
  const logger = fromPowertools(new Logger({ serviceName: env[ENV.serviceName] ?? "avm-webhook" }));
  const tableName = requireEnv(ENV.ledgerTable, env);
  const dynamo = new DynamoDBClient({});
  return {
    secret: secretsManagerSecret(new SecretsManagerClient({}), env[ENV.webhookSecretArn]),
    recorder: new LedgerStackOutcomeRecorder({
      ledger: new DynamoLedger({ client: dynamo, tableName }),
      queue: new SqsWorkQueue({ client: new SQSClient({}), queueUrl: requireEnv(ENV.queueUrl, env) }),
      timing: realTiming,
    }),
    deliveries: new DynamoDeliveryStore({ client: dynamo, tableName }),
    timing: realTiming,
    logger,
  };
}

/**
 * The production handler: {@link createWebhookHandler} over {@link webhookDepsFromEnv}. `index.ts` loads this
 * module (`deps.js` in the Lambda archive) on the first invocation, so the init phase loads only `index.js`.
 */
export function webhookHandlerFromEnv(env: NodeJS.ProcessEnv): ReturnType<typeof createWebhookHandler> {
  return createWebhookHandler(webhookDepsFromEnv(env));
}
