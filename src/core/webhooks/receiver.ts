/**
 * The Pulumi Cloud webhook receiver core, shared by the Lambda Function URL handler (`src/lambda/webhook.ts`)
 * and `avm serve` (`automation/serve.ts`). Transport-free: a request is method, lower-cased headers and the raw
 * body bytes; the answer is a status code and a small JSON body.
 *
 * Order of checks: method -> body size (413) -> signature when a secret is configured (401) -> headers (400)
 * -> `ping` (200) -> de-duplication by `Pulumi-Webhook-ID` (200, `duplicate`) -> JSON (400) -> payload shape
 * (400) -> ledger transition. Events for other projects, other stacks, unknown accounts and non-final states
 * are acknowledged with 200 and logged, so Pulumi Cloud does not redeliver them. The secret and the signature
 * are never logged or echoed.
 */
import { PROJECT_NAME, accountIdFromStackName } from "../../shared/naming";
import type { Timing } from "../../shared/timing";
import type { DeliveryStore, Logger } from "../ports";
import {
  DRIFT_KINDS,
  driftEventSchema,
  driftNote,
  deploymentEventSchema,
  deploymentOutcome,
  stackUpdateEventSchema,
  stackUpdateOutcome,
  type StackEventOutcome,
} from "./events";
import { WEBHOOK_HEADERS, verifySignature } from "./signature";
import type { LedgerStackOutcomeRecorder, RecordAction } from "./stackOutcomeRecorder";

/** Default body limit: 256 KiB (Pulumi's payloads are a few KiB). */
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

/** One delivery, transport-neutral. */
export interface WebhookRequest {
  /** HTTP method; `POST` expected. */
  readonly method: string;
  /** Headers with lower-cased names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The raw body bytes, exactly as received (the signature covers them). */
  readonly body: Uint8Array;
}

/** JSON body of every answer. */
export interface WebhookResponseBody {
  readonly ok: boolean;
  readonly message: string;
  /** What happened to the ledger (only for account-stack events). */
  readonly action?: RecordAction | "ignored" | "duplicate" | "in-progress" | "pong";
  readonly requestId?: string;
}

/** The answer to one delivery. */
export interface WebhookResponse {
  readonly statusCode: number;
  readonly body: WebhookResponseBody;
}

/** Options of {@link WebhookReceiver}. */
export interface WebhookReceiverOptions {
  /**
   * Shared secret configured on the Pulumi Cloud webhook. When set, unsigned and forged deliveries are
   * rejected (401). When absent every delivery is accepted (local use only; a warning is logged per delivery).
   */
  readonly secret?: string;
  /** Records outcomes; without `recordDrift` drift events are acknowledged and ignored. */
  readonly recorder: Pick<LedgerStackOutcomeRecorder, "record"> &
    Partial<Pick<LedgerStackOutcomeRecorder, "recordDrift">>;
  readonly deliveries: DeliveryStore;
  readonly timing: Timing;
  readonly logger: Logger;
  /** Body limit in bytes; default {@link DEFAULT_MAX_BODY_BYTES}. */
  readonly maxBodyBytes?: number;
  /** Pulumi project of the account stacks; default `meshstack-avm`. */
  readonly projectName?: string;
}

const reply = (statusCode: number, body: WebhookResponseBody): WebhookResponse => ({ statusCode, body });
const DELIVERY_ID = /^[\w.:-]{1,128}$/;

/** Verifies, de-duplicates and applies Pulumi Cloud webhook deliveries. */
export class WebhookReceiver {
  private readonly maxBodyBytes: number;
  private readonly projectName: string;

  constructor(private readonly options: WebhookReceiverOptions) {
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.projectName = options.projectName ?? PROJECT_NAME;
    if (options.secret !== undefined && options.secret === "") {
      throw new Error("webhook secret must not be empty when given");
    }
  }

  /** Body limit the hosts enforce while reading (so an oversized body is never buffered whole). */
  get bodyLimit(): number {
    return this.maxBodyBytes;
  }

  /** Handles one delivery; never throws (internal failures answer 500 and release the delivery id). */
  async handle(request: WebhookRequest): Promise<WebhookResponse> {
    const { logger } = this.options;
    if (request.method.toUpperCase() !== "POST") {
      return reply(405, { ok: false, message: `method ${request.method} not allowed; Pulumi Cloud webhooks POST` });
    }
    if (request.body.byteLength > this.maxBodyBytes) {
      logger.warn("webhook rejected: body too large", { bytes: request.body.byteLength, limit: this.maxBodyBytes });
      return reply(413, { ok: false, message: `body exceeds ${this.maxBodyBytes} bytes` });
    }
    const signature = request.headers[WEBHOOK_HEADERS.signature];
    if (this.options.secret !== undefined) {
      if (signature === undefined || signature === "") {
        logger.warn("webhook rejected: unsigned delivery");
        return reply(401, { ok: false, message: "missing Pulumi-Webhook-Signature header" });
      }
      if (!verifySignature(this.options.secret, request.body, signature)) {
        logger.warn("webhook rejected: signature mismatch", { bytes: request.body.byteLength });
        return reply(401, { ok: false, message: "invalid Pulumi-Webhook-Signature" });
      }
    } else {
      logger.warn("webhook accepted without signature check: no webhook secret configured");
    }
    const kind = request.headers[WEBHOOK_HEADERS.kind];
    if (kind === undefined || kind === "") {
      return reply(400, { ok: false, message: "missing Pulumi-Webhook-Kind header" });
    }
    if (kind === "ping") {
      logger.info("webhook ping");
      return reply(200, { ok: true, message: "pong", action: "pong" });
    }
    const deliveryId = request.headers[WEBHOOK_HEADERS.id];
    if (deliveryId === undefined || !DELIVERY_ID.test(deliveryId)) {
      return reply(400, { ok: false, message: "missing or malformed Pulumi-Webhook-ID header" });
    }
    const claim = await this.options.deliveries.claim(deliveryId, this.options.timing.now());
    if (claim === "processed") {
      logger.info("webhook duplicate ignored", { deliveryId, kind });
      return reply(200, { ok: true, message: `delivery ${deliveryId} already processed`, action: "duplicate" });
    }
    if (claim === "in-progress") {
      // Another handler holds the claim and has not finished; it may have died. Not 2xx, so Pulumi Cloud delivers
      // again later: after the claim expires (or the other handler completed) that redelivery is decided for good.
      logger.warn("webhook delivery still in progress elsewhere", { deliveryId, kind });
      return reply(503, {
        ok: false,
        message: `delivery ${deliveryId} is being processed; Pulumi Cloud will redeliver`,
        action: "in-progress",
      });
    }
    try {
      const response = await this.process(deliveryId, kind, request.body);
      if (response.statusCode >= 400) await this.options.deliveries.release(deliveryId);
      else await this.options.deliveries.complete(deliveryId, this.options.timing.now());
      return response;
    } catch (error) {
      await this.options.deliveries.release(deliveryId).catch(() => undefined);
      logger.error("webhook processing failed", { deliveryId, kind, error: describe(error) });
      return reply(500, { ok: false, message: "internal error; Pulumi Cloud will redeliver" });
    }
  }

  private async process(deliveryId: string, kind: string, body: Uint8Array): Promise<WebhookResponse> {
    const { logger } = this.options;
    let payload: unknown;
    try {
      // A view of the bytes, not a copy.
      payload = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"));
    } catch (error) {
      logger.warn("webhook rejected: malformed JSON", { deliveryId, kind });
      return reply(400, { ok: false, message: `body is not valid JSON: ${describe(error)}` });
    }
    if (DRIFT_KINDS.has(kind)) return this.processDrift(deliveryId, kind, payload);
    let outcome: StackEventOutcome;
    let stackName: string;
    let projectName: string;
    let deploymentVersion: number | undefined;
    if (kind === "stack_update") {
      const parsed = stackUpdateEventSchema.safeParse(payload);
      if (!parsed.success) return this.badPayload(deliveryId, kind, parsed.error.issues);
      ({ stackName, projectName } = parsed.data);
      outcome = stackUpdateOutcome(parsed.data);
    } else if (kind === "deployment") {
      const parsed = deploymentEventSchema.safeParse(payload);
      if (!parsed.success) return this.badPayload(deliveryId, kind, parsed.error.issues);
      ({ stackName, projectName } = parsed.data);
      deploymentVersion = parsed.data.version;
      outcome = deploymentOutcome(parsed.data);
    } else {
      logger.info("webhook kind ignored", { deliveryId, kind });
      return reply(200, { ok: true, message: `kind ${kind} ignored`, action: "ignored" });
    }
    const accountId = this.accountIdOf(deliveryId, kind, projectName, stackName);
    if (typeof accountId !== "string") return accountId;
    if (outcome.kind === "ignored") {
      logger.info("webhook event is not a final update outcome", { deliveryId, stackName, event: outcome.summary });
      return reply(200, { ok: true, message: `${outcome.summary}: nothing to record`, action: "ignored" });
    }
    const result = await this.options.recorder.record(accountId, {
      succeeded: outcome.kind === "succeeded",
      summary: outcome.summary,
      deliveryId,
      ...(outcome.url === undefined ? {} : { url: outcome.url }),
      ...(deploymentVersion === undefined ? {} : { deploymentVersion }),
    });
    const fields = {
      deliveryId,
      stackName,
      event: outcome.summary,
      action: result.action,
      requestId: result.requestId,
    };
    if (result.action === "unknown-account") {
      logger.warn("webhook for an account the ledger does not know", fields);
      return reply(200, { ok: true, message: `no ledger record for account ${accountId}`, action: result.action });
    }
    logger.info("webhook applied", { ...fields, state: result.state });
    return reply(200, {
      ok: true,
      message: `${outcome.summary}: ${result.action}${result.state ? ` (${result.state})` : ""}`,
      action: result.action,
      ...(result.requestId === undefined ? {} : { requestId: result.requestId }),
    });
  }

  /**
   * The account id of `stackName` when it is an account stack of this project; for any other stack the answer that
   * ignores the delivery (200, logged).
   */
  private accountIdOf(
    deliveryId: string,
    kind: string,
    projectName: string,
    stackName: string,
  ): string | WebhookResponse {
    const accountId = accountIdFromStackName(stackName.split("/").pop() ?? stackName);
    if (projectName === this.projectName && accountId !== undefined) return accountId;
    this.options.logger.info("webhook for another stack ignored", { deliveryId, kind, projectName, stackName });
    return reply(200, { ok: true, message: `${projectName}/${stackName} is not an account stack`, action: "ignored" });
  }

  /** A drift run's event: recorded as a history note on the account's SUCCEEDED record. */
  private async processDrift(deliveryId: string, kind: string, payload: unknown): Promise<WebhookResponse> {
    const { logger, recorder } = this.options;
    const parsed = driftEventSchema.safeParse(payload);
    if (!parsed.success) return this.badPayload(deliveryId, kind, parsed.error.issues);
    const { stackName, projectName } = parsed.data;
    const accountId = this.accountIdOf(deliveryId, kind, projectName, stackName);
    if (typeof accountId !== "string") return accountId;
    if (recorder.recordDrift === undefined) {
      return reply(200, { ok: true, message: `kind ${kind} ignored`, action: "ignored" });
    }
    const note = driftNote(kind, parsed.data);
    const result = await recorder.recordDrift(accountId, note, deliveryId);
    logger.info("webhook drift event", { deliveryId, stackName, event: note, action: result.action });
    return reply(200, {
      ok: true,
      message: `${note}: ${result.action}${result.state ? ` (${result.state})` : ""}`,
      action: result.action,
      ...(result.requestId === undefined ? {} : { requestId: result.requestId }),
    });
  }

  private badPayload(
    deliveryId: string,
    kind: string,
    issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>,
  ): WebhookResponse {
    const detail = issues
      .slice(0, 5)
      .map((i) => `${i.path.map(String).join(".") || "(body)"}: ${i.message}`)
      .join("; ");
    this.options.logger.warn("webhook rejected: invalid payload", { deliveryId, kind, detail });
    return reply(400, { ok: false, message: `invalid ${kind} payload: ${detail}` });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
