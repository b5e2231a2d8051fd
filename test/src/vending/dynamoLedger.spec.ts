import { expect } from "chai";
import { mockClient } from "aws-sdk-client-mock";
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ProvisionedThroughputExceededException,
} from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { LedgerConflictError } from "../../../src/vending/ledger";
import { classifyDynamoError, DynamoLedger, DynamoLedgerError } from "../../../src/vending/dynamoLedger";

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

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

describe("DynamoLedger error classification", () => {
  const dynamo = mockClient(DynamoDBClient);
  afterEach(() => dynamo.reset());
  after(() => dynamo.restore());

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
    const ledger = new DynamoLedger({ client: new DynamoDBClient({}), tableName: "t" });
    dynamo
      .on(PutItemCommand)
      .rejectsOnce(new ProvisionedThroughputExceededException({ message: "slow down", $metadata: {} }));
    const error = await rejection(
      ledger.claim({ email: "a@example.com", requestId: "r2", kind: "vend", request: {} }, new Date(0)),
    );
    expect(error).to.be.instanceOf(DynamoLedgerError);

    dynamo
      .on(PutItemCommand)
      .rejects(new ConditionalCheckFailedException({ message: "The conditional request failed", $metadata: {} }));
    dynamo.on(GetItemCommand).resolves({ Item: marshall(RECORD) });
    const lost = await ledger.claim(
      { email: "A@example.com", requestId: "r2", kind: "vend", request: {} },
      new Date(0),
    );
    expect(lost).to.deep.equal({ created: false, record: RECORD });
    expect(dynamo.commandCalls(PutItemCommand)[1]!.args[0].input).to.deep.include({
      TableName: "t",
      ConditionExpression: "attribute_not_exists(#email)",
      ExpressionAttributeNames: { "#email": "email" },
    });
  });

  it("writes an update with the version condition and maps its failure to LedgerConflictError", async () => {
    const ledger = new DynamoLedger({ client: new DynamoDBClient({}), tableName: "t" });
    dynamo.on(GetItemCommand).resolves({ Item: marshall(RECORD) });
    dynamo
      .on(PutItemCommand)
      .rejects(new ConditionalCheckFailedException({ message: "The conditional request failed", $metadata: {} }));
    const error = await rejection(ledger.update("a@example.com", 1, { state: "CREATING" }, new Date(0)));
    expect(error).to.be.instanceOf(LedgerConflictError);
    expect(dynamo.commandCalls(GetItemCommand)[0]!.args[0].input).to.deep.equal({
      TableName: "t",
      Key: { email: { S: "a@example.com" } },
      ConsistentRead: true,
    });
    expect(dynamo.commandCalls(PutItemCommand)[0]!.args[0].input).to.deep.include({
      ConditionExpression: "#version = :expected",
      ExpressionAttributeNames: { "#version": "version" },
      ExpressionAttributeValues: { ":expected": { N: "1" } },
    });
  });
});
