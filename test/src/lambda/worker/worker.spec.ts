import { expect } from "chai";
import { mockClient } from "aws-sdk-client-mock";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { Logger } from "@aws-lambda-powertools/logger";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { MemoryLedger } from "../../../support/memoryLedger";
import { InProcessCreateSlots } from "../../../../src/adapters/local/inProcessCreateSlots";
import { OrganizationsGateway } from "../../../../src/adapters/aws/organizationsGateway";
import { createWorkflow } from "../../../../src/core/vending/workflow";
import type { WorkItem } from "../../../../src/core/ports";
import {
  createWorkerHandler,
  DEFAULT_MAX_RECEIVE_COUNT,
  maxReceiveCountFrom,
  type WorkerDeps,
} from "../../../../src/lambda/worker/handler";
import { createManagementOrganizationsClient } from "../../../../src/adapters/aws/managementClients";
import { FakeOrganizations, InstantTiming, RecordingStackRunner } from "../../core/vending/workflowFixtures";

function sqsRecord(messageId: string, body: string, receiveCount = 1): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: "0",
      SenderId: "x",
      ApproximateFirstReceiveTimestamp: "0",
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:111122223333:avm-work",
    awsRegion: "us-east-1",
  };
}

const body = (email: string, requestId: string) => JSON.stringify({ email, requestId });

/** Captures what the Powertools logger writes to stdout and stderr (one JSON object per line). */
function captureLogs(): { lines: () => Record<string, unknown>[]; restore: () => void } {
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((stream) => stream.write);
  const chunks: string[] = [];
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array) => {
      chunks.push(String(chunk));
      return true;
    }) as typeof stream.write;
  }
  return {
    lines: () =>
      chunks
        .join("")
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    restore: () => streams.forEach((stream, i) => (stream.write = originals[i]!)),
  };
}

/** A connection that was refused (nothing sent): an error that is not an AWS answer. */
const refused = () => Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:443"), { code: "ECONNREFUSED" });

describe("worker handler", () => {
  const client = new OrganizationsClient({ region: "us-east-1" });
  const mock = mockClient(client);
  let org: FakeOrganizations;
  let timing: InstantTiming;
  let ledger: MemoryLedger;
  let requeued: { item: WorkItem; delaySeconds: number | undefined }[];
  let deps: WorkerDeps;
  let stackRunner: RecordingStackRunner;

  beforeEach(() => {
    mock.reset();
    org = new FakeOrganizations();
    org.install(mock);
    timing = new InstantTiming();
    ledger = new MemoryLedger();
    requeued = [];
    const organizations = new OrganizationsGateway(client, {
      timing,
      retry: { baseDelayMs: 100, maxDelayMs: 1_000, maxAttempts: 2 },
    });
    const createSlots = new InProcessCreateSlots({ now: () => timing.now() });
    stackRunner = new RecordingStackRunner();
    deps = {
      workflowFor: (logger) => createWorkflow({ ledger, organizations, stackRunner, createSlots, timing, logger }),
      ledger,
      queue: { enqueue: async (item, delaySeconds) => void requeued.push({ item, delaySeconds }) },
      timing,
      logger: new Logger({ serviceName: "avm-worker-test", logLevel: "SILENT" }),
      maxReceiveCount: 5,
    };
  });
  after(() => mock.restore());

  async function vend(email: string, requestId: string): Promise<void> {
    await ledger.claim(
      { email, requestId, kind: "vend", request: { kind: "vend", accountName: email, email, tags: {} } },
      timing.now(),
    );
  }

  it("reports only the failing messages of a batch", async () => {
    await vend("one@example.com", "req-1");
    await vend("two@example.com", "req-2");
    const handler = createWorkerHandler({ ...deps, logger: new Logger({ serviceName: "avm-worker-test" }) });
    const capture = captureLogs();
    let response;
    try {
      response = await handler({
        Records: [
          sqsRecord("m1", body("one@example.com", "req-1")),
          sqsRecord("m2", "not json"),
          sqsRecord("m3", body("two@example.com", "req-2")),
          sqsRecord("m4", JSON.stringify({ email: "x@example.com" })),
        ],
      });
    } finally {
      capture.restore();
    }
    expect(response).to.deep.equal({ batchItemFailures: [{ itemIdentifier: "m2" }, { itemIdentifier: "m4" }] });
    expect((await ledger.get("one@example.com"))!.state).to.equal("SUCCEEDED");
    expect((await ledger.get("two@example.com"))!.state).to.equal("SUCCEEDED");

    const lines = capture.lines();
    const unreadable = lines.filter((line) => line["message"] === "unreadable work message");
    expect(unreadable.map((line) => [line["messageId"], line["reason"]])).to.deep.equal([
      ["m2", "WorkItemFormatError: work item body is not valid JSON"],
      ["m4", "WorkItemFormatError: work item field requestId must be a non-empty string"],
    ]);
    const perRequest = lines.filter((line) => line["message"] !== "unreadable work message");
    expect(perRequest.length).to.be.greaterThan(10);
    for (const line of perRequest) {
      expect(line["requestId"], JSON.stringify(line)).to.be.oneOf(["req-1", "req-2"]);
      expect(line["service"]).to.equal("avm-worker-test");
    }
    expect(
      perRequest.filter((line) => line["message"] === "work done").map((line) => line["requestId"]),
    ).to.have.members(["req-1", "req-2"]);
  });

  it("lets the queue redeliver a failing message before its last delivery", async () => {
    await vend("net@example.com", "req-1");
    org.createErrors.push(refused());
    const handler = createWorkerHandler(deps);
    const response = await handler({ Records: [sqsRecord("m1", body("net@example.com", "req-1"), 4)] });
    expect(response).to.deep.equal({ batchItemFailures: [{ itemIdentifier: "m1" }] });
    expect((await ledger.get("net@example.com"))!.state).to.equal("CREATING");

    const again = await handler({ Records: [sqsRecord("m1", body("net@example.com", "req-1"), 5)] });
    expect(again).to.deep.equal({ batchItemFailures: [] });
    expect((await ledger.get("net@example.com"))!.state).to.equal("SUCCEEDED");
  });

  it("re-enqueues (never fails) a request whose Organizations retries would run past the invocation's time", async () => {
    await vend("slow@example.com", "req-1");
    org.throttleNext = 1;
    const handler = createWorkerHandler({ ...deps, safetyMarginMs: 1_000 });
    const start = timing.now().getTime();
    // 1.05 s left, 1 s safety margin: the first backoff (50 to 100 ms) would pass the 50 ms that remain.
    const response = await handler(
      { Records: [sqsRecord("m1", body("slow@example.com", "req-1"))] },
      { getRemainingTimeInMillis: () => 1_050, awsRequestId: "inv-1" },
    );
    expect(response).to.deep.equal({ batchItemFailures: [] });
    expect(requeued.map((r) => r.item.email)).to.deep.equal(["slow@example.com"]);
    expect(timing.now().getTime() - start).to.be.at.most(50);
    const record = (await ledger.get("slow@example.com"))!;
    expect([record.state, record.failureReason]).to.deep.equal(["CREATING", undefined]);
  });

  it("records the reason but does not fail a record whose CreateAccount may have created an account", async () => {
    await vend("dead@example.com", "req-1");
    org.createErrors.push(refused());
    const handler = createWorkerHandler(deps);
    const response = await handler({ Records: [sqsRecord("m1", body("dead@example.com", "req-1"), 5)] });
    expect(response).to.deep.equal({ batchItemFailures: [{ itemIdentifier: "m1" }] });
    const record = (await ledger.get("dead@example.com"))!;
    expect([record.state, record.failureReason]).to.deep.equal(["CREATING", undefined]);
    expect(record.history.at(-1)!.note).to.equal(
      "gave up after 5 deliveries in CREATING: Error: connect ECONNREFUSED 127.0.0.1:443; " +
        "left CREATING for avm reconcile to re-drive (a CreateAccount call was issued)",
    );
  });

  it("marks the record FAILED with the reason on the last delivery once its account id is recorded", async () => {
    await vend("dead@example.com", "req-1");
    stackRunner.failWith = new Error("Pulumi Deployments API unreachable");
    const response = await createWorkerHandler(deps)({
      Records: [sqsRecord("m1", body("dead@example.com", "req-1"), 5)],
    });
    expect(response).to.deep.equal({ batchItemFailures: [{ itemIdentifier: "m1" }] });
    const record = (await ledger.get("dead@example.com"))!;
    expect([record.state, record.accountId]).to.deep.equal([
      "FAILED",
      org.accountsWithEmail("dead@example.com")[0]!.id,
    ]);
    expect(record.failureReason).to.equal(
      "gave up after 5 deliveries in BOOTSTRAPPING: Error: Pulumi Deployments API unreachable",
    );
    expect(record.history.at(-1)!.note).to.equal("moved to the dead-letter queue after 5 deliveries");
  });

  it("re-enqueues deferred work with a delay and acknowledges the message", async () => {
    await vend("slow@example.com", "req-1");
    org.inProgressPolls = 5;
    const handler = createWorkerHandler({ ...deps, safetyMarginMs: 15_000 });
    const context = { getRemainingTimeInMillis: () => 18_000, awsRequestId: "inv-1" };
    const response = await handler({ Records: [sqsRecord("m1", body("slow@example.com", "req-1"))] }, context);
    expect(response).to.deep.equal({ batchItemFailures: [] });
    expect(requeued).to.deep.equal([{ item: { email: "slow@example.com", requestId: "req-1" }, delaySeconds: 10 }]);
    expect(timing.sleeps).to.deep.equal([1_000, 2_000]);
    expect((await ledger.get("slow@example.com"))!.createAccountRequestId).to.equal("car-0001");
  });

  it("acknowledges messages for records that are done or unknown", async () => {
    const handler = createWorkerHandler(deps);
    const response = await handler({ Records: [sqsRecord("m1", body("ghost@example.com", "req-9"))] } as SQSEvent);
    expect(response).to.deep.equal({ batchItemFailures: [] });
  });

  it("builds its dependencies lazily, once", async () => {
    let built = 0;
    const handler = createWorkerHandler(() => {
      built += 1;
      return deps;
    });
    expect(built).to.equal(0);
    await handler({ Records: [] });
    await handler({ Records: [] });
    expect(built).to.equal(1);
  });
});

describe("maxReceiveCountFrom", () => {
  it("defaults to 5 and rejects a malformed value naming the variable", () => {
    expect(maxReceiveCountFrom({})).to.equal(DEFAULT_MAX_RECEIVE_COUNT);
    expect(maxReceiveCountFrom({ AVM_QUEUE_MAX_RECEIVE_COUNT: "3" })).to.equal(3);
    expect(() => maxReceiveCountFrom({ AVM_QUEUE_MAX_RECEIVE_COUNT: "0" })).to.throw(
      'environment variable AVM_QUEUE_MAX_RECEIVE_COUNT must be a positive integer, got "0"',
    );
  });
});

describe("createManagementOrganizationsClient", () => {
  it("requires AVM_MANAGEMENT_ROLE_ARN", () => {
    expect(() => createManagementOrganizationsClient({ env: {} })).to.throw(
      "environment variable AVM_MANAGEMENT_ROLE_ARN is required but not set",
    );
  });
});
