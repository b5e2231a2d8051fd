import { expect } from "chai";
import { Logger } from "@aws-lambda-powertools/logger";
import type { Context } from "aws-lambda";
import { createEntryPointHandler, type EntryPointDeps } from "../../../../src/lambda/entryPoint/handler";
import { handler } from "../../../../src/lambda/entryPoint/index";
import { MemoryLedger } from "../../../support/memoryLedger";
import { RecordingQueue } from "../../../support/recordingQueue";
import { OPERATOR_GATE } from "../../../support/entryPointGates";
import { rejection } from "../../../support/rejection";

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

const CONTEXT = {
  functionName: "AVMEntryPoint",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:eu-central-1:444455556666:function:AVMEntryPoint",
  memoryLimitInMB: "256",
  awsRequestId: "lambda-req-1",
  logGroupName: "/aws/lambda/AVMEntryPoint",
  logStreamName: "stream",
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 10_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} as unknown as Context;

/** Runs `action` while capturing stdout and stderr (Powertools writes JSON lines; WARN and ERROR to stderr). */
async function captureLogs<T>(action: () => Promise<T>): Promise<{ result: T; lines: Record<string, unknown>[] }> {
  const streams = [process.stdout, process.stderr];
  const originals = streams.map((stream) => stream.write);
  let text = "";
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array) => {
      text += chunk.toString();
      return true;
    }) as typeof stream.write;
  }
  try {
    const result = await action();
    return {
      result,
      lines: text
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => JSON.parse(line)),
    };
  } finally {
    streams.forEach((stream, i) => (stream.write = originals[i]!));
  }
}

describe("AVMEntryPoint handler", () => {
  let ledger: MemoryLedger;
  let queue: RecordingQueue;
  let deps: EntryPointDeps;
  beforeEach(() => {
    ledger = new MemoryLedger();
    queue = new RecordingQueue();
    let ids = 0;
    deps = {
      ledger,
      queue,
      now: () => new Date("2026-03-01T10:00:00Z"),
      newRequestId: () => `gen-${++ids}`,
      logger: new Logger({ serviceName: "AVMEntryPoint", logLevel: "INFO" }),
      gate: OPERATOR_GATE,
    };
  });

  it("returns { requestId, state } for a meshStack hook and logs JSON lines carrying the request ids", async () => {
    const entryPoint = createEntryPointHandler(deps);
    const { result, lines } = await captureLogs(() => entryPoint(HOOK, CONTEXT));
    expect(result).to.deep.equal({ requestId: "gen-1", state: "RECEIVED" });
    expect(queue.items).to.deep.equal([
      { email: "awsexample+meshcloud.test-aws-integration@example.com", requestId: "gen-1" },
    ]);
    expect(lines).to.have.length(1);
    expect(lines[0]).to.deep.include({
      level: "INFO",
      message: "request recorded",
      service: "AVMEntryPoint",
      function_request_id: "lambda-req-1",
      requestId: "gen-1",
      kind: "meshstack-hook",
      state: "RECEIVED",
      accountId: "222233334444",
      created: true,
      enqueued: true,
    });
    expect(JSON.stringify(lines)).to.not.include("example.com");
  });

  it("returns the same result for a repeated invocation and changes nothing", async () => {
    const entryPoint = createEntryPointHandler(deps);
    await captureLogs(() => entryPoint(HOOK, CONTEXT));
    const before = await ledger.list();
    const { result } = await captureLogs(() => entryPoint(JSON.stringify(HOOK), CONTEXT));
    expect(result).to.deep.equal({ requestId: "gen-1", state: "RECEIVED" });
    expect(await ledger.list()).to.deep.equal(before);
    expect(queue.items).to.have.length(1);
  });

  it("answers a bad payload with an error result naming the fields, logging no values", async () => {
    const entryPoint = createEntryPointHandler(deps);
    const bad = { ...HOOK, AccountId: "secret-ish-value", tagCostCenter: 12 };
    const { result, lines } = await captureLogs(() => entryPoint(bad, CONTEXT));
    expect(result).to.deep.equal({
      error: {
        message:
          "invalid meshStack hook payload: AccountId: must be a 12-digit AWS account id; tagCostCenter: must be a string (tag value)",
        issues: [
          { field: "AccountId", message: "must be a 12-digit AWS account id" },
          { field: "tagCostCenter", message: "must be a string (tag value)" },
        ],
      },
    });
    expect(lines).to.have.length(1);
    expect(lines[0]).to.deep.include({
      level: "WARN",
      message: "invalid request",
      function_request_id: "lambda-req-1",
      kind: "meshstack-hook",
    });
    expect(JSON.stringify(lines)).to.not.include("secret-ish-value");
    expect(JSON.stringify(lines)).to.not.include("example.com");
    expect(await ledger.list()).to.deep.equal([]);
  });

  it("answers non-JSON and non-object events with an error result", async () => {
    const entryPoint = createEntryPointHandler(deps);
    for (const [event, message] of [
      ["{oops", "invalid request: payload: is not valid JSON (at position 1)"],
      [null, "invalid request: payload: must be a JSON object, got null"],
      [[HOOK], "invalid request: payload: must be a JSON object, got an array"],
    ] as const) {
      const { result } = await captureLogs(() => entryPoint(event, CONTEXT));
      expect(result).to.have.nested.property("error.message", message);
    }
  });

  it("fails the invocation (throws) when the request cannot be enqueued, after logging it", async () => {
    queue.failWith = new Error("AccessDenied: sqs:SendMessage");
    const entryPoint = createEntryPointHandler(deps);
    let error: unknown;
    const { lines } = await captureLogs(async () => {
      try {
        await entryPoint(HOOK, CONTEXT);
      } catch (e) {
        error = e;
      }
    });
    expect((error as Error).name).to.equal("IntakeEnqueueError");
    expect(lines.map((line) => [line["level"], line["message"]])).to.deep.equal([
      ["ERROR", "enqueue failed"],
      ["ERROR", "request could not be recorded or enqueued"],
    ]);
    expect(lines[0]).to.deep.include({ requestId: "gen-1", reason: "AccessDenied: sqs:SendMessage" });
    expect(lines[1]).to.deep.include({
      function_request_id: "lambda-req-1",
      requestId: "gen-1",
      error: "IntakeEnqueueError: request gen-1 was recorded but could not be enqueued: AccessDenied: sqs:SendMessage",
    });
  });

  it("builds its dependencies lazily, once, from a factory", async () => {
    let built = 0;
    const entryPoint = createEntryPointHandler(() => {
      built += 1;
      return deps;
    });
    expect(built).to.equal(0);
    await captureLogs(() => entryPoint(HOOK));
    await captureLogs(() => entryPoint(HOOK));
    expect(built).to.equal(1);
  });

  it("exports a handler that needs its environment only when invoked", async () => {
    const saved = { table: process.env["AVM_LEDGER_TABLE"], queue: process.env["AVM_QUEUE_URL"] };
    delete process.env["AVM_LEDGER_TABLE"];
    delete process.env["AVM_QUEUE_URL"];
    try {
      const error = await rejection(handler(HOOK, CONTEXT));
      expect(error.message).to.equal("environment variable AVM_LEDGER_TABLE is required but not set");
    } finally {
      if (saved.table !== undefined) process.env["AVM_LEDGER_TABLE"] = saved.table;
      if (saved.queue !== undefined) process.env["AVM_QUEUE_URL"] = saved.queue;
    }
  });
});
