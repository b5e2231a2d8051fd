/**
 * Lambda Function URL handler for Pulumi Cloud webhooks (deployed by the platform stack). A thin host around
 * {@link WebhookReceiver}: decodes the Function URL event (the body may be base64-encoded; header names arrive
 * lower-cased), and wires the DynamoDB ledger, the DynamoDB delivery store (in the ledger table) and the SQS
 * work queue. The HMAC secret is read once from Secrets Manager (`AVM_WEBHOOK_SECRET_ARN`) and cached for the
 * life of the execution environment.
 *
 * The Function URL is public (Pulumi Cloud cannot sign AWS requests), so this host fails closed: without a
 * configured secret every delivery is refused with 503 and an error is logged.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { LambdaFunctionURLEvent } from "aws-lambda";
import type { Timing } from "../shared/timing";
import type { DeliveryStore } from "../webhooks/deliveryStore";
import type { WebhookLogger, WebhookReceiver, WebhookResponse } from "../webhooks/receiver";
import type { LedgerStackOutcomeRecorder } from "../webhooks/stackOutcomeRecorder";
import { ENV } from "./env";

/** Everything the handler needs; {@link createWebhookHandler} takes it so tests can swap each part. */
export interface WebhookHandlerDeps {
  /** Returns the HMAC secret, or `undefined` when none is configured. Called per delivery; cache inside. */
  readonly secret: () => Promise<string | undefined>;
  readonly recorder: Pick<LedgerStackOutcomeRecorder, "record">;
  readonly deliveries: DeliveryStore;
  readonly timing: Timing;
  readonly logger: WebhookLogger;
}

/** Fetches a secret string once and caches it (a failed fetch is retried on the next call). */
export function cachedSecret(fetch: () => Promise<string | undefined>): () => Promise<string | undefined> {
  let cached: Promise<string | undefined> | undefined;
  return () => {
    cached ??= fetch().catch((error: unknown) => {
      cached = undefined;
      throw error;
    });
    return cached;
  };
}

/** Secrets Manager reader for `AVM_WEBHOOK_SECRET_ARN` (undefined when the variable is unset). */
export function secretsManagerSecret(
  client: SecretsManagerClient,
  secretArn: string | undefined,
): () => Promise<string | undefined> {
  return cachedSecret(async () => {
    if (secretArn === undefined || secretArn === "") return undefined;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { GetSecretValueCommand } = require("./webhookDeps") as typeof import("./webhookDeps");
    const result = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
    if (result.SecretString === undefined || result.SecretString === "") {
      throw new Error(`secret ${secretArn} has no string value`);
    }
    return result.SecretString;
  });
}

/** Adapts Powertools' Logger (whose extra argument is variadic) to {@link WebhookLogger}. */
export function fromPowertools(logger: Logger): WebhookLogger {
  return {
    info: (message, extra) => (extra ? logger.info(message, extra as never) : logger.info(message)),
    warn: (message, extra) => (extra ? logger.warn(message, extra as never) : logger.warn(message)),
    error: (message, extra) => (extra ? logger.error(message, extra as never) : logger.error(message)),
  };
}

/** The structured Function URL response this handler always returns. */
export interface FunctionUrlResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

function toResult(response: WebhookResponse): FunctionUrlResponse {
  return {
    statusCode: response.statusCode,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(response.body),
  };
}

/** Builds a Function URL handler from its dependencies. */
export function createWebhookHandler(
  deps: WebhookHandlerDeps,
): (event: LambdaFunctionURLEvent) => Promise<FunctionUrlResponse> {
  const receivers = new Map<string, WebhookReceiver>();
  return async (event) => {
    let secret: string | undefined;
    try {
      secret = await deps.secret();
    } catch (error) {
      deps.logger.error("cannot read the webhook secret", { error: error instanceof Error ? error.name : "Error" });
      return toResult({ statusCode: 503, body: { ok: false, message: "webhook secret unavailable; retry later" } });
    }
    if (secret === undefined) {
      deps.logger.error(`webhook secret not configured (${ENV.webhookSecretArn}); refusing deliveries`);
      return toResult({ statusCode: 503, body: { ok: false, message: "webhook secret not configured" } });
    }
    // One receiver per secret value (a rotated secret gets a fresh one); the map holds at most a few entries.
    let receiver = receivers.get(secret);
    if (!receiver) {
      receivers.clear();
      // Loaded with the first delivery (signature check, event parsing), not during the init phase.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { WebhookReceiver } = require("../webhooks/receiver") as typeof import("../webhooks/receiver");
      receiver = new WebhookReceiver({
        secret,
        recorder: deps.recorder,
        deliveries: deps.deliveries,
        timing: deps.timing,
        logger: deps.logger,
      });
      receivers.set(secret, receiver);
    }
    const raw = event.body ?? "";
    const body = event.isBase64Encoded ? Buffer.from(raw, "base64") : Buffer.from(raw, "utf8");
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
    const response = await receiver.handle({ method: event.requestContext?.http?.method ?? "POST", headers, body });
    return toResult(response);
  };
}

let defaultHandler: ((event: LambdaFunctionURLEvent) => Promise<FunctionUrlResponse>) | undefined;

/**
 * Production wiring from the environment the platform stack sets (`webhookDeps.ts`), created on the first
 * invocation: the AWS SDK and the logger are loaded then, not during the init phase (see `bench/coldStart.ts`).
 */
function productionHandler(): (event: LambdaFunctionURLEvent) => Promise<FunctionUrlResponse> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  defaultHandler ??= createWebhookHandler(
    (require("./webhookDeps") as typeof import("./webhookDeps")).webhookDepsFromEnv(),
  );
  return defaultHandler;
}

/** The Lambda entry point (`webhook.handler`). */
export async function handler(event: LambdaFunctionURLEvent): Promise<FunctionUrlResponse> {
  return productionHandler()(event);
}
