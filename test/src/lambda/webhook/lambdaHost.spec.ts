import { expect } from "chai";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { LambdaFunctionURLEvent } from "aws-lambda";
import { createWebhookHandler } from "../../../../src/lambda/webhook/handler";
import { secretsManagerSecret } from "../../../../src/adapters/aws/secretsManagerSecret";
import { MemoryDeliveryStore } from "../../../../src/adapters/local/memoryDeliveryStore";
import { computeSignature } from "../../../../src/core/webhooks/signature";
import type { StackOutcome } from "../../../../src/core/webhooks/stackOutcomeRecorder";
import { RecordingTiming } from "../../../support/recordingTiming";

const SECRET = "lambda-webhook-secret-0123456789";
const SECRET_ARN = "arn:aws:secretsmanager:eu-central-1:444455556666:secret:avm-webhook-secret-AbCdEf";

function event(body: string, options: { base64?: boolean; sign?: boolean; id?: string } = {}): LambdaFunctionURLEvent {
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "pulumi-webhook-id": options.id ?? "d-1",
    "pulumi-webhook-kind": "deployment",
  };
  if (options.sign !== false) headers["pulumi-webhook-signature"] = computeSignature(SECRET, Buffer.from(body));
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: "/",
    rawQueryString: "",
    headers,
    requestContext: {
      http: { method: "POST", path: "/", protocol: "HTTP/1.1", sourceIp: "198.51.100.7", userAgent: "pulumi" },
    },
    body: options.base64 ? Buffer.from(body).toString("base64") : body,
    isBase64Encoded: options.base64 ?? false,
  } as unknown as LambdaFunctionURLEvent;
}

const payload = JSON.stringify({
  projectName: "meshstack-avm",
  stackName: "account-222233334444",
  operation: "update",
  status: "succeeded",
  version: 4,
});

function deps(secret: () => Promise<string | undefined>) {
  const recorded: Array<[string, StackOutcome]> = [];
  const logs: string[] = [];
  const log = (message: string, extra?: Record<string, unknown>): void => {
    logs.push(JSON.stringify([message, extra ?? {}]));
  };
  const handler = createWebhookHandler({
    secret,
    recorder: {
      record: async (accountId, outcome) => {
        recorded.push([accountId, outcome]);
        return { action: "completing", requestId: "req-9", state: "COMPLETING" };
      },
    },
    deliveries: new MemoryDeliveryStore(),
    timing: new RecordingTiming(),
    logger: { info: log, warn: log, error: log },
  });
  return { handler, recorded, logs };
}

describe("Lambda webhook host", () => {
  it("decodes a base64 body, verifies it and records the outcome", async () => {
    const { handler, recorded } = deps(async () => SECRET);
    const result = await handler(event(payload, { base64: true }));
    expect(result).to.deep.equal({
      statusCode: 200,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        ok: true,
        message: "deployment update succeeded (#4): completing (COMPLETING)",
        action: "completing",
        requestId: "req-9",
      }),
    });
    expect(recorded).to.deep.equal([
      [
        "222233334444",
        { succeeded: true, summary: "deployment update succeeded (#4)", deliveryId: "d-1", deploymentVersion: 4 },
      ],
    ]);
  });

  it("accepts a plain-text body and rejects an unsigned one", async () => {
    const { handler } = deps(async () => SECRET);
    expect((await handler(event(payload))).statusCode).to.equal(200);
    expect((await handler(event(payload, { sign: false, id: "d-2" }))).statusCode).to.equal(401);
  });

  it("fails closed with 503 when no secret is configured", async () => {
    const { handler, recorded, logs } = deps(async () => undefined);
    const result = await handler(event(payload, { sign: false }));
    expect(result.statusCode).to.equal(503);
    expect(result.body).to.equal(JSON.stringify({ ok: false, message: "webhook secret not configured" }));
    expect(recorded).to.deep.equal([]);
    expect(logs).to.deep.equal([
      JSON.stringify(["webhook secret not configured (AVM_WEBHOOK_SECRET_ARN); refusing deliveries", {}]),
    ]);
  });

  it("answers 503 when Secrets Manager fails, and the secret never reaches a log line", async () => {
    const { handler, logs } = deps(async () => {
      throw Object.assign(new Error(`AccessDenied reading ${SECRET}`), { name: "AccessDeniedException" });
    });
    expect((await handler(event(payload))).statusCode).to.equal(503);
    expect(logs).to.deep.equal([
      JSON.stringify(["cannot read the webhook secret", { error: "AccessDeniedException" }]),
    ]);
    expect(logs.join("\n")).to.not.include(SECRET);
  });

  describe("secretsManagerSecret", () => {
    // Created per suite (not at collection time) so suites in one process do not restore each other's stubs.
    let sm: AwsClientStub<SecretsManagerClient>;
    before(() => {
      sm = mockClient(SecretsManagerClient);
    });
    afterEach(() => sm.reset());
    after(() => sm.restore());

    it("reads the current value once and caches it within the TTL", async () => {
      sm.on(GetSecretValueCommand, { SecretId: SECRET_ARN, VersionStage: "AWSCURRENT" }).resolves({
        SecretString: SECRET,
      });
      const read = secretsManagerSecret(new SecretsManagerClient({ region: "eu-central-1" }), SECRET_ARN);
      expect(await read.candidates()).to.deep.equal([SECRET]);
      expect(await read.candidates()).to.deep.equal([SECRET]);
      expect(sm.commandCalls(GetSecretValueCommand)).to.have.length(1);
    });

    it("retries after a failed read instead of caching the failure", async () => {
      sm.on(GetSecretValueCommand).rejectsOnce(new Error("throttled")).resolves({ SecretString: SECRET });
      const read = secretsManagerSecret(new SecretsManagerClient({ region: "eu-central-1" }), SECRET_ARN);
      let error: unknown;
      try {
        await read.candidates();
      } catch (e) {
        error = e;
      }
      expect((error as Error).message).to.equal("throttled");
      expect(await read.candidates()).to.deep.equal([SECRET]);
    });

    it("returns undefined without calling AWS when no ARN is configured", async () => {
      const read = secretsManagerSecret(new SecretsManagerClient({ region: "eu-central-1" }), undefined);
      expect(await read.candidates()).to.equal(undefined);
      expect(await read.refresh()).to.equal(undefined);
      expect(sm.commandCalls(GetSecretValueCommand)).to.have.length(0);
    });
  });
});
