import { expect } from "chai";
import { accessRolePermissionsPolicy, accessRoleTrustPolicy } from "../../src/policies/accessRole";
import { installPulumiMocks, PROGRAM_PATH, runProgram } from "../support/pulumiMocks";

const STACK = "account-222233334444";
const BASE_CONFIG = {
  "aws:region": "eu-central-1",
  "meshstack-avm:managementAccountId": "111122223333",
  "meshstack-avm:automationAccountId": "444455556666",
  "meshstack-avm:accountId": "222233334444",
};

const ACCESS_ROLE_RESOURCES: [string, string][] = [
  ["avm:access:AccountAccessRole", "access-role"],
  ["avm:iam:LeastPrivilegeRole", "access-role"],
  ["aws:iam/role:Role", "access-role-role"],
  ["aws:iam/rolePoliciesExclusive:RolePoliciesExclusive", "access-role-inline-policies"],
  ["aws:iam/rolePolicy:RolePolicy", "access-role-permissions"],
  ["aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive", "access-role-managed-policies"],
];

describe("src/index.ts as an account stack (Pulumi mocks)", () => {
  it("deploys only the access role into the managed account through the bootstrap role", async () => {
    const recorder = await installPulumiMocks({ stack: STACK, config: BASE_CONFIG });
    const outputs = await runProgram(PROGRAM_PATH);
    expect(recorder.inventory()).to.deep.equal([...ACCESS_ROLE_RESOURCES, ["pulumi:providers:aws", "managed-account"]]);
    expect(outputs).to.deep.include({
      stackKind: "account",
      accessRoleArn: "arn:aws:iam::222233334444:role/MeshstackAccountAccessRole",
      accessRoleName: "MeshstackAccountAccessRole",
      entryPointArn: undefined,
      vendingRoleArn: undefined,
      guardrails: undefined,
    });
    const provider = recorder.one("pulumi:providers:aws", "managed-account").inputs;
    expect([
      provider["region"],
      JSON.parse(provider["allowedAccountIds"]),
      JSON.parse(provider["assumeRoles"]),
    ]).to.deep.equal([
      "eu-central-1",
      ["222233334444"],
      [{ roleArn: "arn:aws:iam::222233334444:role/OrganizationAccountAccessRole", sessionName: "meshstack-avm" }],
    ]);
    expect(provider).not.to.have.property("defaultTags");
    expect(
      recorder.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:")).map((r) => r.provider),
    ).to.deep.equal(["managed-account", "managed-account", "managed-account", "managed-account"]);
    expect(recorder.invokes).to.deep.equal([
      { token: "aws:index/getPartition:getPartition", inputs: {}, provider: "managed-account" },
    ]);
    expect(recorder.json("aws:iam/role:Role", "access-role-role", "assumeRolePolicy")).to.deep.equal(
      accessRoleTrustPolicy({ partition: "aws", managementAccountId: "111122223333" }),
    );
    expect(recorder.json("aws:iam/rolePolicy:RolePolicy", "access-role-permissions", "policy")).to.deep.equal(
      accessRolePermissionsPolicy({
        partition: "aws",
        accountId: "222233334444",
        region: "eu-central-1",
        automationAccountId: "444455556666",
        samlProviderName: "meshstack-saml-idp",
      }),
    );
  });

  it("adds the baseline, default tags, a custom bootstrap role and the secret external id when configured", async () => {
    const recorder = await installPulumiMocks({
      stack: STACK,
      config: {
        ...BASE_CONFIG,
        "meshstack-avm:externalId": "ext-123",
        "meshstack-avm:bootstrapRoleName": "CustomBootstrap",
        "meshstack-avm:accountAlias": "acme-dev",
        "meshstack-avm:alternateContacts": JSON.stringify({
          operations: { name: "Ops", title: "SRE", emailAddress: "ops@example.com", phoneNumber: "+49 1" },
        }),
        "meshstack-avm:tags": JSON.stringify({ CostCenter: "1234" }),
      },
      secretKeys: ["meshstack-avm:externalId"],
    });
    await runProgram(PROGRAM_PATH);
    expect(recorder.inventory()).to.deep.equal([
      ["avm:access:AccountAccessRole", "access-role"],
      ["avm:access:AccountBaseline", "baseline"],
      ["avm:iam:LeastPrivilegeRole", "access-role"],
      ["aws:account/alternativeContact:AlternativeContact", "baseline-contact-operations"],
      ["aws:iam/accountAlias:AccountAlias", "baseline-alias"],
      ["aws:iam/role:Role", "access-role-role"],
      ["aws:iam/rolePoliciesExclusive:RolePoliciesExclusive", "access-role-inline-policies"],
      ["aws:iam/rolePolicy:RolePolicy", "access-role-permissions"],
      ["aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive", "access-role-managed-policies"],
      ["pulumi:providers:aws", "managed-account"],
    ]);
    const provider = recorder.one("pulumi:providers:aws", "managed-account").inputs;
    expect([JSON.parse(provider["assumeRoles"]), JSON.parse(provider["defaultTags"])]).to.deep.equal([
      [{ roleArn: "arn:aws:iam::222233334444:role/CustomBootstrap", sessionName: "meshstack-avm" }],
      { tags: { CostCenter: "1234" } },
    ]);
    const role = recorder.one("aws:iam/role:Role", "access-role-role");
    expect(role.secretInputs).to.deep.equal(["assumeRolePolicy"]);
    expect(recorder.json("aws:iam/role:Role", "access-role-role", "assumeRolePolicy")).to.deep.equal(
      accessRoleTrustPolicy({ partition: "aws", managementAccountId: "111122223333", externalId: "ext-123" }),
    );
    expect(
      recorder.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:providers:")).map((r) => r.accountId),
    )
      .to.have.length(6)
      .and.satisfy((ids: string[]) => ids.every((id) => id === "222233334444"));
  });

  it("fails with the config error, naming the key, before registering anything", async () => {
    const recorder = await installPulumiMocks({
      stack: STACK,
      config: { ...BASE_CONFIG, "meshstack-avm:accountId": "999988887777" },
    });
    try {
      await runProgram(PROGRAM_PATH);
      expect.fail("runProgram did not throw");
    } catch (error) {
      expect((error as Error).message).to.equal(
        'meshstack-avm:accountId must equal the account id in the stack name "account-222233334444" ("222233334444"), got "999988887777"',
      );
    }
    expect(recorder.resources).to.deep.equal([]);
  });
});
