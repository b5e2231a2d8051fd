import { expect } from "chai";
import {
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
} from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { LedgerConflictError } from "../../../../src/core/ledger";
import { createLedgerTable, DynamoLedger, DynamoLedgerError } from "../../../../src/adapters/aws/dynamoLedger";
import { useMoto } from "../../../support/moto";
import { ledgerContract } from "../../../support/contracts/ledgerContract";
import { HANG_GUARD_MS } from "../../../support/hangGuard";
import { startFaultProxy } from "../../../support/faultProxy";
import { rejection } from "../../../support/rejection";

describe("DynamoLedger on moto", function () {
  this.timeout(HANG_GUARD_MS);
  const moto = useMoto();
  let client: DynamoDBClient;
  let tables = 0;
  before(() => {
    client = new DynamoDBClient(moto.clientConfig());
  });
  after(() => client.destroy());

  ledgerContract("DynamoLedger", async () => {
    tables += 1;
    const tableName = `ledger-${tables}`;
    await createLedgerTable(client, tableName);
    return new DynamoLedger({ client, tableName });
  });

  it("creates the table with exactly the layout of ledgerTable.ts", async () => {
    await createLedgerTable(client, "layout");
    const { Table } = await client.send(new DescribeTableCommand({ TableName: "layout" }));
    expect(Table?.KeySchema).to.deep.equal([{ AttributeName: "email", KeyType: "HASH" }]);
    expect(Table?.AttributeDefinitions?.map((a) => [a.AttributeName, a.AttributeType]).sort()).to.deep.equal([
      ["accountId", "S"],
      ["createdAt", "S"],
      ["email", "S"],
      ["requestId", "S"],
      ["state", "S"],
    ]);
    expect(
      Table?.GlobalSecondaryIndexes?.map((index) => ({
        name: index.IndexName,
        keys: index.KeySchema,
        projection: index.Projection?.ProjectionType,
      })).sort((a, b) => String(a.name).localeCompare(String(b.name))),
    ).to.deep.equal([
      { name: "byAccountId", keys: [{ AttributeName: "accountId", KeyType: "HASH" }], projection: "ALL" },
      { name: "byRequestId", keys: [{ AttributeName: "requestId", KeyType: "HASH" }], projection: "ALL" },
      { name: "byState", keys: [{ AttributeName: "state", KeyType: "HASH" }], projection: "ALL" },
      {
        name: "byStateCreatedAt",
        keys: [
          { AttributeName: "state", KeyType: "HASH" },
          { AttributeName: "createdAt", KeyType: "RANGE" },
        ],
        projection: "ALL",
      },
    ]);
    expect(Table?.BillingModeSummary?.BillingMode).to.equal("PAY_PER_REQUEST");
  });

  it("stores records as plain attributes readable in the console", async () => {
    await createLedgerTable(client, "plain");
    const ledger = new DynamoLedger({ client, tableName: "plain" });
    await ledger.claim(
      { email: "A@example.com", requestId: "r1", kind: "meshstack-hook", accountId: "222233334444", request: { x: 1 } },
      new Date("2026-01-01T00:00:00Z"),
    );
    const { Item } = await client.send(
      new GetItemCommand({ TableName: "plain", Key: { email: { S: "a@example.com" } } }),
    );
    expect(unmarshall(Item!)).to.deep.equal({
      email: "a@example.com",
      requestId: "r1",
      kind: "meshstack-hook",
      state: "RECEIVED",
      request: { x: 1 },
      accountId: "222233334444",
      attempts: 0,
      history: [{ at: "2026-01-01T00:00:00.000Z", state: "RECEIVED", note: "request recorded" }],
      createdAt: "2026-01-01T00:00:00.000Z",
      updatedAt: "2026-01-01T00:00:00.000Z",
      version: 1,
    });
  });

  it("leaves reserved items (#...) out of list()", async () => {
    await createLedgerTable(client, "reserved");
    const ledger = new DynamoLedger({ client, tableName: "reserved" });
    await client.send(
      new PutItemCommand({ TableName: "reserved", Item: { email: { S: "#slot#0" }, owner: { S: "r9" } } }),
    );
    await ledger.claim({ email: "b@example.com", requestId: "r1", kind: "vend", request: {} }, new Date(0));
    const scanned = await client.send(new ScanCommand({ TableName: "reserved" }));
    expect(scanned.Count).to.equal(2);
    expect((await ledger.list()).map((r) => r.email)).to.deep.equal(["b@example.com"]);
  });

  it("maps a lost conditional write to LedgerConflictError and other failures to DynamoLedgerError", async () => {
    await createLedgerTable(client, "conflict");
    const ledger = new DynamoLedger({ client, tableName: "conflict" });
    await ledger.claim({ email: "c@example.com", requestId: "r1", kind: "vend", request: {} }, new Date(0));
    // A writer that read version 1 loses to one that wrote in between (the race the read cannot see).
    const raced = new DynamoLedger({
      client: {
        send: async (command: unknown) => {
          if (command instanceof PutItemCommand) {
            await ledger.update("c@example.com", 1, { note: "other writer" }, new Date(1));
          }
          return client.send(command as never);
        },
      } as unknown as DynamoDBClient,
      tableName: "conflict",
    });
    const error = await rejection(raced.update("c@example.com", 1, { note: "late writer" }, new Date(2)));
    expect(error).to.be.instanceOf(LedgerConflictError);
    expect(error.message).to.equal("ledger record for c@example.com changed concurrently (expected version 1)");
    expect(error.cause).to.have.property("name", "ConditionalCheckFailedException");

    const missing = new DynamoLedger({ client, tableName: "no-such-table" });
    const unreachable = await rejection(missing.get("c@example.com"));
    expect(unreachable).to.be.instanceOf(DynamoLedgerError);
    expect(unreachable.message).to.match(/^DynamoDB GetItem for c@example\.com failed: ResourceNotFoundException: /);
  });

  it("takes its own write whose reply was lost (the SDK resent it and failed the condition) as a success", async () => {
    await createLedgerTable(client, "lost");
    // Every PutItem reaches moto, but the first reply of each is lost; the SDK (3 attempts) sends it again.
    const seen = new Set<string>();
    const proxy = await startFaultProxy(moto.endpoint, (call) => {
      if (!call.operation.endsWith(".PutItem") || seen.has(call.body)) return "pass";
      seen.add(call.body);
      return "drop";
    });
    const lossy = new DynamoDBClient({ ...moto.clientConfig(), endpoint: proxy.endpoint, maxAttempts: 3 });
    try {
      const ledger = new DynamoLedger({ client: lossy, tableName: "lost" });
      const claimed = await ledger.claim(
        { email: "l@example.com", requestId: "r1", kind: "vend", request: {} },
        new Date(0),
      );
      expect([claimed.created, claimed.record.version]).to.deep.equal([true, 1]);
      const updated = await ledger.update("l@example.com", 1, { state: "CREATING", note: "mine" }, new Date(1));
      expect([updated.state, updated.version]).to.deep.equal(["CREATING", 2]);
      expect(proxy.callsOf("PutItem").map((c) => c.action)).to.deep.equal(["drop", "pass", "drop", "pass"]);
      const stored = await new DynamoLedger({ client, tableName: "lost" }).get("l@example.com");
      expect(stored).to.deep.equal(updated);
      // A real conflict stays a conflict: version 1 is gone.
      const error = await ledger.update("l@example.com", 1, { note: "stale" }, new Date(2)).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(LedgerConflictError);
    } finally {
      lossy.destroy();
      await proxy.stop();
    }
  });
});
