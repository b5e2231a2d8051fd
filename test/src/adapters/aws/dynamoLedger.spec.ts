import { expect } from "chai";
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ProvisionedThroughputExceededException,
} from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { LedgerConflictError } from "../../../../src/core/ledger";
import { classifyDynamoError, DynamoLedger, DynamoLedgerError } from "../../../../src/adapters/aws/dynamoLedger";
import { rejection } from "../../../support/rejection";

const RECORD = {
  email: "a@example.com",
  requestId: "r1",
  kind: "vend",
  state: "RECEIVED",
  request: {},
  attempts: 0,
  history: [{ at: "2026-01-01T00:00:00.000Z", state: "RECEIVED", note: "request recorded" }],
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:00.000Z",
  version: 1,
};

describe("DynamoLedger error classification", () => {
  // A scripted client rather than aws-sdk-client-mock: that library stubs the shared prototype, and other
  // spec files in this process mock DynamoDBClient too.
  type Reply = (input: Record<string, unknown>) => unknown;
  let replies: Map<Function, Reply[]>;
  let calls: { command: Function; input: Record<string, unknown> }[];
  const client = {
    send: async (command: { constructor: Function; input: Record<string, unknown> }) => {
      calls.push({ command: command.constructor, input: command.input });
      const queue = replies.get(command.constructor) ?? [];
      const reply = queue.length > 1 ? queue.shift()! : queue[0];
      if (!reply) throw new Error(`unscripted ${command.constructor.name}`);
      return reply(command.input);
    },
  } as unknown as DynamoDBClient;
  const script = (command: Function, ...sequence: Reply[]) => replies.set(command, sequence);
  const inputsOf = (command: Function) => calls.filter((call) => call.command === command).map((call) => call.input);
  beforeEach(() => {
    replies = new Map();
    calls = [];
  });

  it("maps ConditionalCheckFailedException to LedgerConflictError, by class or by name", () => {
    const sdkError = new ConditionalCheckFailedException({ message: "The conditional request failed", $metadata: {} });
    const byClass = classifyDynamoError(sdkError, "a@example.com", 3, "update");
    expect(byClass).to.be.instanceOf(LedgerConflictError);
    expect(byClass.message).to.equal("ledger record for a@example.com changed concurrently (expected version 3)");
    expect(byClass.cause).to.equal(sdkError);
    const foreign = Object.assign(new Error("x"), { name: "ConditionalCheckFailedException" });
    expect(classifyDynamoError(foreign, "a@example.com", 3, "update")).to.be.instanceOf(LedgerConflictError);
  });

  it("wraps any other error in DynamoLedgerError keeping the cause", () => {
    const throttled = new ProvisionedThroughputExceededException({ message: "slow down", $metadata: {} });
    const error = classifyDynamoError(throttled, "a@example.com", 0, "claim");
    expect(error).to.be.instanceOf(DynamoLedgerError);
    expect(error.message).to.equal(
      "DynamoDB claim for a@example.com failed: ProvisionedThroughputExceededException: slow down",
    );
    expect(error.cause).to.equal(throttled);
    expect(classifyDynamoError("weird", "k", 0, "GetItem").message).to.equal(
      "DynamoDB GetItem for k failed: Error: weird",
    );
  });

  it("turns a throttled claim into DynamoLedgerError and a lost claim into the existing record", async () => {
    const ledger = new DynamoLedger({ client, tableName: "t" });
    script(PutItemCommand, () => {
      throw new ProvisionedThroughputExceededException({ message: "slow down", $metadata: {} });
    });
    const error = await rejection(
      ledger.claim({ email: "a@example.com", requestId: "r2", kind: "vend", request: {} }, new Date(0)),
    );
    expect(error).to.be.instanceOf(DynamoLedgerError);

    script(PutItemCommand, () => {
      throw new ConditionalCheckFailedException({ message: "The conditional request failed", $metadata: {} });
    });
    script(GetItemCommand, () => ({ Item: marshall(RECORD) }));
    const lost = await ledger.claim(
      { email: "A@example.com", requestId: "r2", kind: "vend", request: {} },
      new Date(0),
    );
    expect(lost).to.deep.equal({ created: false, record: RECORD });
    expect(inputsOf(PutItemCommand)[1]).to.deep.include({
      TableName: "t",
      ConditionExpression: "attribute_not_exists(#email)",
      ExpressionAttributeNames: { "#email": "email" },
    });
  });

  it("writes an update with the version condition and maps its failure to LedgerConflictError", async () => {
    const ledger = new DynamoLedger({ client, tableName: "t" });
    script(GetItemCommand, () => ({ Item: marshall(RECORD) }));
    script(PutItemCommand, () => {
      throw new ConditionalCheckFailedException({ message: "The conditional request failed", $metadata: {} });
    });
    const error = await rejection(ledger.update("a@example.com", 1, { state: "CREATING" }, new Date(0)));
    expect(error).to.be.instanceOf(LedgerConflictError);
    expect(inputsOf(GetItemCommand)[0]).to.deep.equal({
      TableName: "t",
      Key: { email: { S: "a@example.com" } },
      ConsistentRead: true,
    });
    expect(inputsOf(PutItemCommand)[0]).to.deep.include({
      ConditionExpression: "#version = :expected",
      ExpressionAttributeNames: { "#version": "version" },
      ExpressionAttributeValues: { ":expected": { N: "1" } },
    });
  });
});
