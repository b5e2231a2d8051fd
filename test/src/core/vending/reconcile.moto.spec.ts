import { expect } from "chai";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { reconcileDeadLetters } from "../../../../src/core/vending/reconcile";
import { SqsDeadLetterQueue } from "../../../../src/adapters/aws/sqsDeadLetterQueue";
import { parseWorkItem } from "../../../../src/core/workItem";
import { SqsWorkQueue } from "../../../../src/adapters/aws/sqsWorkQueue";
import { MemoryLedger } from "../../../support/memoryLedger";
import type { LedgerPatch, LedgerRecord } from "../../../../src/core/ledger";
import { RecordingTiming } from "../../../support/recordingTiming";
import { useMoto } from "../../../support/moto";
import { HANG_GUARD_MS } from "../../../support/hangGuard";

const NOW = new Date("2026-01-01T00:00:00Z");
const MAX_RECEIVE_COUNT = 2;

describe("reconcileDeadLetters on moto (SQS work queue with a redrive policy)", function () {
  this.timeout(HANG_GUARD_MS);
  const moto = useMoto();
  let client: SQSClient;
  let workUrl: string;
  let dlqUrl: string;
  let ledger: MemoryLedger;
  before(() => {
    client = new SQSClient(moto.clientConfig());
  });
  after(() => client.destroy());

  beforeEach(async () => {
    ({ QueueUrl: dlqUrl } = (await client.send(new CreateQueueCommand({ QueueName: "avm-dlq" }))) as {
      QueueUrl: string;
    });
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }),
    );
    ({ QueueUrl: workUrl } = (await client.send(
      new CreateQueueCommand({
        QueueName: "avm-work",
        Attributes: {
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: Attributes!["QueueArn"],
            maxReceiveCount: MAX_RECEIVE_COUNT,
          }),
        },
      }),
    )) as { QueueUrl: string });
    ledger = new MemoryLedger();
  });

  async function record(name: string, ...patches: LedgerPatch[]): Promise<LedgerRecord> {
    const email = `${name}@example.com`;
    await ledger.claim({ email, requestId: `req-${name}`, kind: "vend", request: { accountName: name, email } }, NOW);
    let current = (await ledger.get(email))!;
    for (const patch of patches) current = await ledger.update(email, current.version, patch, NOW);
    return current;
  }

  /** Sends a body to the work queue and lets a "crashing worker" receive it until SQS dead-letters it. */
  async function crashUntilDeadLettered(body: string): Promise<void> {
    await client.send(new SendMessageCommand({ QueueUrl: workUrl, MessageBody: body }));
    for (let delivery = 1; delivery <= MAX_RECEIVE_COUNT; delivery += 1) {
      const { Messages } = await client.send(new ReceiveMessageCommand({ QueueUrl: workUrl, VisibilityTimeout: 0 }));
      expect(Messages, `delivery ${delivery}`).to.have.length(1);
    }
    // The next receive finds the message over its maxReceiveCount: SQS moves it to the dead-letter queue.
    const { Messages } = await client.send(new ReceiveMessageCommand({ QueueUrl: workUrl }));
    expect(Messages ?? []).to.have.length(0);
  }

  async function depth(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    return {
      visible: Number(Attributes!["ApproximateNumberOfMessages"]),
      inFlight: Number(Attributes!["ApproximateNumberOfMessagesNotVisible"]),
    };
  }

  function reconcile(options: { withQueue?: boolean; dryRun?: boolean } = {}) {
    return reconcileDeadLetters({
      ledger,
      deadLetters: new SqsDeadLetterQueue({ client, queueUrl: dlqUrl, waitTimeSeconds: 0 }),
      ...(options.withQueue ? { workQueue: new SqsWorkQueue({ client, queueUrl: workUrl }) } : {}),
      timing: new RecordingTiming(new Date("2026-01-02T00:00:00Z")),
      dryRun: options.dryRun === true,
    });
  }

  it("marks a request whose message was dead-lettered FAILED and empties the dead-letter queue", async () => {
    const done = await record("a", { state: "SUCCEEDED", accountId: "111122223333" });
    const plain = await record("b");
    await crashUntilDeadLettered(JSON.stringify({ email: plain.email, requestId: plain.requestId }));
    expect(await depth(dlqUrl)).to.deep.equal({ visible: 1, inFlight: 0 });

    const result = await reconcile();
    expect(result).to.deep.include({ examined: 1, failed: 1, requeued: 0, skipped: 0, unreadable: 0 });
    // SQS keeps counting receives in the dead-letter queue: 2 worker deliveries + the reconcile receive.
    const stored = (await ledger.get(plain.email))!;
    expect(stored.state).to.equal("FAILED");
    expect(stored.failureReason).to.equal("dead-lettered in RECEIVED after 3 deliveries");
    expect(await depth(dlqUrl)).to.deep.equal({ visible: 0, inFlight: 0 });
    expect(await ledger.get(done.email)).to.deep.equal(done);
  });

  it("re-drives a CREATING request with a stored CreateAccount id onto the work queue and leaves unreadable messages visible", async () => {
    const r = await record("a", { state: "CREATING", createAccountRequestId: "car-1", note: "request car-1" });
    await new SqsWorkQueue({ client, queueUrl: workUrl }).enqueue({ email: r.email, requestId: r.requestId });
    const { Messages } = await client.send(new ReceiveMessageCommand({ QueueUrl: workUrl, VisibilityTimeout: 0 }));
    await client.send(new ReceiveMessageCommand({ QueueUrl: workUrl, VisibilityTimeout: 0 }));
    expect(await client.send(new ReceiveMessageCommand({ QueueUrl: workUrl }))).to.not.have.property("Messages");
    expect(parseWorkItem(Messages![0]!.Body!)).to.deep.equal({ email: r.email, requestId: r.requestId });
    await crashUntilDeadLettered("{not json");
    expect(await depth(dlqUrl)).to.deep.equal({ visible: 2, inFlight: 0 });

    const dry = await reconcile({ withQueue: true, dryRun: true });
    expect(dry).to.deep.include({ examined: 2, failed: 0, requeued: 1, skipped: 0, unreadable: 1, dryRun: true });
    expect(await depth(dlqUrl)).to.deep.equal({ visible: 2, inFlight: 0 });
    expect(await depth(workUrl)).to.deep.equal({ visible: 0, inFlight: 0 });
    expect(await ledger.get(r.email)).to.deep.equal(r);

    const result = await reconcile({ withQueue: true });
    expect(result).to.deep.include({ examined: 2, failed: 0, requeued: 1, skipped: 0, unreadable: 1 });
    expect(result.messages.find((m) => m.action === "requeued")!.reason).to.equal(
      "re-driven from the dead-letter queue (1 of 3): dead-lettered in CREATING after 4 deliveries; CreateAccount request car-1",
    );
    const redriven = await client.send(new ReceiveMessageCommand({ QueueUrl: workUrl }));
    expect(redriven.Messages!.map((m) => parseWorkItem(m.Body!))).to.deep.equal([
      { email: r.email, requestId: r.requestId },
    ]);
    expect((await ledger.get(r.email))!.state).to.equal("CREATING");
    // Only the unreadable message stays, visible again for the operator.
    expect(await depth(dlqUrl)).to.deep.equal({ visible: 1, inFlight: 0 });
  });
});
