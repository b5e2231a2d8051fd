import { expect } from "chai";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { Logger } from "@aws-lambda-powertools/logger";
import { createEntryPointHandler } from "../../../../src/lambda/entryPoint/handler";
import { entryPointDepsFromEnv } from "../../../../src/lambda/entryPoint/deps";
import { createLedgerTable, DynamoLedger } from "../../../../src/adapters/aws/dynamoLedger";
import { parseWorkItem } from "../../../../src/core/workItem";
import { SqsWorkQueue } from "../../../../src/adapters/aws/sqsWorkQueue";
import type { WorkItem } from "../../../../src/core/ports";
import { useMoto } from "../../../support/moto";
import { HANG_GUARD_MS } from "../../../support/hangGuard";
import { runBundledHandler } from "../../../support/bundledHandler";
import { CreateAccountCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { OPERATOR_GATE } from "../../../support/entryPointGates";

const HOOK = {
  AccountName: "meshcloud.test-aws-integration",
  AccountEmail: "awsexample+meshcloud.test-aws-integration@example.com",
  AccountId: "222233334444",
  AccountArn: "arn:aws:organizations::111122223333:account/o-exampleorg1/222233334444",
  ProductName: "meshcloud",
  ContactEmail: "owner@example.com",
  Stage: "test-aws-integration",
  tagCostCenter: "1234",
};

const quietLogger = () => new Logger({ serviceName: "AVMEntryPoint", logLevel: "SILENT" });

describe("AVMEntryPoint on moto (DynamoDB ledger + SQS queue)", function () {
  this.timeout(HANG_GUARD_MS);
  const moto = useMoto();
  let dynamo: DynamoDBClient;
  let sqs: SQSClient;
  let queueUrl: string;
  before(() => {
    dynamo = new DynamoDBClient(moto.clientConfig());
    sqs = new SQSClient(moto.clientConfig());
  });
  after(() => {
    dynamo.destroy();
    sqs.destroy();
  });
  beforeEach(async () => {
    await createLedgerTable(dynamo, "avm-ledger");
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "avm-work" }))).QueueUrl!;
  });

  async function drainMessages(): Promise<WorkItem[]> {
    const items: WorkItem[] = [];
    for (;;) {
      const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
      if (!Messages || Messages.length === 0) return items;
      for (const message of Messages) {
        items.push(parseWorkItem(message.Body!));
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }));
      }
    }
  }

  function entryPoint() {
    return createEntryPointHandler({
      ledger: new DynamoLedger({ client: dynamo, tableName: "avm-ledger" }),
      queue: new SqsWorkQueue({ client: sqs, queueUrl }),
      now: () => new Date(),
      logger: quietLogger(),
      gate: OPERATOR_GATE,
    });
  }

  it("records a meshStack hook for an existing account and enqueues its work", async () => {
    const result = await entryPoint()(HOOK);
    expect(result).to.have.property("state", "RECEIVED");
    const requestId = (result as { requestId: string }).requestId;
    const ledger = new DynamoLedger({ client: dynamo, tableName: "avm-ledger" });
    const record = await ledger.getByAccountId("222233334444");
    expect(record).to.deep.include({
      email: "awsexample+meshcloud.test-aws-integration@example.com",
      requestId,
      kind: "meshstack-hook",
      state: "RECEIVED",
      accountId: "222233334444",
      version: 1,
    });
    expect(record?.request).to.deep.include({ productName: "meshcloud", stage: "test-aws-integration" });
    expect(await drainMessages()).to.deep.equal([
      { email: "awsexample+meshcloud.test-aws-integration@example.com", requestId },
    ]);
  });

  it("gives exactly 20 records and 20 messages for 20 distinct plus 20 duplicate concurrent invocations", async () => {
    const handler = entryPoint();
    const payloads = Array.from({ length: 20 }, (_, i) => {
      const accountId = String(300000000000 + i);
      return {
        ...HOOK,
        AccountName: `project-${i}`,
        AccountEmail: `aws+project-${i}@example.com`,
        AccountId: accountId,
        AccountArn: `arn:aws:organizations::111122223333:account/o-exampleorg1/${accountId}`,
        Stage: `project-${i}`,
      };
    });
    const results = await Promise.all([...payloads, ...payloads].map((payload) => handler(payload)));
    expect(results.every((result) => "requestId" in result && result.state === "RECEIVED")).to.equal(true);
    const ids = results.map((result) => (result as { requestId: string }).requestId);
    // Each duplicate answers with the request id of the record its twin created.
    expect(ids.slice(0, 20)).to.deep.equal(ids.slice(20));
    expect(new Set(ids).size).to.equal(20);

    const ledger = new DynamoLedger({ client: dynamo, tableName: "avm-ledger" });
    const records = await ledger.list();
    expect(records).to.have.length(20);
    expect(records.every((record) => record.version === 1)).to.equal(true);
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["ApproximateNumberOfMessages"] }),
    );
    expect(Attributes?.["ApproximateNumberOfMessages"]).to.equal("20");
    const messages = await drainMessages();
    expect(messages.map((item) => item.requestId).sort()).to.deep.equal([...new Set(ids)].sort());
  });

  it("wires DynamoDB, SQS and the hook's identity check from the environment (as the platform stack sets it)", async () => {
    const keys = ["AWS_ENDPOINT_URL", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_MAX_ATTEMPTS"];
    const saved = Object.fromEntries(keys.map((key) => [key, process.env[key]]));
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_MAX_ATTEMPTS: "1",
    });
    try {
      // meshStack created the account: the entry point looks it up through the vending role (DescribeAccount).
      const org = await moto.createOrganization();
      const organizations = new OrganizationsClient(moto.clientConfig());
      const created = await organizations.send(
        new CreateAccountCommand({ Email: HOOK.AccountEmail, AccountName: HOOK.AccountName }),
      );
      organizations.destroy();
      const accountId = created.CreateAccountStatus!.AccountId!;
      const hook = {
        ...HOOK,
        AccountId: accountId,
        AccountArn: `arn:aws:organizations::${org.managementAccountId}:account/${org.organizationId}/${accountId}`,
      };
      const deps = entryPointDepsFromEnv(
        {
          AVM_LEDGER_TABLE: "avm-ledger",
          AVM_QUEUE_URL: queueUrl,
          AVM_MANAGEMENT_ROLE_ARN: `arn:aws:iam::${org.managementAccountId}:role/AVMVendingRole`,
          AVM_MANAGEMENT_ACCOUNT_ID: org.managementAccountId,
          AWS_ENDPOINT_URL: moto.endpoint,
          AWS_REGION: "us-east-1",
        },
        quietLogger(),
      );
      const handler = createEntryPointHandler(deps);
      expect(await handler(JSON.stringify(hook))).to.have.property("state", "RECEIVED");
      expect(await drainMessages()).to.have.length(1);
      // Another account's id with this email: refused before anything is written.
      expect(
        await handler({
          ...hook,
          AccountId: org.managementAccountId,
          AccountArn: hook.AccountArn.replace(accountId, org.managementAccountId),
        }),
      ).to.have.nested.property("error.issues[0].field", "AccountId");
      expect(await drainMessages()).to.have.length(0);
    } finally {
      for (const key of keys) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  });

  it("runs as deployed: the esbuild bundle (SDK bundled) in a fresh node accepts the hook and enqueues it", async () => {
    const org = await moto.createOrganization();
    const organizations = new OrganizationsClient(moto.clientConfig());
    const created = await organizations.send(
      new CreateAccountCommand({ Email: HOOK.AccountEmail, AccountName: HOOK.AccountName }),
    );
    organizations.destroy();
    const accountId = created.CreateAccountStatus!.AccountId!;
    const hook = {
      ...HOOK,
      AccountId: accountId,
      AccountArn: `arn:aws:organizations::${org.managementAccountId}:account/${org.organizationId}/${accountId}`,
    };
    const result = await runBundledHandler("entryPoint", hook, {
      AWS_ENDPOINT_URL: moto.endpoint,
      AVM_LEDGER_TABLE: "avm-ledger",
      AVM_QUEUE_URL: queueUrl,
      AVM_MANAGEMENT_ROLE_ARN: `arn:aws:iam::${org.managementAccountId}:role/AVMVendingRole`,
      AVM_MANAGEMENT_ACCOUNT_ID: org.managementAccountId,
    });
    expect(result).to.have.property("state", "RECEIVED");
    const messages = await drainMessages();
    expect(messages).to.deep.equal([
      {
        email: "awsexample+meshcloud.test-aws-integration@example.com",
        requestId: (result as { requestId: string }).requestId,
      },
    ]);
  });
});
