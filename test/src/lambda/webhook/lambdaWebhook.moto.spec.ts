/**
 * The webhook Lambda's wiring end to end on moto: Secrets Manager for the HMAC secret, the DynamoDB ledger and
 * delivery store (conditional puts in one table), and the SQS work queue.
 */
import { expect } from "chai";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { LambdaFunctionURLEvent } from "aws-lambda";
import { createWebhookHandler } from "../../../../src/lambda/webhook/handler";
import { secretsManagerSecret } from "../../../../src/adapters/aws/secretsManagerSecret";
import { realTiming } from "../../../../src/shared/timing";
import { DynamoLedger, createLedgerTable } from "../../../../src/adapters/aws/dynamoLedger";
import { SqsWorkQueue } from "../../../../src/adapters/aws/sqsWorkQueue";
import { parseWorkItem } from "../../../../src/core/workItem";
import { DynamoDeliveryStore } from "../../../../src/adapters/aws/dynamoDeliveryStore";
import { computeSignature } from "../../../../src/core/webhooks/signature";
import { LedgerStackOutcomeRecorder } from "../../../../src/core/webhooks/stackOutcomeRecorder";
import { useMoto } from "../../../support/moto";
import { HANG_GUARD_MS } from "../../../support/hangGuard";
import { runBundledHandler } from "../../../support/bundledHandler";

const SECRET = "moto-webhook-secret-0123456789";
const ACCOUNT = "222233334444";
const EMAIL = "team-a@example.com";

function event(body: string, id: string, secret = SECRET): LambdaFunctionURLEvent {
  return {
    headers: {
      "pulumi-webhook-id": id,
      "pulumi-webhook-kind": "deployment",
      "pulumi-webhook-signature": computeSignature(secret, Buffer.from(body)),
    },
    requestContext: { http: { method: "POST" } },
    body: Buffer.from(body).toString("base64"),
    isBase64Encoded: true,
  } as unknown as LambdaFunctionURLEvent;
}

const succeeded = JSON.stringify({
  projectName: "meshstack-avm",
  stackName: `account-${ACCOUNT}`,
  operation: "update",
  status: "succeeded",
  version: 3,
  deploymentUrl: "https://app.pulumi.com/acme/meshstack-avm/account-222233334444/deployments/3",
});

describe("webhook Lambda on moto", function () {
  this.timeout(HANG_GUARD_MS);
  const moto = useMoto();
  let dynamo: DynamoDBClient;
  let sqs: SQSClient;
  let sm: SecretsManagerClient;
  before(() => {
    dynamo = new DynamoDBClient(moto.clientConfig());
    sqs = new SQSClient(moto.clientConfig());
    sm = new SecretsManagerClient(moto.clientConfig());
  });
  after(() => {
    dynamo.destroy();
    sqs.destroy();
    sm.destroy();
  });

  async function setup() {
    await createLedgerTable(dynamo, "avm-ledger");
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "avm-work" }));
    const { ARN } = await sm.send(new CreateSecretCommand({ Name: "avm-webhook-secret", SecretString: SECRET }));
    const ledger = new DynamoLedger({ client: dynamo, tableName: "avm-ledger" });
    const now = new Date();
    const { record } = await ledger.claim(
      { email: EMAIL, requestId: "req-1", kind: "meshstack-hook", request: {}, accountId: ACCOUNT },
      now,
    );
    await ledger.update(
      record.email,
      record.version,
      { state: "BOOTSTRAPPING", note: "account stack queued: deployment #3" },
      now,
    );
    const handler = createWebhookHandler({
      secret: secretsManagerSecret(sm, ARN),
      recorder: new LedgerStackOutcomeRecorder({
        ledger,
        queue: new SqsWorkQueue({ client: sqs, queueUrl: QueueUrl! }),
        timing: realTiming,
      }),
      deliveries: new DynamoDeliveryStore({ client: dynamo, tableName: "avm-ledger" }),
      timing: realTiming,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    const messages = async () =>
      (await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0 })))
        .Messages ?? [];
    return { ledger, handler, messages, queueUrl: QueueUrl!, secretArn: ARN! };
  }

  it("moves the record to COMPLETING and enqueues the work item once, even for concurrent duplicate deliveries", async () => {
    const { ledger, handler, messages } = await setup();
    const results = await Promise.all([handler(event(succeeded, "dup-1")), handler(event(succeeded, "dup-1"))]);
    // The one that lost the claim while the other was still processing answers 503 (Pulumi Cloud redelivers later).
    const answers = results.map((r) => [r.statusCode, (JSON.parse(r.body) as { action: string }).action]).sort();
    expect(answers).to.deep.equal([
      [200, "completing"],
      [503, "in-progress"],
    ]);
    // That later redelivery is a duplicate: the first one completed.
    const again = await handler(event(succeeded, "dup-1"));
    expect([again.statusCode, (JSON.parse(again.body) as { action: string }).action]).to.deep.equal([200, "duplicate"]);
    expect((await ledger.get(EMAIL))?.state).to.equal("COMPLETING");
    const received = await messages();
    expect(received.map((m) => parseWorkItem(m.Body!))).to.deep.equal([{ email: EMAIL, requestId: "req-1" }]);
    // The delivery items never show up as ledger records.
    expect((await ledger.list()).map((r) => r.email)).to.deep.equal([EMAIL]);
  });

  it("rejects a delivery signed with another secret and leaves the record alone", async () => {
    const { ledger, handler } = await setup();
    const result = await handler(event(succeeded, "forged-1", "not-the-secret-0123456789"));
    expect(result.statusCode).to.equal(401);
    expect((await ledger.get(EMAIL))?.state).to.equal("BOOTSTRAPPING");
  });

  it("runs as deployed: the esbuild bundle (SDK bundled) in a fresh node reads the secret and applies a delivery", async () => {
    const { ledger, messages, queueUrl, secretArn } = await setup();
    const result = await runBundledHandler("webhook", event(succeeded, "bundled-1"), {
      AWS_ENDPOINT_URL: moto.endpoint,
      AVM_LEDGER_TABLE: "avm-ledger",
      AVM_QUEUE_URL: queueUrl,
      AVM_WEBHOOK_SECRET_ARN: secretArn,
    });
    expect(result).to.have.property("statusCode", 200);
    expect((await ledger.get(EMAIL))?.state).to.equal("COMPLETING");
    expect((await messages()).map((m) => parseWorkItem(m.Body!))).to.deep.equal([{ email: EMAIL, requestId: "req-1" }]);
  });
});
