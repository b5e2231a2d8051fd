/**
 * Paging of the DynamoDB ledger in moto: a page is one Query of `byStateCreatedAt` per state asked for; a table
 * deployed before that index (or while it backfills) still answers every page, through `byState` or a Scan.
 * The ledger contract (dynamoLedger.moto.spec.ts) proves the pages' content; here the calls and the fallback.
 */
import { expect } from "chai";
import {
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  UpdateTableCommand,
} from "@aws-sdk/client-dynamodb";
import { createLedgerTable, DynamoLedger, DynamoLedgerError } from "../../../../src/adapters/aws/dynamoLedger";
import { LEDGER_INDEXES, LEDGER_TABLE } from "../../../../src/adapters/aws/ledgerTable";
import { listPage } from "../../../../src/core/ledgerPages";
import { type LedgerRecord } from "../../../../src/core/ledger";
import { HANG_GUARD_MS } from "../../../support/hangGuard";
import { useMoto } from "../../../support/moto";

const T0 = Date.parse("2026-03-01T00:00:00.000Z");

describe("DynamoLedger paging (moto)", function () {
  this.timeout(HANG_GUARD_MS);
  const moto = useMoto();
  let client: DynamoDBClient;
  let tables = 0;
  beforeEach(() => {
    client = new DynamoDBClient(moto.clientConfig());
  });
  afterEach(() => client.destroy());

  /** A table with the layout of ledgerTable.ts, or (`legacy`) the layout before `byStateCreatedAt` was added. */
  async function table(legacy = false): Promise<string> {
    tables += 1;
    const name = `paging-${tables}`;
    await createLedgerTable(
      client,
      name,
      legacy ? LEDGER_INDEXES.filter((index) => index.rangeKey === undefined) : undefined,
    );
    return name;
  }

  /** Six records: r0..r5 one second apart, r1 and r4 FAILED, r2 SUCCEEDED; plus a reserved item. */
  async function populate(tableName: string): Promise<LedgerRecord[]> {
    const ledger = new DynamoLedger({ client, tableName });
    for (let i = 0; i < 6; i += 1) {
      const email = `r${i}@example.com`;
      await ledger.claim({ email, requestId: `req-${i}`, kind: "vend", request: {} }, new Date(T0 + i * 1000));
    }
    await ledger.update("r1@example.com", 1, { state: "FAILED", failureReason: "x" }, new Date(T0 + 9000));
    await ledger.update("r4@example.com", 1, { state: "FAILED", failureReason: "x" }, new Date(T0 + 9000));
    await ledger.update("r2@example.com", 1, { state: "SUCCEEDED" }, new Date(T0 + 9000));
    // An internal item that (against every rule) carries the index keys: never listed.
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          email: { S: "#slot#0" },
          state: { S: "FAILED" },
          createdAt: { S: new Date(T0 + 500).toISOString() },
        },
      }),
    );
    return ledger.list();
  }

  /** The ledger over a client that records each call as `<command> <index or ->` before sending it. */
  function counted(tableName: string, calls: string[]): DynamoLedger {
    const recording = {
      send: (command: { constructor: { name: string }; input?: { IndexName?: string } }) => {
        calls.push(`${command.constructor.name.replace(/Command$/, "")} ${command.input?.IndexName ?? "-"}`);
        return client.send(command as never);
      },
    };
    return new DynamoLedger({ client: recording as unknown as DynamoDBClient, tableName });
  }

  it("reads a page with one Query of byStateCreatedAt per state asked for, never listing reserved items", async () => {
    const name = await table();
    const all = await populate(name);
    expect(all.map((r) => r.email)).to.deep.equal([0, 1, 2, 3, 4, 5].map((i) => `r${i}@example.com`));
    const calls: string[] = [];
    const ledger = counted(name, calls);
    const first = await listPage(ledger, { limit: 2 });
    expect(first.records).to.deep.equal(all.slice(0, 2));
    expect(calls).to.deep.equal(Array(11).fill("Query byStateCreatedAt"));
    calls.length = 0;
    const second = await listPage(ledger, { limit: 3, after: first.next! });
    expect(second.records).to.deep.equal(all.slice(2, 5));
    expect(calls).to.deep.equal(Array(11).fill("Query byStateCreatedAt"));
    calls.length = 0;
    const failed = await listPage(ledger, { limit: 1, states: ["FAILED"] });
    expect([failed.records.map((r) => r.email), calls]).to.deep.equal([["r1@example.com"], ["Query byStateCreatedAt"]]);
    calls.length = 0;
    const rest = await listPage(ledger, { limit: 1, states: ["FAILED"], after: failed.next! });
    expect([rest, calls]).to.deep.equal([{ records: [all[4]], next: null }, ["Query byStateCreatedAt"]]);
  });

  it("answers every page on a table deployed before byStateCreatedAt (byState or a Scan, cut in memory)", async () => {
    const legacy = await table(true);
    const all = await populate(legacy);
    const calls: string[] = [];
    const ledger = counted(legacy, calls);
    const first = await listPage(ledger, { limit: 4 });
    expect(first.records).to.deep.equal(all.slice(0, 4));
    // moto names the missing index differently from AWS (see moto-notes.md): both are recognised.
    expect(calls).to.deep.equal([...Array(11).fill("Query byStateCreatedAt"), "Scan -"]);
    calls.length = 0;
    // This ledger object remembers that the index is not there: later pages take the old path at once.
    expect(await listPage(ledger, { limit: 4, after: first.next! })).to.deep.equal({
      records: all.slice(4),
      next: null,
    });
    expect(calls).to.deep.equal(["Scan -"]);
    calls.length = 0;
    const failed = await listPage(ledger, { limit: 5, states: ["FAILED", "SUCCEEDED"] });
    expect(failed).to.deep.equal({ records: [all[1], all[2], all[4]], next: null });
    expect(calls).to.deep.equal(["Query byState", "Query byState"]);
    // A new object asks the index again (it may have been added since).
    calls.length = 0;
    await listPage(counted(legacy, calls), { limit: 1, states: ["FAILED"] });
    expect(calls).to.deep.equal(["Query byStateCreatedAt", "Query byState"]);
  });

  it("uses byStateCreatedAt once the deployed table is updated in place to add it (old records included)", async () => {
    const legacy = await table(true);
    const all = await populate(legacy);
    // What the platform stack's update does: add the attribute and the index to the existing table.
    const index = LEDGER_INDEXES.find((i) => i.name === LEDGER_TABLE.byStateCreatedAtIndex)!;
    await client.send(
      new UpdateTableCommand({
        TableName: legacy,
        AttributeDefinitions: [
          { AttributeName: "state", AttributeType: "S" },
          { AttributeName: "createdAt", AttributeType: "S" },
        ],
        GlobalSecondaryIndexUpdates: [
          {
            Create: {
              IndexName: index.name,
              KeySchema: [
                { AttributeName: index.hashKey, KeyType: "HASH" },
                { AttributeName: index.rangeKey!, KeyType: "RANGE" },
              ],
              Projection: { ProjectionType: "ALL" },
            },
          },
        ],
      }),
    );
    const { Table } = await client.send(new DescribeTableCommand({ TableName: legacy }));
    expect(Table?.GlobalSecondaryIndexes?.map((i) => [i.IndexName, i.IndexStatus]).sort()).to.deep.equal([
      ["byAccountId", "ACTIVE"],
      ["byRequestId", "ACTIVE"],
      ["byState", "ACTIVE"],
      ["byStateCreatedAt", "ACTIVE"],
    ]);
    const calls: string[] = [];
    const page = await listPage(counted(legacy, calls), { limit: 5 });
    expect(page.records).to.deep.equal(all.slice(0, 5));
    expect(calls).to.deep.equal(Array(11).fill("Query byStateCreatedAt"));
  });

  for (const [label, error] of [
    ["backfilling", "Cannot read from backfilling global secondary index: byStateCreatedAt"],
    ["missing in AWS", "The table does not have the specified index: byStateCreatedAt"],
  ] as const) {
    it(`falls back while the index is ${label} (ValidationException naming it) and rethrows any other failure`, async () => {
      const name = await table();
      const all = await populate(name);
      const failing = (message: string, errorName = "ValidationException") =>
        new DynamoLedger({
          client: {
            send: async (command: unknown) => {
              if (command instanceof QueryCommand && command.input.IndexName === LEDGER_TABLE.byStateCreatedAtIndex) {
                throw Object.assign(new Error(message), { name: errorName });
              }
              return client.send(command as never);
            },
          } as unknown as DynamoDBClient,
          tableName: name,
        });
      expect(await listPage(failing(error), { limit: 2, states: ["RECEIVED"] })).to.deep.equal({
        records: [all[0], all[3]],
        next: (await listPage(new DynamoLedger({ client, tableName: name }), { limit: 2, states: ["RECEIVED"] })).next,
      });
      const other = await failing("Query condition missed key schema element: state")
        .list({ limit: 2 })
        .catch((e: unknown) => e);
      expect(other).to.be.instanceOf(DynamoLedgerError);
      expect((other as Error).message).to.equal(
        `DynamoDB list for ${name} failed: ValidationException: Query condition missed key schema element: state`,
      );
      const throttled = await failing("Rate exceeded for byStateCreatedAt", "ProvisionedThroughputExceededException")
        .list({ limit: 2 })
        .catch((e: unknown) => e);
      expect(throttled).to.be.instanceOf(DynamoLedgerError);
    });
  }
});
