/**
 * `avm status` costs a fixed number of AWS calls whatever the size of the organization (the timing figures are in
 * `bench/status.ts`; here only call counts, which are exact): one GetItem by email, one index Query by account id
 * or request id (the indexes project every attribute, so a hit is not re-read), and never an Organizations call.
 * Checked with 1 and 60 accounts in moto.
 */
import { expect } from "chai";
import { CreateAccountCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { run } from "../../automation/cli/main";
import { DynamoLedger, createLedgerTable } from "../../src/adapters/aws/dynamoLedger";
import { countCalls as counted } from "../support/countCalls";
import { useMoto } from "../support/moto";
import { HANG_GUARD_MS } from "../support/hangGuard";

const TABLE = "avm-ledger";

describe("avm status cost does not grow with the organization (moto)", function () {
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
    const config = moto.clientConfig();
    let stdout = "";
    let stderr = "";
    const code = await run(
      ["status", ...flags, "--ledger-table", TABLE, "--json"],
      {
        stdout: { write: (s: string) => (stdout += s) },
        stderr: { write: (s: string) => (stderr += s) },
        stdin: "",
        env: { AWS_REGION: "us-east-1" },
        cwd: process.cwd(),
      },
      {
        openLedger: async () => {
          const client = counted(new DynamoDBClient(config), calls);
          const ledger = new DynamoLedger({ client, tableName: TABLE });
          return {
            claim: ledger.claim.bind(ledger),
            get: ledger.get.bind(ledger),
            getByRequestId: ledger.getByRequestId.bind(ledger),
            getByAccountId: ledger.getByAccountId.bind(ledger),
            list: ledger.list.bind(ledger),
            update: ledger.update.bind(ledger),
            close: async () => client.destroy(),
          };
        },
        organizationsClient: () => counted(new OrganizationsClient(config), calls),
      },
    );
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
});
