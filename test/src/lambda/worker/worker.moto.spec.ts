/**
 * The deployed path on moto: AVMEntryPoint records and enqueues, an emulated SQS event source mapping
 * hands batches to the worker handler (deleting acknowledged messages, making failed ones visible again),
 * and the worker drives the workflow with Organizations reached through the assumed management role.
 */
import { expect } from "chai";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { ListParentsCommand, ListTagsForResourceCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { Logger } from "@aws-lambda-powertools/logger";
import type { SQSEvent } from "aws-lambda";
import { useMoto, type LocalOrganization } from "../../../support/moto";
import { createEntryPointHandler } from "../../../../src/lambda/entryPoint/handler";
import { createWorkerHandler } from "../../../../src/lambda/worker/handler";
import { createManagementOrganizationsClient } from "../../../../src/adapters/aws/managementClients";
import { realTiming } from "../../../../src/shared/timing";
import { createLedgerTable, DynamoLedger } from "../../../../src/adapters/aws/dynamoLedger";
import { DynamoCreateSlots } from "../../../../src/adapters/aws/dynamoCreateSlots";
import { SqsWorkQueue } from "../../../../src/adapters/aws/sqsWorkQueue";
import { OrganizationsGateway } from "../../../../src/adapters/aws/organizationsGateway";
import { createWorkflow } from "../../../../src/core/vending/workflow";
import type { AccountStackRunner } from "../../../../src/core/ports";
import { RecordingStackRunner } from "../../core/vending/workflowFixtures";
import { HANG_GUARD_MS } from "../../../support/hangGuard";
import { OPERATOR_GATE } from "../../../support/entryPointGates";

const TABLE = "avm-ledger";
const MAX_RECEIVE_COUNT = 2;

describe("AVMEntryPoint -> SQS -> worker on moto", function () {
  this.timeout(HANG_GUARD_MS);
  const moto = useMoto();
  let org: LocalOrganization;
  let dynamo: DynamoDBClient;
  let sqs: SQSClient;
  let organizations: OrganizationsClient;
  let queueUrl: string;
  let dlqUrl: string;
  let ledger: DynamoLedger;

  beforeEach(async () => {
    org = await moto.createOrganization("Workloads");
    dynamo = new DynamoDBClient(moto.clientConfig());
    sqs = new SQSClient(moto.clientConfig());
    await createLedgerTable(dynamo, TABLE);
    ledger = new DynamoLedger({ client: dynamo, tableName: TABLE });
    dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "avm-work-dlq" }))).QueueUrl!;
    const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] })))
      .Attributes!["QueueArn"]!;
    queueUrl = (
      await sqs.send(
        new CreateQueueCommand({
          QueueName: "avm-work",
          Attributes: {
            RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: MAX_RECEIVE_COUNT }),
          },
        }),
      )
    ).QueueUrl!;
    organizations = createManagementOrganizationsClient({
      env: {
        AVM_MANAGEMENT_ROLE_ARN: `arn:aws:iam::${org.managementAccountId}:role/meshstack-avm-vending`,
        AWS_ENDPOINT_URL: moto.endpoint,
        AWS_REGION: "us-east-1",
      },
      maxAttempts: 1,
      sourceCredentials: moto.clientConfig().credentials,
    });
  });
  afterEach(() => {
    dynamo.destroy();
    sqs.destroy();
    organizations.destroy();
  });

  const quiet = (service: string) => new Logger({ serviceName: service, logLevel: "SILENT" });

  function entryPoint() {
    return createEntryPointHandler({
      ledger,
      queue: new SqsWorkQueue({ client: sqs, queueUrl }),
      now: () => new Date(),
      logger: quiet("AVMEntryPoint"),
      gate: OPERATOR_GATE,
    });
  }

  function worker(stackRunner: AccountStackRunner) {
    const gateway = new OrganizationsGateway(organizations, { timing: realTiming });
    const createSlots = new DynamoCreateSlots({ client: dynamo, tableName: TABLE });
    return createWorkerHandler({
      workflowFor: (logger) =>
        createWorkflow({ ledger, organizations: gateway, stackRunner, createSlots, timing: realTiming, logger }),
      ledger,
      queue: new SqsWorkQueue({ client: sqs, queueUrl }),
      timing: realTiming,
      logger: quiet("worker"),
      maxReceiveCount: MAX_RECEIVE_COUNT,
    });
  }

  /** Emulates Lambda's SQS event source mapping until the queue is empty (bounded). */
  async function pump(handler: ReturnType<typeof worker>): Promise<number> {
    let batches = 0;
    for (; batches < 20; batches += 1) {
      const { Messages } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          MessageSystemAttributeNames: ["ApproximateReceiveCount"],
        }),
      );
      if (!Messages || Messages.length === 0) return batches;
      const event: SQSEvent = {
        Records: Messages.map((m) => ({
          messageId: m.MessageId!,
          receiptHandle: m.ReceiptHandle!,
          body: m.Body!,
          attributes: {
            ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? "1",
            SentTimestamp: "0",
            SenderId: "moto",
            ApproximateFirstReceiveTimestamp: "0",
          },
          messageAttributes: {},
          md5OfBody: m.MD5OfBody ?? "",
          eventSource: "aws:sqs",
          eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:avm-work",
          awsRegion: "us-east-1",
        })),
      };
      const { batchItemFailures } = await handler(event, {
        getRemainingTimeInMillis: () => 120_000,
        awsRequestId: `invocation-${batches}`,
      });
      const failed = new Set(batchItemFailures.map((f) => f.itemIdentifier));
      for (const m of Messages) {
        if (failed.has(m.MessageId!)) {
          await sqs.send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: queueUrl,
              ReceiptHandle: m.ReceiptHandle!,
              VisibilityTimeout: 0,
            }),
          );
        } else {
          await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
        }
      }
    }
    return batches;
  }

  async function dlqBodies(): Promise<string[]> {
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10 }));
    return (Messages ?? []).map((m) => m.Body!);
  }

  it("vends an account from an entry point invocation to SUCCEEDED", async () => {
    const accepted = await entryPoint()({
      accountName: "lambda-path",
      email: "lambda-path@example.com",
      targetOu: "/Workloads",
      tags: { CostCenter: "42" },
      productName: "ws-1",
      stage: "proj-1",
    });
    expect(accepted).to.have.property("state", "RECEIVED");
    await pump(worker(new RecordingStackRunner()));

    const record = (await ledger.get("lambda-path@example.com"))!;
    expect(record.state).to.equal("SUCCEEDED");
    const direct = new OrganizationsClient(moto.clientConfig());
    try {
      const parents = await direct.send(new ListParentsCommand({ ChildId: record.accountId! }));
      expect(parents.Parents!.map((p) => p.Id)).to.deep.equal([org.ouId]);
      const tags = await direct.send(new ListTagsForResourceCommand({ ResourceId: record.accountId! }));
      expect(Object.fromEntries(tags.Tags!.map((t) => [t.Key, t.Value]))).to.deep.equal({
        CostCenter: "42",
        ProductName: "ws-1",
        Stage: "proj-1",
      });
    } finally {
      direct.destroy();
    }
    expect(await dlqBodies()).to.deep.equal([]);
  });

  it("records the reason in the ledger before a failing message lands in the dead-letter queue", async () => {
    await entryPoint()({ accountName: "doomed", email: "doomed@example.com" });
    const broken: AccountStackRunner = {
      async deploy() {
        throw new Error("Pulumi Deployments API unreachable");
      },
    };
    await pump(worker(broken));

    const record = (await ledger.get("doomed@example.com"))!;
    expect(record.state).to.equal("FAILED");
    expect(record.failureReason).to.equal(
      `gave up after ${MAX_RECEIVE_COUNT} deliveries in BOOTSTRAPPING: Error: Pulumi Deployments API unreachable`,
    );
    expect(record.accountId).to.match(/^\d{12}$/);
    const dead = await dlqBodies();
    expect(dead.map((body) => JSON.parse(body))).to.deep.equal([
      { email: "doomed@example.com", requestId: record.requestId },
    ]);
  });
});
