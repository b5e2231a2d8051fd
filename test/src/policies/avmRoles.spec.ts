import { expect } from "chai";
import {
  entryPointPolicy,
  lambdaTrustPolicy,
  ledgerTableArn,
  queueArn,
  secretArnPattern,
  webhookPolicy,
  workerPolicy,
} from "../../../src/policies/avmRoles";

const location = { partition: "aws", region: "eu-central-1", accountId: "444455556666" };
const TABLE = "arn:aws:dynamodb:eu-central-1:444455556666:table/avm-ledger";
const QUEUE = "arn:aws:sqs:eu-central-1:444455556666:avm-work";
const logs = (fn: string) => ({
  Sid: "WriteOwnLogs",
  Effect: "Allow",
  Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
  Resource: `arn:aws:logs:eu-central-1:444455556666:log-group:/aws/lambda/${fn}:*`,
});
const ledger = {
  Sid: "Ledger",
  Effect: "Allow",
  Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
  Resource: [TABLE, `${TABLE}/index/*`],
};

describe("AVM role policies", () => {
  it("lets only the Lambda service assume the execution roles", () => {
    expect(lambdaTrustPolicy()).to.deep.equal({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "LambdaService",
          Effect: "Allow",
          Principal: { Service: "lambda.amazonaws.com" },
          Action: "sts:AssumeRole",
        },
      ],
    });
  });

  it("builds the resource ARNs from partition, region and account", () => {
    expect([
      ledgerTableArn({ ...location, partition: "aws-cn" }),
      queueArn(location, "avm-work-dlq"),
      secretArnPattern(location, "avm/webhook-secret"),
    ]).to.deep.equal([
      "arn:aws-cn:dynamodb:eu-central-1:444455556666:table/avm-ledger",
      "arn:aws:sqs:eu-central-1:444455556666:avm-work-dlq",
      "arn:aws:secretsmanager:eu-central-1:444455556666:secret:avm/webhook-secret-??????",
    ]);
  });

  it("lets the entry point log, record, enqueue and assume only the vending role (for hook identity checks)", () => {
    expect(
      entryPointPolicy({ ...location, vendingRoleArn: "arn:aws:iam::111122223333:role/AVMVendingRole" }),
    ).to.deep.equal({
      Version: "2012-10-17",
      Statement: [
        logs("AVMEntryPoint"),
        ledger,
        { Sid: "EnqueueWork", Effect: "Allow", Action: "sqs:SendMessage", Resource: QUEUE },
        {
          Sid: "AssumeVendingRole",
          Effect: "Allow",
          Action: "sts:AssumeRole",
          Resource: "arn:aws:iam::111122223333:role/AVMVendingRole",
        },
      ],
    });
  });

  it("lets the worker consume its queue, assume only the vending role and read the Pulumi token", () => {
    expect(
      workerPolicy({
        ...location,
        vendingRoleArn: "arn:aws:iam::111122223333:role/AVMVendingRole",
        pulumiTokenSecret: true,
      }),
    ).to.deep.equal({
      Version: "2012-10-17",
      Statement: [
        logs("AVMWorker"),
        { ...ledger, Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:DeleteItem"] },
        {
          Sid: "ConsumeWork",
          Effect: "Allow",
          Action: [
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:GetQueueAttributes",
            "sqs:SendMessage",
          ],
          Resource: QUEUE,
        },
        {
          Sid: "AssumeVendingRole",
          Effect: "Allow",
          Action: "sts:AssumeRole",
          Resource: "arn:aws:iam::111122223333:role/AVMVendingRole",
        },
        {
          Sid: "ReadPulumiToken",
          Effect: "Allow",
          Action: "secretsmanager:GetSecretValue",
          Resource: "arn:aws:secretsmanager:eu-central-1:444455556666:secret:avm/pulumi-access-token-??????",
        },
      ],
    });
  });

  it("lets the worker read the external id secret when one is configured", () => {
    const document = workerPolicy({
      ...location,
      vendingRoleArn: "arn:aws:iam::111122223333:role/AVMVendingRole",
      pulumiTokenSecret: false,
      externalIdSecret: true,
    });
    expect(document.Statement.at(-1)).to.deep.equal({
      Sid: "ReadExternalId",
      Effect: "Allow",
      Action: "secretsmanager:GetSecretValue",
      Resource: "arn:aws:secretsmanager:eu-central-1:444455556666:secret:avm/external-id-??????",
    });
  });

  it("gives the worker no secret access without a Pulumi token", () => {
    const document = workerPolicy({
      ...location,
      vendingRoleArn: "arn:aws:iam::111122223333:role/AVMVendingRole",
      pulumiTokenSecret: false,
    });
    expect(document.Statement.map((s) => s.Sid)).to.deep.equal([
      "WriteOwnLogs",
      "Ledger",
      "ConsumeWork",
      "AssumeVendingRole",
    ]);
  });

  it("lets the webhook log, move records, enqueue and read only its secret", () => {
    expect(webhookPolicy({ ...location, webhookSecret: true })).to.deep.equal({
      Version: "2012-10-17",
      Statement: [
        logs("AVMWebhook"),
        ledger,
        { Sid: "EnqueueWork", Effect: "Allow", Action: "sqs:SendMessage", Resource: QUEUE },
        {
          Sid: "ReadWebhookSecret",
          Effect: "Allow",
          Action: "secretsmanager:GetSecretValue",
          Resource: "arn:aws:secretsmanager:eu-central-1:444455556666:secret:avm/webhook-secret-??????",
        },
      ],
    });
    expect(webhookPolicy({ ...location, webhookSecret: false }).Statement.map((s) => s.Sid)).to.deep.equal([
      "WriteOwnLogs",
      "Ledger",
      "EnqueueWork",
    ]);
  });
});
