import { expect } from "chai";
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { DynamoCreateSlots } from "../../../../src/adapters/aws/dynamoCreateSlots";
import { createLedgerTable, DynamoLedger } from "../../../../src/adapters/aws/dynamoLedger";
import { useMoto } from "../../../support/moto";
import { createSlotsContract } from "../../../support/contracts/createSlotsContract";
import { HANG_GUARD_MS } from "../../../support/hangGuard";

describe("DynamoCreateSlots on moto", function () {
  this.timeout(HANG_GUARD_MS);
  const moto = useMoto();
  let client: DynamoDBClient;
  before(() => {
    client = new DynamoDBClient(moto.clientConfig());
  });
  after(() => client.destroy());

  createSlotsContract("DynamoCreateSlots", async (options) => {
    await createLedgerTable(client, "slots");
    return new DynamoCreateSlots({ client, tableName: "slots", ...options });
  });

  it("keeps slots as #slot#<n> lease items that the ledger does not list", async () => {
    await createLedgerTable(client, "ledger");
    const now = () => new Date("2026-01-01T00:00:00Z");
    const slots = new DynamoCreateSlots({ client, tableName: "ledger", slots: 2, leaseMs: 1_000, now });
    const ledger = new DynamoLedger({ client, tableName: "ledger" });
    await ledger.claim({ email: "a@example.com", requestId: "req-a", kind: "vend", request: {} }, now());
    expect(await slots.acquire("req-a")).to.equal(true);
    const items = (await client.send(new ScanCommand({ TableName: "ledger" }))).Items!.map((item) => unmarshall(item));
    expect(items.filter((item) => String(item["email"]).startsWith("#"))).to.deep.equal([
      {
        email: "#slot#0",
        owner: "req-a",
        leaseUntil: Date.parse("2026-01-01T00:00:01Z"),
        acquiredAt: "2026-01-01T00:00:00.000Z",
      },
    ]);
    expect((await ledger.list()).map((record) => record.email)).to.deep.equal(["a@example.com"]);
    expect(await ledger.list({ states: ["RECEIVED"] })).to.have.length(1);
  });
});
