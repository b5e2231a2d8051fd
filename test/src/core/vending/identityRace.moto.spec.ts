/**
 * Conflicting meshStack hooks arriving at the same time: two hooks for one account id under different emails, or
 * one email under different account ids, must never both be accepted. The intake's identity check reads before it
 * writes; the ledger's claim is the atomic guard (a transaction on an account-id key item in DynamoDB, a claim
 * under the write lock in SQLite). Proven on moto's DynamoDB and on a SQLite file, with the hooks racing.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { createLedgerTable, DynamoLedger } from "../../../../src/adapters/aws/dynamoLedger";
import { SqliteLedger } from "../../../../src/adapters/local/sqliteLedger";
import type { Ledger } from "../../../../src/core/ports";
import { acceptRequest } from "../../../../src/core/vending/intake";
import { RequestValidationError } from "../../../../src/core/vending/requestRules";
import { useMoto } from "../../../support/moto";
import { HANG_GUARD_MS } from "../../../support/hangGuard";

const hook = (email: string, accountId: string) => ({
  AccountName: `acct-${accountId}`,
  AccountEmail: email,
  AccountId: accountId,
  AccountArn: `arn:aws:organizations::111122223333:account/o-exampleorg1/${accountId}`,
  ProductName: "ws",
  ContactEmail: "owner@example.com",
  Stage: "dev",
});

/** Runs the hooks at the same time and sorts the outcomes into accepted and refused (anything else fails). */
async function race(ledger: Ledger, hooks: ReturnType<typeof hook>[]) {
  const enqueued: string[] = [];
  const deps = {
    ledger,
    queue: { enqueue: async (item: { email: string }) => void enqueued.push(item.email) },
    now: () => new Date(),
  };
  const results = await Promise.allSettled(hooks.map((h) => acceptRequest(h, deps)));
  const refused = results.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
  for (const reason of refused) expect(reason).to.be.instanceOf(RequestValidationError);
  return {
    accepted: results.filter((r) => r.status === "fulfilled").length,
    refused: refused.map((reason) => (reason as RequestValidationError).message),
    enqueued,
  };
}

function identityRaces(name: string, newLedger: () => Promise<Ledger>) {
  describe(name, () => {
    let ledger: Ledger;
    beforeEach(async () => {
      ledger = await newLedger();
    });
    afterEach(() => ledger.close());

    it("accepts exactly one of 10 hooks racing for one account id under different emails", async () => {
      const outcome = await race(
        ledger,
        Array.from({ length: 10 }, (_, i) => hook(`team-${i}@example.com`, "222233334444")),
      );
      expect([outcome.accepted, outcome.refused.length, outcome.enqueued.length]).to.deep.equal([1, 9, 1]);
      const records = await ledger.list();
      expect(records.map((r) => [r.email, r.accountId])).to.deep.equal([[outcome.enqueued[0], "222233334444"]]);
      for (const message of outcome.refused) {
        expect(message).to.equal(
          `invalid meshStack hook payload: AccountId: account 222233334444 is already recorded for ${outcome.enqueued[0]} ` +
            `(request ${records[0]!.requestId}), not ${message.match(/not (team-\d+@example\.com)$/)![1]}`,
        );
      }
    });

    it("accepts exactly one of 10 hooks racing for one email under different account ids", async () => {
      const outcome = await race(
        ledger,
        Array.from({ length: 10 }, (_, i) => hook("shared@example.com", String(300000000000 + i))),
      );
      expect([outcome.accepted, outcome.refused.length, outcome.enqueued]).to.deep.equal([
        1,
        9,
        ["shared@example.com"],
      ]);
      const records = await ledger.list();
      expect(records).to.have.length(1);
      for (const message of outcome.refused) {
        expect(message).to.match(
          new RegExp(
            `^invalid meshStack hook payload: AccountEmail: shared@example\\.com is already recorded for account ` +
              `${records[0]!.accountId} \\(request ${records[0]!.requestId}\\), not 30000000000\\d$`,
          ),
        );
      }
    });
  });
}

describe("conflicting hooks at the same time", function () {
  this.timeout(HANG_GUARD_MS);
  const moto = useMoto();
  let client: DynamoDBClient | undefined;
  let tables = 0;
  after(() => client?.destroy());

  identityRaces("DynamoLedger on moto", async () => {
    client ??= new DynamoDBClient(moto.clientConfig());
    tables += 1;
    await createLedgerTable(client, `race-${tables}`);
    return new DynamoLedger({ client, tableName: `race-${tables}` });
  });

  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "avm-identity-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  identityRaces(
    "SqliteLedger (WAL file)",
    async () => new SqliteLedger({ path: path.join(dir, `l-${tables++}.sqlite`) }),
  );
});
