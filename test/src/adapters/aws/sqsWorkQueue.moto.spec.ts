import { expect } from "chai";
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { parseWorkItem, WorkQueueError } from "../../../../src/core/workItem";
import { SqsWorkQueue } from "../../../../src/adapters/aws/sqsWorkQueue";
import { useMoto } from "../../../support/moto";
import { HANG_GUARD_MS } from "../../../support/hangGuard";
import { rejection } from "../../../support/rejection";

describe("SqsWorkQueue on moto", function () {
  this.timeout(HANG_GUARD_MS);
  const moto = useMoto();
  let client: SQSClient;
  before(() => {
    client = new SQSClient(moto.clientConfig());
  });
  after(() => client.destroy());

  it("sends the JSON work item with the request id as a message attribute", async () => {
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: "work" }));
    const queue = new SqsWorkQueue({ client, queueUrl: QueueUrl! });
    await queue.enqueue({ email: "a@example.com", requestId: "req-1" });
    const received = await client.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ["All"] }),
    );
    expect(received.Messages).to.have.length(1);
    const message = received.Messages![0]!;
    expect(parseWorkItem(message.Body!)).to.deep.equal({ email: "a@example.com", requestId: "req-1" });
    expect(message.MessageAttributes?.["requestId"]).to.deep.include({ DataType: "String", StringValue: "req-1" });
  });

  it("wraps a failed send in WorkQueueError naming the request", async () => {
    const queue = new SqsWorkQueue({ client, queueUrl: `${moto.endpoint}/123456789012/missing` });
    const error = await rejection(queue.enqueue({ email: "a@example.com", requestId: "req-1" }));
    expect(error).to.be.instanceOf(WorkQueueError);
    expect(error.message).to.match(/^cannot enqueue request req-1: /);
  });

  it("rejects a delay outside 0..900 seconds", async () => {
    const queue = new SqsWorkQueue({ client, queueUrl: "unused" });
    const error = await rejection(queue.enqueue({ email: "a@example.com", requestId: "req-1" }, 901));
    expect(error).to.be.instanceOf(WorkQueueError);
    expect(error.message).to.equal("delaySeconds must be an integer from 0 to 900, got 901");
  });
});
