/**
 * The webhook Lambda as wired in production (`createWebhookHandler` with the Secrets Manager secret, the DynamoDB
 * delivery store and ledger, the SQS work queue), against moto: a signed success, its replay and a forged delivery.
 * Every AWS call it makes is recorded and proven allowed by the webhook role's deployed policy (iam-simulate).
 */
import { expect } from "chai";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { CreateQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { LambdaFunctionURLEvent } from "aws-lambda";
import { MOTO_DEFAULT_ACCOUNT_ID } from "../../automation/localAws";
import { createWebhookHandler } from "../../src/lambda/webhook/handler";
import { secretsManagerSecret } from "../../src/adapters/aws/secretsManagerSecret";
import { webhookPolicy } from "../../src/policies/avmRoles";
import { AVM_RESOURCE_NAMES } from "../../src/policies/platformNames";
import { realTiming } from "../../src/shared/timing";
import { DynamoLedger, createLedgerTable } from "../../src/adapters/aws/dynamoLedger";
import { SqsWorkQueue } from "../../src/adapters/aws/sqsWorkQueue";
import { DynamoDeliveryStore } from "../../src/adapters/aws/dynamoDeliveryStore";
import { computeSignature } from "../../src/core/webhooks/signature";
import { LedgerStackOutcomeRecorder } from "../../src/core/webhooks/stackOutcomeRecorder";
import { identityDecision } from "../security/iamProof";
import { useMoto } from "../support/moto";
import { CallRecorder } from "./observedCalls";
import { HANG_GUARD_MS } from "../support/hangGuard";

const SECRET = "whsec-moto-0123456789abcdef";
const ACCOUNT = "222233334444";

function event(body: string, id: string, signature: string | undefined): LambdaFunctionURLEvent {
  return {
    body,
    isBase64Encoded: false,
    headers: {
      "pulumi-webhook-id": id,
      "pulumi-webhook-kind": "deployment",
      ...(signature === undefined ? {} : { "pulumi-webhook-signature": signature }),
    },
    requestContext: { http: { method: "POST" } },
  } as unknown as LambdaFunctionURLEvent;
}

describe("webhook Lambda against moto: every AWS call allowed by its role", function () {
  this.timeout(HANG_GUARD_MS);
  const moto = useMoto();

  it("applies a signed delivery once and calls only what the webhook role may", async () => {
    const config = moto.clientConfig();
    const org = await moto.createOrganization();
    const observed = new CallRecorder({
      partition: "aws",
      region: "us-east-1",
      accountId: MOTO_DEFAULT_ACCOUNT_ID,
      managementAccountId: org.managementAccountId,
      organizationId: org.organizationId,
    });
    const dynamo = new DynamoDBClient(config);
    await createLedgerTable(dynamo, AVM_RESOURCE_NAMES.ledgerTable);
    const sqs = new SQSClient(config);
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: AVM_RESOURCE_NAMES.workQueue }))).QueueUrl!;
    const secrets = new SecretsManagerClient(config);
    const secretArn = (
      await secrets.send(new CreateSecretCommand({ Name: AVM_RESOURCE_NAMES.webhookSecret, SecretString: SECRET }))
    ).ARN!;
    const ledger = new DynamoLedger({ client: dynamo, tableName: AVM_RESOURCE_NAMES.ledgerTable });
    const now = new Date();
    const { record } = await ledger.claim(
      { email: "a@example.com", requestId: "req-1", kind: "meshstack-hook", request: {}, accountId: ACCOUNT },
      now,
    );
    await ledger.update(record.email, record.version, { state: "BOOTSTRAPPING" }, now);
    observed.observe(dynamo, "dynamodb", "AVMWebhookRole");
    observed.observe(sqs, "sqs", "AVMWebhookRole");
    observed.observe(secrets, "secretsmanager", "AVMWebhookRole");

    const handler = createWebhookHandler({
      secret: secretsManagerSecret(secrets, secretArn),
      recorder: new LedgerStackOutcomeRecorder({
        ledger,
        queue: new SqsWorkQueue({ client: sqs, queueUrl }),
        timing: realTiming,
      }),
      deliveries: new DynamoDeliveryStore({ client: dynamo, tableName: AVM_RESOURCE_NAMES.ledgerTable }),
      timing: realTiming,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    const body = JSON.stringify({
      projectName: "meshstack-avm",
      stackName: `account-${ACCOUNT}`,
      status: "succeeded",
      operation: "update",
      version: 3,
    });
    const signature = computeSignature(SECRET, body);
    const answers = [
      await handler(event(body, "w-1", "0".repeat(64))),
      await handler(event(body, "w-2", signature)),
      await handler(event(body, "w-2", signature)),
    ];
    expect(
      answers.map((a) => [a.statusCode, (JSON.parse(a.body) as { action?: string }).action ?? null]),
    ).to.deep.equal([
      [401, null],
      [200, "completing"],
      [200, "duplicate"],
    ]);
    expect((await ledger.get("a@example.com"))!.state).to.equal("COMPLETING");

    const policy = webhookPolicy({
      partition: "aws",
      region: "us-east-1",
      accountId: MOTO_DEFAULT_ACCOUNT_ID,
      webhookSecret: true,
    });
    expect(observed.unmapped).to.deep.equal([]);
    const calls = observed.calls();
    expect([...new Set(calls.map((c) => c.action))].sort()).to.include.members([
      "dynamodb:PutItem",
      "secretsmanager:GetSecretValue",
      "sqs:SendMessage",
    ]);
    const denied: string[] = [];
    for (const call of calls) {
      const session = `arn:aws:sts::${MOTO_DEFAULT_ACCOUNT_ID}:assumed-role/AVMWebhookRole/AVMWebhook`;
      const decision = await identityDecision(session, [policy], call);
      if (decision !== "Allowed") denied.push(`${call.action} ${call.resource}: ${decision}`);
    }
    expect(denied).to.deep.equal([]);
    dynamo.destroy();
    sqs.destroy();
    secrets.destroy();
  });
});
