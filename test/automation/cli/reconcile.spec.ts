import { expect } from "chai";
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type ReceiveMessageCommandInput,
} from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { CliHarness } from "./harness";
import type { LedgerPatch, LedgerRecord } from "../../../src/core/ledger";
import { serializeWorkItem } from "../../../src/core/workItem";

const DLQ = "https://sqs.eu-central-1.amazonaws.com/111122223333/avm-dlq";
const WORK = "https://sqs.eu-central-1.amazonaws.com/111122223333/avm-work";
const NOW = new Date("2026-01-01T00:00:00Z");

interface Message {
  readonly id: string;
  readonly body: string;
  count: number;
  visible: boolean;
}

describe("avm reconcile (in-process, mocked SQS)", function () {
  let h: CliHarness;
  const client = new SQSClient({ region: "eu-central-1" });
  const sqs = mockClient(client);
  let dlq: Message[];
  let sent: { queueUrl: string; body: string }[];
  let regions: (string | undefined)[];

  beforeEach(() => {
    dlq = [];
    sent = [];
    regions = [];
    sqs.reset();
    sqs.on(ReceiveMessageCommand).callsFake((input: ReceiveMessageCommandInput) => {
      expect(input.QueueUrl).to.equal(DLQ);
      const batch = dlq.filter((m) => m.visible).slice(0, input.MaxNumberOfMessages ?? 1);
      for (const m of batch) {
        m.visible = false;
        m.count += 1;
      }
      return batch.length === 0
        ? {}
        : {
            Messages: batch.map((m) => ({
              MessageId: m.id,
              Body: m.body,
              ReceiptHandle: `rh-${m.id}`,
              Attributes: { ApproximateReceiveCount: String(m.count) },
            })),
          };
    });
    sqs.on(DeleteMessageCommand).callsFake((input: { ReceiptHandle: string }) => {
      dlq = dlq.filter((m) => `rh-${m.id}` !== input.ReceiptHandle);
      return {};
    });
    sqs.on(ChangeMessageVisibilityCommand).callsFake((input: { ReceiptHandle: string }) => {
      for (const m of dlq) if (`rh-${m.id}` === input.ReceiptHandle) m.visible = true;
      return {};
    });
    sqs.on(SendMessageCommand).callsFake((input: { QueueUrl: string; MessageBody: string }) => {
      sent.push({ queueUrl: input.QueueUrl, body: input.MessageBody });
      return { MessageId: `sent-${sent.length}` };
    });
    h = new CliHarness({
      sqsClient: (region) => {
        regions.push(region);
        return client;
      },
    });
  });
  afterEach(() => h.dispose());
  after(() => sqs.restore());

  async function record(name: string, ...patches: LedgerPatch[]): Promise<LedgerRecord> {
    const email = `${name}@example.com`;
    await h.ledger.claim({ email, requestId: `req-${name}`, kind: "vend", request: { accountName: name, email } }, NOW);
    let current = (await h.ledger.get(email))!;
    for (const patch of patches) current = await h.ledger.update(email, current.version, patch, NOW);
    return current;
  }

  function dead(body: string, count = 5): void {
    dlq.push({ id: `m-${dlq.length + 1}`, body, count, visible: true });
  }

  async function fourMessages(): Promise<void> {
    const a = await record("a");
    const b = await record("b", { state: "CREATING", createAccountRequestId: "car-1", note: "request car-1" });
    const c = await record("c", { state: "SUCCEEDED", accountId: "111122223333" });
    for (const r of [a, b, c]) dead(serializeWorkItem({ email: r.email, requestId: r.requestId }));
    dead("garbage");
  }

  it("prints help with an example", async () => {
    const r = await h.run(["reconcile", "--help"]);
    expect(r.code).to.equal(0);
    expect(r.stderr).to.equal("");
    expect(r.stdout).to.match(/^Usage: avm reconcile \[options\]/);
    expect(r.stdout).to.match(/Example:\n {2}\$ avm reconcile --ledger-table avm-ledger --dlq-url /);
  });

  it("fails, re-drives, skips and reports in the --json shape", async () => {
    await fourMessages();
    const r = await h.run(["reconcile", "--dlq-url", DLQ, "--queue-url", WORK, "--json"]);
    expect(r.stderr).to.equal("");
    expect(r.code).to.equal(0);
    const json = JSON.parse(r.stdout);
    expect(json).to.deep.equal({
      examined: 4,
      failed: 1,
      requeued: 1,
      skipped: 1,
      unreadable: 1,
      dryRun: false,
      messages: [
        {
          messageId: "m-1",
          receiveCount: 6,
          email: "a@example.com",
          requestId: "req-a",
          state: "RECEIVED",
          action: "failed",
          reason: "dead-lettered in RECEIVED after 6 deliveries",
          deleted: true,
        },
        {
          messageId: "m-2",
          receiveCount: 6,
          email: "b@example.com",
          requestId: "req-b",
          state: "CREATING",
          action: "requeued",
          reason:
            "re-driven from the dead-letter queue (1 of 3): dead-lettered in CREATING after 6 deliveries; CreateAccount request car-1",
          deleted: true,
        },
        {
          messageId: "m-3",
          receiveCount: 6,
          email: "c@example.com",
          requestId: "req-c",
          state: "SUCCEEDED",
          action: "skipped",
          reason: "record is already SUCCEEDED",
          deleted: true,
        },
        {
          messageId: "m-4",
          receiveCount: 6,
          action: "unreadable",
          reason: "work item body is not valid JSON",
          deleted: false,
        },
      ],
    });
    expect((await h.ledger.get("a@example.com"))!).to.deep.include({
      state: "FAILED",
      failureReason: "dead-lettered in RECEIVED after 6 deliveries",
    });
    expect((await h.ledger.get("b@example.com"))!.state).to.equal("CREATING");
    expect(sent).to.deep.equal([{ queueUrl: WORK, body: '{"email":"b@example.com","requestId":"req-b"}' }]);
    expect(dlq.map((m) => [m.id, m.visible])).to.deep.equal([["m-4", true]]);
    // The region comes from the queue URL when neither --region nor AWS_REGION is set.
    expect(regions).to.deep.equal(["eu-central-1"]);
  });

  it("prints a table and a summary for humans; --dry-run changes nothing", async () => {
    await fourMessages();
    const before = await h.ledger.list();
    const r = await h.run(["reconcile", "--dlq-url", DLQ, "--queue-url", WORK, "--dry-run", "--region", "us-west-2"]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal(
      [
        "MESSAGE ID  ACTION      EMAIL          STATE      REASON",
        "m-1         failed      a@example.com  RECEIVED   dead-lettered in RECEIVED after 6 deliveries",
        "m-2         requeued    b@example.com  CREATING   re-driven from the dead-letter queue (1 of 3): dead-lettered in CREATING after 6 deliveries; CreateAccount request car-1",
        "m-3         skipped     c@example.com  SUCCEEDED  record is already SUCCEEDED",
        "m-4         unreadable  -              -          work item body is not valid JSON",
        "examined 4: 1 failed, 1 requeued, 1 skipped, 1 unreadable (dry run: nothing changed)",
        "",
      ].join("\n"),
    );
    expect(await h.ledger.list()).to.deep.equal(before);
    expect(sent).to.deep.equal([]);
    expect(dlq.map((m) => m.visible)).to.deep.equal([true, true, true, true]);
    expect(regions).to.deep.equal(["us-west-2"]);
  });

  it("says so when the queue is empty, and stops after --max messages", async () => {
    expect(await h.run(["reconcile", "--dlq-url", DLQ])).to.deep.equal({
      code: 0,
      stdout: "the dead-letter queue has no visible messages\n",
      stderr: "",
    });
    for (let i = 0; i < 3; i += 1) dead("garbage");
    const r = await h.run(["reconcile", "--dlq-url", DLQ, "--max", "2", "--json"]);
    expect(JSON.parse(r.stdout)).to.deep.include({ examined: 2, unreadable: 2 });
  });

  it("exits 2 with one line for a missing or malformed queue URL and a bad --max", async () => {
    expect(await h.run(["reconcile"])).to.deep.equal({
      code: 2,
      stdout: "",
      stderr: "avm: error: required option '--dlq-url <url>' not specified\n",
    });
    expect(await h.run(["reconcile", "--dlq-url", "avm-dlq"])).to.deep.equal({
      code: 2,
      stdout: "",
      stderr:
        'avm: error: --dlq-url must be an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<queue>), got "avm-dlq"\n',
    });
    expect((await h.run(["reconcile", "--dlq-url", DLQ, "--queue-url", DLQ])).stderr).to.equal(
      "avm: error: --queue-url must be the work queue, not the dead-letter queue\n",
    );
    expect((await h.run(["reconcile", "--dlq-url", DLQ, "--max", "0"])).stderr).to.equal(
      "avm: error: option '--max <n>' argument '0' is invalid. --max must be a positive integer.\n",
    );
    expect(regions).to.deep.equal([]);
    expect(sqs.calls()).to.have.length(0);
  });

  it("exits 1 with one line when the dead-letter queue cannot be read", async () => {
    sqs
      .on(ReceiveMessageCommand)
      .rejects(new QueueDoesNotExist({ message: "The specified queue does not exist.", $metadata: {} }));
    const r = await h.run(["reconcile", "--dlq-url", DLQ, "--json"]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal(
      "avm: error: cannot receive from the dead-letter queue: QueueDoesNotExist: The specified queue does not exist.\n",
    );
    expect(JSON.parse(r.stdout)).to.deep.equal({
      error: {
        code: "runtime",
        message: "cannot receive from the dead-letter queue: QueueDoesNotExist: The specified queue does not exist.",
        exitCode: 1,
      },
    });
  });
});
