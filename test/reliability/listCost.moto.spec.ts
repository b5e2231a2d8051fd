/**
 * `avm list` costs a fixed number of DynamoDB calls per page whatever the size of the ledger (call counts, which
 * are exact, never times): one Query of the `byStateCreatedAt` index per state asked for (the 11 request states
 * without `--state`), never a Scan, never an Organizations call. Checked with 1 record and with 10,000.
 */
import { expect } from "chai";
import { BatchWriteItemCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { REQUEST_STATES, type LedgerRecord, type RequestState } from "../../src/core/ledger";
import { createRecord, encodeListCursor, selectRecords } from "../../src/core/ledgerRecords";
import { type ListJson } from "../../automation/cli/commands/list";
import { createLedgerTable } from "../../src/adapters/aws/dynamoLedger";
import { runCliCountingCalls } from "../support/countCalls";
import { useMoto } from "../support/moto";
import { HANG_GUARD_MS } from "../support/hangGuard";

const TABLE = "avm-ledger";
const T0 = Date.parse("2026-01-01T00:00:00.000Z");
/** The states the rows are spread over (a quarter each). */
const SPREAD: readonly RequestState[] = ["SUCCEEDED", "FAILED", "PLANNED", "BOOTSTRAPPING"];

describe("avm list cost per page does not grow with the ledger (moto)", function () {
  this.timeout(HANG_GUARD_MS);
  const moto = useMoto();

  /** Writes `n` records (row-<i>, one millisecond apart, states per {@link SPREAD}), 25 per BatchWriteItem. */
  async function populate(n: number): Promise<LedgerRecord[]> {
    const dynamo = new DynamoDBClient(moto.clientConfig());
    try {
      await createLedgerTable(dynamo, TABLE);
      const records = Array.from({ length: n }, (_, i) => {
        const email = `row-${i}@example.com`;
        return createRecord(
          {
            email,
            requestId: `row-req-${i}`,
            kind: "vend",
            request: { accountName: `row-${i}`, email },
            state: SPREAD[i % 4],
          },
          new Date(T0 + i),
        );
      });
      for (let start = 0; start < n; start += 25) {
        const items = records.slice(start, start + 25).map((record) => ({
          PutRequest: { Item: marshall(record, { removeUndefinedValues: true }) },
        }));
        await dynamo.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: items } }));
      }
      return records;
    } finally {
      dynamo.destroy();
    }
  }

  /** Runs `avm list <flags> --json` on the table; the output and every AWS call it made. */
  async function list(flags: string[]): Promise<{ json: ListJson; calls: string[] }> {
    const calls: string[] = [];
    const { code, stdout, stderr } = await runCliCountingCalls(moto.clientConfig(), TABLE, ["list", ...flags], calls);
    expect(code, stderr).to.equal(0);
    return { json: JSON.parse(stdout) as ListJson, calls };
  }

  const emails = (json: ListJson) => json.records.map((record) => record.email);
  const states = Array(REQUEST_STATES.length).fill("Query");

  it("makes one Query per state with 1 record", async () => {
    const [only] = await populate(1);
    const page = await list(["--limit", "50"]);
    expect([emails(page.json), page.json.next, page.calls]).to.deep.equal([[only!.email], null, states]);
    const failed = await list(["--state", "SUCCEEDED", "--limit", "50"]);
    expect([failed.json.count, failed.calls]).to.deep.equal([1, ["Query"]]);
  });

  it("makes the same calls per page with 10,000 records, and the pages are the ledger's first records", async () => {
    const records = await populate(10_000);
    const first = await list(["--limit", "50"]);
    expect(emails(first.json)).to.deep.equal(records.slice(0, 50).map((r) => r.email));
    expect([first.json.next, first.calls]).to.deep.equal([encodeListCursor(records[49]!), states]);
    const second = await list(["--limit", "50", "--after", first.json.next!]);
    expect(emails(second.json)).to.deep.equal(records.slice(50, 100).map((r) => r.email));
    expect(second.calls).to.deep.equal(states);
    // A page in the middle of the ledger, within two states.
    const middle = encodeListCursor(records[5_000]!);
    const failed = await list(["--state", "FAILED,PLANNED", "--limit", "100", "--after", middle]);
    const expected = selectRecords(records, { states: ["FAILED", "PLANNED"], after: middle, limit: 100 });
    expect([emails(failed.json), failed.json.next]).to.deep.equal([
      expected.map((r) => r.email),
      encodeListCursor(expected[99]!),
    ]);
    expect(failed.calls).to.deep.equal(["Query", "Query"]);
    // The default page (100 records) and the last page.
    const byDefault = await list([]);
    expect([byDefault.json.count, byDefault.calls]).to.deep.equal([100, states]);
    const last = await list(["--limit", "10", "--after", encodeListCursor(records[9_994]!)]);
    expect([emails(last.json), last.json.next, last.calls]).to.deep.equal([
      records.slice(9_995).map((r) => r.email),
      null,
      states,
    ]);
  });
});
