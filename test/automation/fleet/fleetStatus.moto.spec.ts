/**
 * `avm fleet status` against moto with 100 member accounts: every class, exact Organizations call counts (pages of
 * ListAccounts for the whole organization; per OU visited, pages of ListAccountsForParent and
 * ListOrganizationalUnitsForParent), one stack output read per active account with a stack.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import {
  CloseAccountCommand,
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  MoveAccountCommand,
  OrganizationsClient,
} from "@aws-sdk/client-organizations";
import { run } from "../../../automation/cli/main";
import { AccountStacks } from "../../../automation/stacks/accountStacks";
import type { AccountStackSettings } from "../../../automation/stacks/stackConfig";
import { programVersion } from "../../../src/shared/deploymentStamp";
import { SqliteLedger } from "../../../src/adapters/local/sqliteLedger";
import { countCalls, tally } from "../../support/countCalls";
import { HANG_GUARD_MS } from "../../support/hangGuard";
import { useMoto } from "../../support/moto";
import { RecordingEngine } from "../../support/recordingEngine";
import { RecordingTiming } from "../../support/recordingTiming";

const AUTOMATION = "444455556666";
const GONE = "999999999999";

describe("avm fleet status (moto, 100 accounts)", function () {
  this.timeout(HANG_GUARD_MS);
  const moto = useMoto();
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "avm-fleet-status-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  interface Fleet {
    readonly ids: string[];
    readonly managementAccountId: string;
    readonly ouId: string;
    readonly engine: RecordingEngine;
    readonly ledgerPath: string;
  }

  /**
   * 100 accounts: 0-59 stack current, 60-64 stack from an older program, 65-69 stack with other settings, 70-74
   * ledger FAILED without stack, 75 stack without outputs, 76 closed with a stack, 77-99 no stack; a stack for
   * an account the organization never had. Accounts 50-79 in the OU, 80-89 in an OU under it.
   */
  async function populate(): Promise<Fleet> {
    const org = await moto.createOrganization();
    const client = new OrganizationsClient(moto.clientConfig());
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) {
      const out = await client.send(
        new CreateAccountCommand({ Email: `fleet-${i}@example.com`, AccountName: `fleet-${i}` }),
      );
      ids.push(out.CreateAccountStatus!.AccountId!);
    }
    const nested = await client.send(new CreateOrganizationalUnitCommand({ ParentId: org.ouId, Name: "Nested" }));
    for (let i = 50; i < 90; i++) {
      const target = i < 80 ? org.ouId : nested.OrganizationalUnit!.Id!;
      await client.send(
        new MoveAccountCommand({ AccountId: ids[i]!, SourceParentId: org.rootId, DestinationParentId: target }),
      );
    }
    await client.send(new CloseAccountCommand({ AccountId: ids[76]! }));
    client.destroy();

    const ledgerPath = path.join(dir, "ledger.sqlite");
    const ledger = new SqliteLedger({ path: ledgerPath });
    const now = new Date("2026-12-01T00:00:00Z");
    for (let i = 0; i < 77; i++) {
      const email = `fleet-${i}@example.com`;
      const tags = { CostCenter: String(1000 + i) };
      const { record } = await ledger.claim(
        {
          email,
          requestId: `req-${i}`,
          kind: "vend",
          request: { accountName: `fleet-${i}`, email, tags },
          accountId: ids[i]!,
        },
        now,
      );
      const failed = i >= 70 && i < 75;
      await ledger.update(
        email,
        record.version,
        failed ? { state: "FAILED", failureReason: "CreateAccount said no" } : { state: "SUCCEEDED" },
        now,
      );
    }
    await ledger.close();

    const settings: AccountStackSettings = {
      managementAccountId: org.managementAccountId,
      automationAccountId: AUTOMATION,
      region: "us-east-1",
    };
    const engine = new RecordingEngine();
    engine.stampUp = true;
    engine.outputLines = [];
    const stacks = new AccountStacks({ engine, settings, timing: new RecordingTiming() });
    const tagsOf = (i: number) => ({ CostCenter: String(1000 + i) });
    for (let i = 0; i < 60; i++) await stacks.deploy({ accountId: ids[i]!, tags: tagsOf(i) });
    engine.stampVersion = "0.0.1+0123456789ab";
    for (let i = 60; i < 65; i++) await stacks.deploy({ accountId: ids[i]!, tags: tagsOf(i) });
    engine.stampVersion = programVersion();
    const older = new AccountStacks({ engine, settings: { ...settings, accessRoleName: "OldAccessRole" } });
    for (let i = 65; i < 70; i++) await older.deploy({ accountId: ids[i]!, tags: tagsOf(i) });
    await stacks.ensure({ accountId: ids[75]!, tags: tagsOf(75) });
    engine.stacks.get(`account-${ids[75]}`)!.outputs = {};
    await stacks.deploy({ accountId: ids[76]!, tags: tagsOf(76) });
    await stacks.deploy({ accountId: GONE });
    engine.calls.length = 0;
    return { ids, managementAccountId: org.managementAccountId, ouId: org.ouId, engine, ledgerPath };
  }

  async function status(fleet: Fleet, extra: string[]) {
    const calls: string[] = [];
    let stdout = "";
    let stderr = "";
    const code = await run(
      [
        "--ledger",
        fleet.ledgerPath,
        "--json",
        "fleet",
        "status",
        "--management-account-id",
        fleet.managementAccountId,
        "--automation-account-id",
        AUTOMATION,
        ...extra,
      ],
      {
        stdout: { write: (s: string) => (stdout += s) },
        stderr: { write: (s: string) => (stderr += s) },
        stdin: "",
        env: { AWS_REGION: "us-east-1" },
        cwd: dir,
      },
      {
        organizationsClient: () => countCalls(new OrganizationsClient(moto.clientConfig()), calls),
        pulumiEngine: async () => fleet.engine,
        hasPulumiCli: () => true,
        timing: new RecordingTiming(),
      },
    );
    expect(code, stderr).to.equal(0);
    return { json: JSON.parse(stdout), calls: tally(calls), stderr };
  }

  it("classifies the whole organization with DescribeOrganization and the pages of ListAccounts", async () => {
    const fleet = await populate();
    const { json, calls } = await status(fleet, []);
    // 101 accounts (100 members + the management account), moto pages ListAccounts by 100.
    expect(calls).to.deep.equal({ DescribeOrganization: 1, ListAccounts: 2 });
    expect(json.totals).to.deep.equal({
      "managed-current": 60,
      "managed-outdated": 10,
      "no-stack": 23,
      "stack-without-account": 2,
      failed: 6,
    });
    expect(json.accounts).to.have.length(101);
    expect(json.accounts.map((a: { accountId: string }) => a.accountId)).to.not.include(fleet.managementAccountId);
    const byId = new Map(json.accounts.map((a: { accountId: string }) => [a.accountId, a]));
    const id = (i: number) => fleet.ids[i]!;
    const current = programVersion();
    expect(byId.get(id(0))).to.deep.include({
      class: "managed-current",
      detail: `program ${current}`,
      ledgerState: "SUCCEEDED",
    });
    expect(byId.get(id(60))).to.deep.include({
      class: "managed-outdated",
      detail: `program 0.0.1+0123456789ab -> ${current}`,
    });
    expect(byId.get(id(65))).to.deep.include({ class: "managed-outdated", detail: "config changed" });
    expect(byId.get(id(70))).to.deep.include({
      class: "failed",
      detail: "request req-70 FAILED: CreateAccount said no",
      stackName: null,
    });
    expect(byId.get(id(75))).to.deep.include({
      class: "failed",
      detail: "stack has no outputs: its update never finished",
    });
    expect(byId.get(id(76))).to.deep.include({ class: "stack-without-account", accountStatus: "SUSPENDED" });
    expect(byId.get(GONE)).to.deep.include({
      class: "stack-without-account",
      detail: "account not in the organization",
      accountStatus: null,
    });
    expect(byId.get(id(99))).to.deep.include({ class: "no-stack", detail: "not managed by the AVM", stackName: null });
    // One output read per active account with a stack (0-69 and 75), one stack listing, nothing else.
    const engineCalls = tally(fleet.engine.calls.map((c) => c.method));
    expect(engineCalls).to.deep.equal({ listStacks: 1, outputs: 71 });
  });

  it("limits the scope to an OU and the OUs under it with ListAccountsForParent and ListOrganizationalUnitsForParent pages", async () => {
    const fleet = await populate();
    const { json, calls } = await status(fleet, ["--ou", fleet.ouId]);
    // OU: 30 accounts = 2 pages of 20, 1 page of child OUs; nested OU: 10 accounts = 1 page, 1 page of child OUs.
    // The OU id given is checked once (DescribeOrganizationalUnit) before any listing.
    expect(calls).to.deep.equal({
      DescribeOrganization: 1,
      DescribeOrganizationalUnit: 1,
      ListAccountsForParent: 3,
      ListOrganizationalUnitsForParent: 2,
    });
    expect(json.ous).to.deep.equal([fleet.ouId]);
    expect(json.totals).to.deep.equal({
      "managed-current": 10,
      "managed-outdated": 10,
      "no-stack": 13,
      "stack-without-account": 1,
      failed: 6,
    });
    expect(json.accounts.map((a: { accountId: string }) => a.accountId)).to.deep.equal(fleet.ids.slice(50, 90).sort());
  });
});
