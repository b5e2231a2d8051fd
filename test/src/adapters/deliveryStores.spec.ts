import { expect } from "chai";
import { mockClient, type AwsClientStub } from "aws-sdk-client-mock";
import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { MemoryDeliveryStore } from "../../../src/adapters/local/memoryDeliveryStore";
import { DELIVERY_KEY_PREFIX, DynamoDeliveryStore } from "../../../src/adapters/aws/dynamoDeliveryStore";
import { computeSignature, verifySignature } from "../../../src/core/webhooks/signature";

const T0 = new Date("2026-01-01T00:00:00Z");
const later = (ms: number): Date => new Date(T0.getTime() + ms);

describe("webhook signatures", () => {
  it("computes the documented lowercase hex HMAC-SHA256 (RFC 4231 test case 2)", () => {
    expect(computeSignature("Jefe", "what do ya want for nothing?")).to.equal(
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
  });

  it("verifies exact bytes only, and tolerates upper-case hex", () => {
    const body = Buffer.from('{"a":1}');
    const sig = computeSignature("s3cret", body);
    expect(verifySignature("s3cret", body, sig)).to.equal(true);
    expect(verifySignature("s3cret", body, sig.toUpperCase())).to.equal(true);
    expect(verifySignature("s3cret", Buffer.from('{"a":1} '), sig)).to.equal(false);
    expect(verifySignature("other", body, sig)).to.equal(false);
    expect(verifySignature("s3cret", body, undefined)).to.equal(false);
    expect(verifySignature("s3cret", body, "")).to.equal(false);
  });
});

describe("MemoryDeliveryStore", () => {
  it("claims a processed id once within the TTL, again after it", async () => {
    const store = new MemoryDeliveryStore({ ttlMs: 1000, processingMs: 100 });
    expect(await store.claim("a", T0)).to.equal("claimed");
    await store.complete("a", T0);
    expect(await store.claim("a", later(999))).to.equal("processed");
    expect(await store.claim("a", later(1000))).to.equal("claimed");
  });

  it("claims an id only for as long as processing may take: a redelivery after a timeout is processed", async () => {
    const store = new MemoryDeliveryStore({ ttlMs: 1000, processingMs: 100 });
    expect(await store.claim("a", T0)).to.equal("claimed");
    // The handler timed out: it neither completed nor released the claim. A redelivery meanwhile is told the
    // delivery is still in progress (not a duplicate), so Pulumi Cloud sends it again.
    expect(await store.claim("a", later(99))).to.equal("in-progress");
    expect(await store.claim("a", later(100))).to.equal("claimed");
  });

  it("evicts the oldest ids beyond maxEntries", async () => {
    const store = new MemoryDeliveryStore({ maxEntries: 2 });
    await store.claim("a", T0);
    await store.claim("b", T0);
    await store.claim("c", T0);
    expect(store.size).to.equal(2);
    expect(await store.claim("a", T0)).to.equal("claimed");
    expect(await store.claim("c", T0)).to.equal("in-progress");
  });

  it("releases a claim", async () => {
    const store = new MemoryDeliveryStore();
    await store.claim("a", T0);
    await store.release("a");
    expect(await store.claim("a", T0)).to.equal("claimed");
  });
});

describe("DynamoDeliveryStore", () => {
  // Created per suite (not at collection time) so suites in one process do not restore each other's stubs.
  let ddb: AwsClientStub<DynamoDBClient>;
  before(() => {
    ddb = mockClient(DynamoDBClient);
  });
  afterEach(() => ddb.reset());
  after(() => ddb.restore());

  const store = () =>
    new DynamoDeliveryStore({
      client: new DynamoDBClient({ region: "eu-central-1" }),
      tableName: "avm-ledger",
      ttlSeconds: 60,
      processingSeconds: 30,
    });

  it("claims with a conditional put under the ledger's reserved prefix", async () => {
    ddb.on(PutItemCommand).resolves({});
    expect(await store().claim("d-1", T0)).to.equal("claimed");
    expect(ddb.commandCalls(PutItemCommand)[0]?.args[0].input).to.deep.equal({
      TableName: "avm-ledger",
      Item: {
        email: { S: "#webhook-delivery#d-1" },
        kind: { S: "webhook-delivery" },
        claimedAt: { S: "2026-01-01T00:00:00.000Z" },
        // Only for as long as processing may take.
        expiresAt: { N: String(T0.getTime() / 1000 + 30) },
      },
      ConditionExpression: "attribute_not_exists(#k) OR expiresAt < :now",
      ExpressionAttributeNames: { "#k": "email" },
      ExpressionAttributeValues: { ":now": { N: String(T0.getTime() / 1000) } },
      ReturnValuesOnConditionCheckFailure: "ALL_OLD",
    });
    expect(DELIVERY_KEY_PREFIX).to.equal("#webhook-delivery#");
  });

  it("reports a failed condition as in progress, or as processed when the earlier claim was completed", async () => {
    const refused = (item?: Record<string, { S: string }>) =>
      new ConditionalCheckFailedException({
        message: "The conditional request failed",
        $metadata: {},
        ...(item ? { Item: item } : {}),
      });
    const claimItem = { email: { S: "#webhook-delivery#d-1" }, claimedAt: { S: "2026-01-01T00:00:00.000Z" } };
    ddb
      .on(PutItemCommand)
      .rejectsOnce(refused(claimItem))
      .rejectsOnce(refused({ ...claimItem, completedAt: { S: "2026-01-01T00:00:01.000Z" } }))
      .rejectsOnce(refused());
    expect(await store().claim("d-1", T0)).to.equal("in-progress");
    expect(await store().claim("d-1", T0)).to.equal("processed");
    expect(await store().claim("d-1", T0)).to.equal("in-progress");
  });

  it("propagates other DynamoDB errors", async () => {
    ddb.on(PutItemCommand).rejects(new Error("ProvisionedThroughputExceeded"));
    let error: unknown;
    try {
      await store().claim("d-1", T0);
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).to.equal("ProvisionedThroughputExceeded");
  });

  it("keeps a completed delivery for the retention", async () => {
    ddb.on(PutItemCommand).resolves({});
    await store().complete("d-1", T0);
    expect(ddb.commandCalls(PutItemCommand)[0]?.args[0].input).to.deep.equal({
      TableName: "avm-ledger",
      Item: {
        email: { S: "#webhook-delivery#d-1" },
        kind: { S: "webhook-delivery" },
        claimedAt: { S: "2026-01-01T00:00:00.000Z" },
        completedAt: { S: "2026-01-01T00:00:00.000Z" },
        expiresAt: { N: String(T0.getTime() / 1000 + 60) },
      },
    });
  });

  it("releases by overwriting the claim with an expired one", async () => {
    ddb.on(PutItemCommand).resolves({});
    await store().release("d-1");
    expect(ddb.commandCalls(PutItemCommand)[0]?.args[0].input).to.deep.equal({
      TableName: "avm-ledger",
      Item: { email: { S: "#webhook-delivery#d-1" }, kind: { S: "webhook-delivery" }, expiresAt: { N: "0" } },
    });
  });
});
