/**
 * `avm status` costs a fixed number of AWS calls whatever the size of the organization (the timing figures are in
 * `bench/status.ts`; here only call counts, which are exact): one GetItem by email, one index Query by account id
 * or request id (the indexes project every attribute, so a hit is not re-read), and never an Organizations call.
 * Checked with 1 and 60 accounts in moto, and with 10,000 records in the ledger.
 */
import { expect } from "chai";
import { CreateAccountCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { BatchWriteItemCommand, DynamoDBClient, ScanCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { createRecord } from "../../src/core/ledgerRecords";
import { DynamoLedger, createLedgerTable } from "../../src/adapters/aws/dynamoLedger";
import { runCliCountingCalls } from "../support/countCalls";
import { useMoto } from "../support/moto";
import { HANG_GUARD_MS } from "../support/hangGuard";

const TABLE = "avm-ledger";

describe("avm status cost does not grow with the organization or the ledger (moto)", function () {
  this.timeout(HANG_GUARD_MS);
  const moto = useMoto();

  async function populate(n: number): Promise<{ email: string; accountId: string; requestId: string }> {
    await moto.createOrganization();
    const config = moto.clientConfig();
    const dynamo = new DynamoDBClient(config);
    const organizations = new OrganizationsClient(config);
    await createLedgerTable(dynamo, TABLE);
    const ledger = new DynamoLedger({ client: dynamo, tableName: TABLE });
    let middle = { email: "", accountId: "", requestId: "" };
    for (let i = 0; i < n; i++) {
      const email = `cost-${i}@example.com`;
      const created = await organizations.send(new CreateAccountCommand({ Email: email, AccountName: `cost-${i}` }));
      const accountId = created.CreateAccountStatus!.AccountId!;
      await ledger.claim(
        { email, requestId: `req-${i}`, kind: "vend", request: { accountName: `cost-${i}`, email }, accountId },
        new Date(),
      );
      if (i === Math.floor(n / 2)) middle = { email, accountId, requestId: `req-${i}` };
    }
    dynamo.destroy();
    organizations.destroy();
    return middle;
  }

  async function callsOfStatus(flags: string[]): Promise<string[]> {
    const calls: string[] = [];
    const { code, stdout, stderr } = await runCliCountingCalls(moto.clientConfig(), TABLE, ["status", ...flags], calls);
    expect(code, stderr).to.equal(0);
    expect(JSON.parse(stdout)).to.have.nested.property("record.email");
    return calls;
  }

  for (const n of [1, 60]) {
    it(`makes the same calls with ${n} account(s) in the organization`, async () => {
      const target = await populate(n);
      expect([
        await callsOfStatus(["--email", target.email]),
        await callsOfStatus(["--account-id", target.accountId]),
        await callsOfStatus(["--request-id", target.requestId]),
      ]).to.deep.equal([["GetItem"], ["Query"], ["Query"]]);
    });
  }

  it("makes the same calls with 10,000 records in the ledger", async () => {
    const target = await populate(1);
    // 10,000 more records, written 25 at a time (BatchWriteItem) as the ledger stores them.
    const dynamo = new DynamoDBClient(moto.clientConfig());
    try {
      const now = new Date("2026-01-01T00:00:00.000Z");
      for (let batch = 0; batch < 400; batch++) {
        const items = Array.from({ length: 25 }, (_, i) => {
          const n = batch * 25 + i;
          const email = `row-${n}@example.com`;
          const record = createRecord(
            {
              email,
              requestId: `row-req-${n}`,
              kind: "vend",
              request: { accountName: `row-${n}`, email },
              accountId: String(500_000_000_000 + n),
              state: n % 2 === 0 ? "SUCCEEDED" : "FAILED",
            },
            now,
          );
          return { PutRequest: { Item: marshall(record, { removeUndefinedValues: true }) } };
        });
        await dynamo.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: items } }));
      }
      let count = 0;
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await dynamo.send(
          // Records only: the ledger's internal items (#account#<id> keys of claims with an account id) start with #.
          new ScanCommand({
            TableName: TABLE,
            Select: "COUNT",
            FilterExpression: "NOT begins_with(#email, :reserved)",
            ExpressionAttributeNames: { "#email": "email" },
            ExpressionAttributeValues: { ":reserved": { S: "#" } },
            ExclusiveStartKey: start,
          }),
        );
        count += page.Count ?? 0;
        start = page.LastEvaluatedKey;
      } while (start);
      expect(count).to.equal(10_001);
    } finally {
      dynamo.destroy();
    }
    expect([
      await callsOfStatus(["--email", target.email]),
      await callsOfStatus(["--account-id", target.accountId]),
      await callsOfStatus(["--request-id", target.requestId]),
      await callsOfStatus(["--email", "row-7777@example.com"]),
      await callsOfStatus(["--account-id", "500000000007"]),
    ]).to.deep.equal([["GetItem"], ["Query"], ["Query"], ["GetItem"], ["Query"]]);
  });
});
