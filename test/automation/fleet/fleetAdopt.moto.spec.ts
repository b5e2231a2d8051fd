/**
 * `avm fleet adopt` against moto with 100 accounts that existed before the AVM: ledger records of kind `adopted`,
 * one account stack each, never CreateAccount, exact Organizations call counts (pages only, nothing per account
 * without completion tags), idempotent on a second run, refusals of the management account, a managed account and
 * an account outside the organization.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import {
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  ListTagsForResourceCommand,
  MoveAccountCommand,
  OrganizationsClient,
} from "@aws-sdk/client-organizations";
import type { CliDeps } from "../../../automation/cli/main";
import { AccountStacks } from "../../../automation/stacks/accountStacks";
import { LocalAccountStackRunner } from "../../../automation/stacks/localAccountStackRunner";
import { SqliteLedger } from "../../../src/adapters/local/sqliteLedger";
import { countCalls, tally } from "../../support/countCalls";
import { useMoto } from "../../support/moto";
import { RecordingEngine } from "../../support/recordingEngine";
import { RecordingTiming } from "../../support/recordingTiming";
import { AUTOMATION, runAvm } from "./fleetFixture";
import { HANG_GUARD_MS } from "../../support/hangGuard";

describe("avm fleet adopt (moto, 100 accounts)", function () {
  this.timeout(HANG_GUARD_MS);
  const moto = useMoto();
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "avm-fleet-adopt-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("adopts every account of an OU and the OU under it, once, with page-bounded Organizations calls", async () => {
    const org = await moto.createOrganization();
    const client = new OrganizationsClient(moto.clientConfig());
    const nested = await client.send(new CreateOrganizationalUnitCommand({ ParentId: org.ouId, Name: "Legacy" }));
    const ids: string[] = [];
    for (let i = 0; i < 103; i++) {
      const out = await client.send(
        new CreateAccountCommand({ Email: `Legacy-${i}@Example.com`, AccountName: `legacy-${i}` }),
      );
      const id = out.CreateAccountStatus!.AccountId!;
      ids.push(id);
      // 0-69 in the OU, 70-99 in the OU under it, 100 (vended by the AVM) in the OU, 101-102 stay at the root.
      if (i < 101) {
        const target = i >= 70 && i < 100 ? nested.OrganizationalUnit!.Id! : org.ouId;
        await client.send(
          new MoveAccountCommand({ AccountId: id, SourceParentId: org.rootId, DestinationParentId: target }),
        );
      }
    }
    const ledgerPath = path.join(dir, "ledger.sqlite");
    const seed = new SqliteLedger({ path: ledgerPath });
    await seed.claim(
      {
        email: "legacy-100@example.com",
        requestId: "vend-100",
        kind: "vend",
        request: { accountName: "legacy-100", email: "legacy-100@example.com", tags: {} },
        accountId: ids[100]!,
        state: "SUCCEEDED",
      },
      new Date(),
    );
    await seed.close();

    const engine = new RecordingEngine();
    engine.outputLines = [];
    const calls: string[] = [];
    const deps: Partial<CliDeps> = {
      organizationsClient: () => countCalls(new OrganizationsClient(moto.clientConfig()), calls),
      hasPulumiCli: () => true,
      timing: new RecordingTiming(),
      localStackRunner: async (settings) =>
        new LocalAccountStackRunner(new AccountStacks({ engine, settings, timing: new RecordingTiming() })),
    };
    const adopt = (...args: string[]) =>
      runAvm(
        [
          "--ledger",
          ledgerPath,
          "--json",
          "fleet",
          "adopt",
          "--runner",
          "local",
          "--management-account-id",
          org.managementAccountId,
          "--automation-account-id",
          AUTOMATION,
          ...args,
        ],
        deps,
        { cwd: dir },
      );

    const first = await adopt("--ou", org.ouId);
    expect(first.code, first.stderr).to.equal(0);
    const json = JSON.parse(first.stdout);
    expect(json.counts).to.deep.equal({ adopted: 100, resumed: 0, skipped: 0, refused: 1, failed: 0 });
    expect(json.accounts.find((a: { accountId: string }) => a.accountId === ids[100])).to.deep.include({
      action: "refuse",
      reason: "already managed by the AVM (vend request vend-100, SUCCEEDED)",
    });
    // OU: 71 accounts = 4 pages of 20; the OU under it: 30 = 2 pages; one page of child OUs each. Nothing per account.
    expect(tally(calls)).to.deep.equal({
      DescribeOrganization: 1,
      DescribeOrganizationalUnit: 1,
      ListAccountsForParent: 6,
      ListOrganizationalUnitsForParent: 2,
    });
    const ups = engine.calls.filter((c) => c.method === "up").map((c) => c.stackName);
    expect(ups.length).to.equal(100);
    expect(new Set(ups)).to.deep.equal(new Set(ids.slice(0, 100).map((id) => `account-${id}`)));

    const ledger = new SqliteLedger({ path: ledgerPath });
    const records = await ledger.list();
    await ledger.close();
    const adopted = records.filter((r) => r.kind === "adopted");
    expect(adopted).to.have.length(100);
    expect(adopted.every((r) => r.state === "SUCCEEDED" && r.createAccountRequestId === undefined)).to.equal(true);
    const sample = adopted.find((r) => r.accountId === ids[7])!;
    expect([sample.email, sample.requestId, sample.history.map((h) => h.state)]).to.deep.equal([
      "legacy-7@example.com",
      `adopt-${ids[7]}`,
      ["RECEIVED", "TAGGING", "BOOTSTRAPPING", "COMPLETING", "SUCCEEDED"],
    ]);

    // Idempotent: the same call again adopts nothing and deploys nothing.
    calls.length = 0;
    engine.calls.length = 0;
    const again = await adopt("--ou", org.ouId);
    expect(again.code, again.stderr).to.equal(0);
    expect(JSON.parse(again.stdout).counts).to.deep.equal({
      adopted: 0,
      resumed: 0,
      skipped: 100,
      refused: 1,
      failed: 0,
    });
    expect(engine.calls.filter((c) => c.method === "up")).to.deep.equal([]);

    // Refusals with --accounts: nothing is written when one account is refused.
    for (const [id, reason] of [
      [org.managementAccountId, "the organization's management account is never managed"],
      [ids[100]!, "already managed by the AVM (vend request vend-100, SUCCEEDED)"],
      ["999999999999", "not a member account of this organization"],
    ] as const) {
      const refused = await adopt("--accounts", `${ids[101]},${id}`);
      expect(refused.code).to.equal(1);
      expect(refused.stderr).to.equal(`avm: error: refusing to adopt: ${id} (${reason}); nothing was changed\n`);
    }
    expect(engine.calls.filter((c) => c.method === "up")).to.deep.equal([]);

    // Completion tags only when asked: one TagResource per account, plus the full ListAccounts listing.
    calls.length = 0;
    const tagged = await adopt("--accounts", `${ids[101]},${ids[102]}`, "--product-name", "ws-a", "--stage", "prod");
    expect(tagged.code, tagged.stderr).to.equal(0);
    expect(JSON.parse(tagged.stdout).counts).to.deep.equal({
      adopted: 2,
      resumed: 0,
      skipped: 0,
      refused: 0,
      failed: 0,
    });
    expect(tally(calls)).to.deep.equal({ DescribeOrganization: 1, ListAccounts: 2, TagResource: 2 });
    const tags = await client.send(new ListTagsForResourceCommand({ ResourceId: ids[101]! }));
    expect(tags.Tags).to.deep.equal([
      { Key: "ProductName", Value: "ws-a" },
      { Key: "Stage", Value: "prod" },
    ]);
    const untagged = await client.send(new ListTagsForResourceCommand({ ResourceId: ids[5]! }));
    expect(untagged.Tags).to.deep.equal([]);
    client.destroy();
  });
});
