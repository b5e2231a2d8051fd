/**
 * The built CLI as a subprocess: `node bin/avm.js` (the `bin` entry of package.json) with Node 22 first on
 * PATH. It runs the compiled CLI (dist/cli/main.js), built on first run when missing.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { avm } from "./subprocess";
import { HANG_GUARD_MS } from "../../support/hangGuard";

describe("avm as a subprocess (node bin/avm.js)", function () {
  this.timeout(HANG_GUARD_MS);
  let dir: string;
  let ledger: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "avm-bin-"));
    ledger = path.join(dir, "ledger.sqlite");
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("prints help on stdout and exits 0", async () => {
    const r = await avm(["--help"]);
    expect(r.code).to.equal(0);
    expect(r.stderr).to.equal("");
    expect(r.stdout).to.match(/^Usage: avm \[options\] \[command\]\n/);
    expect(r.stdout).to.include("Example:\n  $ avm vend");
  });

  it("exits 2 with exactly one line on stderr for a usage error", async () => {
    expect(await avm(["vend", "--account-name", "x", "--email", "nope"])).to.deep.equal({
      code: 2,
      stdout: "",
      stderr: "avm: error: invalid vend request: --email: must be 6 to 64 characters long\n",
    });
  });

  it("exits 1 with one line when status finds nothing (and no SQLite warning leaks)", async () => {
    expect(await avm(["status", "--email", "nobody@example.com", "--ledger", ledger])).to.deep.equal({
      code: 1,
      stdout: "",
      stderr: `avm: error: no request found for email nobody@example.com in ledger ${ledger}\n`,
    });
  });

  it("invokes the AVMEntryPoint handler with --file, then with the same event on stdin (a no-op repeat)", async () => {
    const hook = {
      AccountName: "meshcloud.test-aws-integration",
      AccountEmail: "awsexample+meshcloud.test-aws-integration@example.com",
      AccountId: "222233334444",
      AccountArn: "arn:aws:organizations::111122223333:account/o-exampleorg1/222233334444",
      ProductName: "meshcloud",
      ContactEmail: "owner@example.com",
      Stage: "test-aws-integration",
      tagCostCenter: "1234",
      tagEnvironment: "dev",
    };
    const file = path.join(dir, "hook.json");
    writeFileSync(file, JSON.stringify(hook));
    const first = await avm(["invoke", "--file", file, "--ledger", ledger]);
    expect(first.code, first.stderr).to.equal(0);
    expect(first.stderr).to.equal("");
    const response = JSON.parse(first.stdout);
    expect(response).to.have.all.keys("requestId", "state");
    expect(response.state).to.equal("RECEIVED");
    const again = await avm(["invoke", "--json", "--ledger", ledger], { stdin: JSON.stringify(hook) });
    expect(again.code, again.stderr).to.equal(0);
    expect(JSON.parse(again.stdout)).to.deep.equal({ response, enqueued: 0, processed: null });
  });

  it("plans an account stack offline: resources, policies and the IAM catalog check, without credentials", async () => {
    const r = await avm([
      "plan",
      "222233334444",
      "--json",
      "--quiet",
      "--ledger",
      ledger,
      "--management-account-id",
      "111122223333",
      "--automation-account-id",
      "444455556666",
      "--region",
      "eu-central-1",
    ]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.equal("");
    const plan = JSON.parse(r.stdout);
    expect(plan).to.include({ accountId: "222233334444", stackName: "account-222233334444", status: "planned" });
    const types = plan.resources.map((x: { type: string }) => x.type);
    expect(types).to.include.members(["pulumi:providers:aws", "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"]);
    const permissions = plan.policies.find(
      (p: { name: string }) => p.name === "MeshstackAccountAccessRole/permissions",
    );
    const actions = permissions.document.Statement.flatMap((s: { Action: string | string[] }) => s.Action);
    expect(actions).to.have.members([
      "iam:GetRole",
      "iam:ListRoles",
      "iam:ListSAMLProviders",
      "iam:GetSAMLProvider",
      "iam:UpdateSAMLProvider",
      "lambda:InvokeFunction",
    ]);
    expect(plan.catalogCheck.policies).to.equal(plan.policies.length);
    // The tags of the ledger record the hook above wrote reach the stack config (the provider's default tags).
    const provider = plan.resources.find((x: { type: string }) => x.type === "pulumi:providers:aws");
    expect(provider.inputs.defaultTags).to.deep.equal({ tags: { CostCenter: "1234", Environment: "dev" } });
  });
});
