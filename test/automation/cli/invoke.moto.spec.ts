/**
 * `avm invoke` as a subprocess against moto: the hook's account id and email are checked with DescribeAccount
 * through the operator's credentials (the SDK's standard chain and `AWS_ENDPOINT_URL`), as the Lambda does
 * through the vending role; then the offline plan of that account reads the recorded tags.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { CreateAccountCommand, OrganizationsClient } from "@aws-sdk/client-organizations";
import { useMoto, type LocalOrganization } from "../../support/moto";
import { avm, cliEnv } from "./subprocess";
import { HANG_GUARD_MS } from "../../support/hangGuard";

describe("avm invoke against moto (subprocess)", function () {
  this.timeout(HANG_GUARD_MS);
  const moto = useMoto();
  let dir: string;
  let ledger: string;
  let org: LocalOrganization;
  let accountId: string;
  let env: NodeJS.ProcessEnv;
  const email = "awsexample+meshcloud.test-aws-integration@example.com";
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "avm-invoke-moto-"));
    ledger = path.join(dir, "ledger.sqlite");
    org = await moto.createOrganization();
    const client = new OrganizationsClient(moto.clientConfig());
    const created = await client.send(
      new CreateAccountCommand({ Email: email, AccountName: "meshcloud.test-aws-integration" }),
    );
    client.destroy();
    accountId = created.CreateAccountStatus!.AccountId!;
    env = cliEnv({
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
      AWS_REGION: "us-east-1",
    });
    delete env.AWS_PROFILE;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function hook(id: string): Record<string, string> {
    return {
      AccountName: "meshcloud.test-aws-integration",
      AccountEmail: email,
      AccountId: id,
      AccountArn: `arn:aws:organizations::${org.managementAccountId}:account/${org.organizationId}/${id}`,
      ProductName: "meshcloud",
      ContactEmail: "owner@example.com",
      Stage: "test-aws-integration",
      tagCostCenter: "1234",
      tagEnvironment: "dev",
    };
  }

  it("invokes the handler with --file, then with the same event on stdin (a no-op repeat); plan reads the tags", async () => {
    const file = path.join(dir, "hook.json");
    writeFileSync(file, JSON.stringify(hook(accountId)));
    const first = await avm(["invoke", "--file", file, "--ledger", ledger], { env });
    expect(first.code, first.stderr).to.equal(0);
    expect(first.stderr).to.equal("");
    const response = JSON.parse(first.stdout);
    expect(response).to.have.all.keys("requestId", "state");
    expect(response.state).to.equal("RECEIVED");
    const again = await avm(["invoke", "--json", "--ledger", ledger], { stdin: JSON.stringify(hook(accountId)), env });
    expect(again.code, again.stderr).to.equal(0);
    expect(JSON.parse(again.stdout)).to.deep.equal({ response, enqueued: 0, processed: null });

    const r = await avm(
      [
        "plan",
        accountId,
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
      ],
      { env },
    );
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.equal("");
    const plan = JSON.parse(r.stdout);
    expect(plan).to.include({ accountId, stackName: `account-${accountId}`, status: "planned" });
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

  it("refuses a hook whose account id and email do not match the organization's record (exit 2, nothing written)", async () => {
    const r = await avm(["invoke", "--ledger", ledger], {
      stdin: JSON.stringify({ ...hook(org.managementAccountId) }),
      env,
    });
    expect(r.code, r.stderr).to.equal(2);
    const message = `${org.managementAccountId} is the organization's management account; the AVM never manages it`;
    expect(JSON.parse(r.stdout)).to.deep.equal({
      error: {
        message: `refused meshStack hook payload: AccountId: ${message}`,
        issues: [{ field: "AccountId", message }],
      },
    });
    const other = await avm(["invoke", "--ledger", ledger], {
      stdin: JSON.stringify({ ...hook(accountId), AccountEmail: "someone-else@example.com" }),
      env,
    });
    expect(other.code, other.stderr).to.equal(2);
    expect(JSON.parse(other.stdout).error.issues).to.deep.equal([
      {
        field: "AccountEmail",
        message: `AccountId ${accountId} and AccountEmail someone-else@example.com do not match the organization's record of account ${accountId}`,
      },
    ]);
    expect(await avm(["list", "--json", "--ledger", ledger], { env })).to.deep.include({ code: 0 });
    const listed = JSON.parse((await avm(["list", "--json", "--ledger", ledger], { env })).stdout);
    expect(listed.count).to.equal(0);
  });
});
