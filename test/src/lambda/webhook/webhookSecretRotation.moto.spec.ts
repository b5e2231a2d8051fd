/**
 * Rotating the webhook secret in (moto's) Secrets Manager while one warm webhook handler keeps serving: the new
 * value is picked up on the first delivery it signs (one forced re-read), the previous value keeps verifying
 * during the rotation window, and after it only the new value does. No restart, no redeploy.
 */
import { expect } from "chai";
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  GetSecretValueCommand,
} from "@aws-sdk/client-secrets-manager";
import type { LambdaFunctionURLEvent } from "aws-lambda";
import { createWebhookHandler } from "../../../../src/lambda/webhook/handler";
import { secretsManagerSecret } from "../../../../src/adapters/aws/secretsManagerSecret";
import { MemoryDeliveryStore } from "../../../../src/adapters/local/memoryDeliveryStore";
import { computeSignature } from "../../../../src/core/webhooks/signature";
import { RecordingTiming } from "../../../support/recordingTiming";
import { useMoto } from "../../../support/moto";
import { HANG_GUARD_MS } from "../../../support/hangGuard";

const OLD = "rotation-old-secret-0123456789";
const NEW = "rotation-new-secret-9876543210";

function ping(id: string, secret: string): LambdaFunctionURLEvent {
  const body = JSON.stringify({ message: `ping ${id}` });
  return {
    headers: {
      "pulumi-webhook-id": id,
      "pulumi-webhook-kind": "ping",
      "pulumi-webhook-signature": computeSignature(secret, Buffer.from(body)),
    },
    requestContext: { http: { method: "POST" } },
    body,
    isBase64Encoded: false,
  } as unknown as LambdaFunctionURLEvent;
}

describe("webhook secret rotation on moto (warm handler)", function () {
  this.timeout(HANG_GUARD_MS);
  const moto = useMoto();

  it("accepts the new secret at once, both during the rotation window, then only the new one", async () => {
    const sm = new SecretsManagerClient(moto.clientConfig());
    const reads: string[] = [];
    (sm as unknown as { middlewareStack: { add: (m: unknown, o: unknown) => void } }).middlewareStack.add(
      (next: (args: unknown) => Promise<unknown>, context: { commandName: string }) => async (args: unknown) => {
        const input = (args as { input: { VersionStage?: string } }).input;
        if (context.commandName === "GetSecretValueCommand") reads.push(input.VersionStage ?? "AWSCURRENT");
        return next(args);
      },
      { step: "initialize", name: "countReads" },
    );
    try {
      const { ARN } = await sm.send(new CreateSecretCommand({ Name: "avm/webhook-secret", SecretString: OLD }));
      let offsetMs = 0;
      const now = () => new Date(Date.now() + offsetMs);
      const handler = createWebhookHandler({
        secret: secretsManagerSecret(sm, ARN, { now }),
        recorder: { record: async () => ({ action: "ignored", reason: "not used" }) as never },
        deliveries: new MemoryDeliveryStore(),
        timing: new RecordingTiming(),
        logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      });
      const status = async (id: string, secret: string) => (await handler(ping(id, secret))).statusCode;

      expect(await status("p1", OLD)).to.equal(200);
      expect(reads).to.deep.equal(["AWSCURRENT"]);

      // Rotation: the new value becomes AWSCURRENT, the old one AWSPREVIOUS.
      await sm.send(new PutSecretValueCommand({ SecretId: ARN, SecretString: NEW }));
      const previous = await sm.send(new GetSecretValueCommand({ SecretId: ARN, VersionStage: "AWSPREVIOUS" }));
      expect(previous.SecretString).to.equal(OLD);
      reads.length = 0;

      // The warm handler still holds the old value: the first delivery signed with the new one forces one re-read.
      expect(await status("p2", NEW)).to.equal(200);
      expect(reads.sort()).to.deep.equal(["AWSCURRENT", "AWSPREVIOUS"]);
      // Pulumi Cloud may still sign with the old value during the rotation window: both verify, without reads.
      reads.length = 0;
      expect(await status("p3", OLD)).to.equal(200);
      expect(await status("p4", NEW)).to.equal(200);
      expect(reads).to.deep.equal([]);
      // A forged signature is refused, and many of them cause at most one re-read per interval.
      for (let i = 0; i < 10; i++) expect(await status(`f${i}`, "forged-secret-000000000000")).to.equal(401);
      expect(reads.length).to.be.at.most(2);

      // After the rotation window (1 hour after the new version was created) only the new value verifies.
      offsetMs = 61 * 60_000;
      expect(await status("p5", OLD)).to.equal(401);
      expect(await status("p6", NEW)).to.equal(200);
    } finally {
      sm.destroy();
    }
  });
});
