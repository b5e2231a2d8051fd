/**
 * Lambda Function URL handler for Pulumi Cloud webhooks (deployed by the platform stack). A thin host around
 * {@link WebhookReceiver}: decodes the Function URL event (the body may be base64-encoded; header names arrive
 * lower-cased), and wires the DynamoDB ledger, the DynamoDB delivery store (in the ledger table) and the SQS
 * work queue. The HMAC secret comes from Secrets Manager (`AVM_WEBHOOK_SECRET_ARN`) through a
 * {@link RotatingSecret}: cached for at most 5 minutes, read again (with the previous version) once after a
 * signature mismatch, and during a rotation window both the new and the previous value verify.
 *
 * The Function URL is public (Pulumi Cloud cannot sign AWS requests), so this host fails closed: without a
 * configured secret every delivery is refused with 503 and an error is logged.
 */
import type { Logger as PowertoolsLogger } from "@aws-lambda-powertools/logger";
import type { Logger } from "../../core/ports";
import type { LambdaFunctionURLEvent } from "aws-lambda";
import type { Timing } from "../../shared/timing";
import type { DeliveryStore, WebhookSecrets } from "../../core/ports";
import type { WebhookReceiver, WebhookResponse } from "../../core/webhooks/receiver";
import type { LedgerStackOutcomeRecorder } from "../../core/webhooks/stackOutcomeRecorder";
import { ENV } from "../env";
import { verifySignature, WEBHOOK_HEADERS } from "../../core/webhooks/signature";

/** Everything the handler needs; {@link createWebhookHandler} takes it so tests can swap each part. */
export interface WebhookHandlerDeps {
  /**
   * The HMAC secret: a function returning the one value (or `undefined` when none is configured), or
   * {@link WebhookSecrets} for a secret that rotates. Called per delivery; cache inside.
   */
  readonly secret: (() => Promise<string | undefined>) | WebhookSecrets;
  readonly recorder: Pick<LedgerStackOutcomeRecorder, "record">;
  readonly deliveries: DeliveryStore;
  readonly timing: Timing;
  readonly logger: Logger;
}

function secretsOf(source: WebhookHandlerDeps["secret"]): WebhookSecrets {
  if (typeof source !== "function") return source;
  const one = async () => {
    const value = await source();
    return value === undefined ? undefined : [value];
  };
  return { candidates: one, refresh: one };
}

/** Adapts Powertools' Logger (whose extra argument is variadic) to {@link Logger}. */
export function fromPowertools(logger: PowertoolsLogger): Logger {
  return {
    info: (message: string, extra?: Record<string, unknown>) =>
      extra ? logger.info(message, extra as never) : logger.info(message),
    warn: (message: string, extra?: Record<string, unknown>) =>
      extra ? logger.warn(message, extra as never) : logger.warn(message),
    error: (message: string, extra?: Record<string, unknown>) =>
      extra ? logger.error(message, extra as never) : logger.error(message),
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
  const secrets = secretsOf(deps.secret);
  return async (event) => {
    const raw = event.body ?? "";
    const body = event.isBase64Encoded ? Buffer.from(raw, "base64") : Buffer.from(raw, "utf8");
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
    const signature = headers[WEBHOOK_HEADERS.signature];
    let secret: string | undefined;
    try {
      let candidates = await secrets.candidates();
      const signedWith = (values: readonly string[] | undefined) =>
        signature ? values?.find((value) => verifySignature(value, body, signature)) : undefined;
      secret = signedWith(candidates);
      if (secret === undefined && signature) {
        // Maybe the secret was rotated since it was read: read it (and the previous version) again, once.
        candidates = await secrets.refresh();
        secret = signedWith(candidates);
      }
      // No value verifies: the receiver of the current one answers (401 for a forged or unsigned delivery).
      secret ??= candidates?.[0];
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
      // Current and previous value during a rotation; more means old values are no longer in use.
      if (receivers.size >= 2) receivers.clear();
      // Loaded with the first delivery (signature check, event parsing), not during the init phase.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { WebhookReceiver } =
        require("../../core/webhooks/receiver") as typeof import("../../core/webhooks/receiver");
      receiver = new WebhookReceiver({
        secret,
        recorder: deps.recorder,
        deliveries: deps.deliveries,
        timing: deps.timing,
        logger: deps.logger,
      });
      receivers.set(secret, receiver);
    }
    const response = await receiver.handle({ method: event.requestContext?.http?.method ?? "POST", headers, body });
    return toResult(response);
  };
}
