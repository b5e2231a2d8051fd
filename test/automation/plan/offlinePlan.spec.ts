/**
 * The offline plan runs the real program (`src/index.ts`) under the mock runtime in a CHILD process, so this
 * plain unit spec never installs mocks in the shared mocha process.
 */
import { expect } from "chai";
import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { AutomationConfigError } from "../../../automation/errors";
import {
  OfflinePlanError,
  OfflinePlanRunner,
  planAccountStack,
  planPlatformStack,
} from "../../../automation/plan/offlinePlan";
import { suggestedScps } from "../../../src/policies/guardrailScps";
import { deploymentsRolePermissionsPolicy, deploymentsRoleTrustPolicy } from "../../../src/policies/deploymentsRole";
import { meshfedServicePolicy } from "../../../src/policies/meshfedServicePolicy";
import type { AccountStackSettings } from "../../../automation/stacks/stackConfig";
import { HANG_GUARD_MS } from "../../support/hangGuard";
import { rejection } from "../../support/rejection";
import { ensureCliBundle, OUT } from "../../../scripts/cliBundle.cjs";

const settings: AccountStackSettings = {
  managementAccountId: "111122223333",
  automationAccountId: "444455556666",
  region: "eu-central-1",
  externalId: "ext-plan-secret-9",
};

/** The platform stack config every platform plan here starts from; each test adds the keys it is about. */
const PLATFORM_CONFIG = {
  "aws:region": "eu-central-1",
  "meshstack-avm:managementAccountId": "111122223333",
  "meshstack-avm:automationAccountId": "444455556666",
  "meshstack-avm:organizationId": "o-exampleorg1",
};

describe("offline plan", function () {
  this.timeout(HANG_GUARD_MS);

  it("renders the account stack's resources and policies, checks the IAM catalog and masks the external id", async () => {
    const runner = new OfflinePlanRunner(settings);
    const result = await runner.deploy({
      accountId: "222233334444",
      accountName: "team-a",
      email: "team-a@example.com",
      requestId: "req-1",
      tags: { CostCenter: "1234" },
    });
    expect(result).to.deep.equal({
      status: "planned",
      stackName: "account-222233334444",
      summary:
        "planned offline (no pulumi CLI; nothing deployed): 4 AWS resources, 2 IAM policies, IAM catalog check passed for 7 actions",
    });
    const plan = runner.plans.get("222233334444");
    expect(plan?.resources.map((r) => [r.type, r.name, r.provider ?? null])).to.deep.equal([
      ["pulumi:providers:aws", "managed-account", null],
      ["avm:access:AccountAccessRole", "access-role", null],
      ["avm:iam:LeastPrivilegeRole", "access-role", null],
      ["aws:iam/role:Role", "access-role-role", "managed-account"],
      [
        "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
        "access-role-managed-policies",
        "managed-account",
      ],
      ["aws:iam/rolePolicy:RolePolicy", "access-role-permissions", "managed-account"],
      ["aws:iam/rolePoliciesExclusive:RolePoliciesExclusive", "access-role-inline-policies", "managed-account"],
    ]);
    expect(plan?.resources[0]?.inputs).to.deep.equal({
      allowedAccountIds: ["222233334444"],
      assumeRoles: [
        { roleArn: "arn:aws:iam::222233334444:role/OrganizationAccountAccessRole", sessionName: "meshstack-avm" },
      ],
      defaultTags: { tags: { CostCenter: "1234" } },
      region: "eu-central-1",
      skipCredentialsValidation: "false",
      skipRegionValidation: "true",
    });
    expect(plan?.policies).to.deep.equal([
      {
        name: "MeshstackAccountAccessRole/trust",
        resource: "access-role-role",
        document: {
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "TrustMeshfedService",
              Effect: "Allow",
              Principal: { AWS: "arn:aws:iam::111122223333:user/meshfed-service" },
              Action: "sts:AssumeRole",
              Condition: { StringEquals: { "sts:ExternalId": "[secret]" } },
            },
          ],
        },
      },
      {
        name: "MeshstackAccountAccessRole/permissions",
        resource: "access-role-permissions",
        document: {
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "ReadRolesAndSamlProviders",
              Effect: "Allow",
              Action: ["iam:GetRole", "iam:ListRoles", "iam:ListSAMLProviders", "iam:GetSAMLProvider"],
              Resource: "*",
            },
            {
              Sid: "UpdateMeshstackSamlProvider",
              Effect: "Allow",
              Action: "iam:UpdateSAMLProvider",
              Resource: "arn:aws:iam::222233334444:saml-provider/meshstack-saml-idp",
            },
            {
              Sid: "InvokeAvmEntryPoint",
              Effect: "Allow",
              Action: "lambda:InvokeFunction",
              Resource: "arn:aws:lambda:eu-central-1:444455556666:function:AVMEntryPoint",
            },
          ],
        },
      },
    ]);
    expect(plan?.catalogCheck).to.deep.equal({ policies: 2, actions: 7 });
    expect(plan?.resources.find((r) => r.name === "access-role-role")?.secretInputs).to.deep.equal([
      "assumeRolePolicy",
    ]);
    expect(JSON.stringify(plan)).to.not.include("ext-plan-secret-9");
  });

  it("plans the same stack with long-lived planners (compiled dist/cli/planChild.js) as with a single plan", async () => {
    // The CLI bundle is fresh here (the suite builds it), so the pool runs the compiled planner, which defers the
    // closure-serialisation packages and captures no stack traces; a single plan runs src/index.ts through tsx.
    expect(ensureCliBundle()).to.equal(OUT);
    const request = { accountId: "222233334444", tags: { CostCenter: "1234", Team: "a b" } };
    const single = await planAccountStack(request, settings);
    const pooled = new OfflinePlanRunner(settings, { planners: 1 });
    try {
      await pooled.deploy({ ...request, accountName: "team-a", email: "team-a@example.com", requestId: "req-1" });
      await pooled.deploy({
        ...request,
        accountId: "555566667777",
        accountName: "b",
        email: "b@x.io",
        requestId: "r2",
      });
    } finally {
      await pooled.close();
    }
    expect(pooled.plans.get("222233334444")).to.deep.equal(single);
    expect(pooled.plans.get("555566667777")?.stackName).to.equal("account-555566667777");
  });

  it("rejects invalid settings with the program's own message before starting a child", async () => {
    const error = await rejection(
      planAccountStack({ accountId: "222233334444" }, { ...settings, accessRoleName: "OrganizationAccountAccessRole" }),
    );
    expect(error).to.be.instanceOf(AutomationConfigError);
    expect(error.message).to.equal(
      "meshstack-avm:accessRoleName must not be OrganizationAccountAccessRole: AWS Organizations creates that admin " +
        "role in every new account; choose another name (default MeshstackAccountAccessRole)",
    );
  });

  it("fails, naming the policy and the action, when a component's IAM catalog check fails (never a plan without that policy)", async () => {
    // A copy of the repository whose program declares a role with a misspelled action: the component's catalog check
    // fails inside an apply, which the runtime reports as an unhandled rejection only after the microtasks drain.
    const repo = path.resolve(__dirname, "..", "..", "..");
    const copy = mkdtempSync(path.join(tmpdir(), "avm-plan-typo-"));
    try {
      cpSync(path.join(repo, "src"), path.join(copy, "src"), { recursive: true });
      cpSync(path.join(repo, "automation"), path.join(copy, "automation"), { recursive: true });
      symlinkSync(path.join(repo, "node_modules"), path.join(copy, "node_modules"));
      writeFileSync(
        path.join(copy, "src", "index.ts"),
        [
          'import { LeastPrivilegeRole } from "./components/leastPrivilegeRole";',
          'new LeastPrivilegeRole("typo", {',
          '  roleName: "Typo",',
          '  description: "a role whose policy has a misspelled action",',
          '  trustPolicy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }] },',
          '  permissionsPolicy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObjct", Resource: "*" }] },',
          "});",
          "",
        ].join("\n"),
      );
      const error = await rejection(
        planAccountStack({ accountId: "222233334444" }, settings, { repoRoot: copy, timeoutMs: 120_000 }),
      );
      expect(error).to.be.instanceOf(OfflinePlanError);
      expect(error.message).to.match(
        /^offline plan of account-222233334444 failed: .*policy "Typo\/permissions": unknown IAM action "s3:GetObjct"$/,
      );
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it("reports a child that cannot run the program as OfflinePlanError, without the secret", async () => {
    const empty = mkdtempSync(path.join(tmpdir(), "avm-plan-"));
    try {
      const error = await rejection(
        planAccountStack({ accountId: "222233334444" }, settings, { repoRoot: empty, timeoutMs: 60_000 }),
      );
      expect(error).to.be.instanceOf(OfflinePlanError);
      expect(error.message).to.match(/^offline plan of account-222233334444 did not complete: /);
      expect(error.message).to.not.include("ext-plan-secret-9");
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("renders the platform stack with meshStack's principal policy, attached, under the IAM catalog check", async () => {
    const plan = await planPlatformStack(
      "dev",
      {
        ...PLATFORM_CONFIG,
        "meshstack-avm:meshfedServicePolicy": "attach",
        "meshstack-avm:webhookSecret": "whsec-plan-secret-0123",
      },
      ["meshstack-avm:webhookSecret"],
    );
    expect(plan.policies.find((p) => p.name === "MeshfedServicePolicy")).to.deep.equal({
      name: "MeshfedServicePolicy",
      resource: "meshfed-service-policy-policy",
      document: meshfedServicePolicy({
        partition: "aws",
        managementAccountId: "111122223333",
        organizationId: "o-exampleorg1",
        automationAccountId: "444455556666",
        accessRoleName: "MeshstackAccountAccessRole",
        bootstrapRoleName: "OrganizationAccountAccessRole",
      }),
    });
    const attachment = plan.resources.find((r) => r.name === "meshfed-service-policy-attachment");
    expect([
      attachment?.type,
      attachment?.provider,
      attachment?.inputs["user"],
      attachment?.inputs["policyArn"],
    ]).to.deep.equal([
      "aws:iam/userPolicyAttachment:UserPolicyAttachment",
      "management",
      "meshfed-service",
      "arn:aws:iam::111122223333:policy/MeshfedServicePolicy",
    ]);
    // 4 roles x (trust + permissions) + the principal policy, every action in the IAM catalog.
    expect(plan.catalogCheck.policies).to.equal(9);
    expect(JSON.stringify(plan)).to.not.include("whsec-plan-secret-0123");
  });

  it("renders the guardrail SCPs and their attachments when guardrailTargets is set", async () => {
    const plan = await planPlatformStack(
      "dev",
      {
        ...PLATFORM_CONFIG,
        "meshstack-avm:guardrailTargets": '["ou-ab12-cd34ef56"]',
      },
      [],
    );
    const names = {
      accessRoleName: "MeshstackAccountAccessRole",
      samlProviderName: "meshstack-saml-idp",
      bootstrapRoleName: "OrganizationAccountAccessRole",
      automationAccountId: "444455556666",
    };
    expect(plan.policies.filter((p) => p.name.startsWith("scp/"))).to.deep.equal(
      suggestedScps(names).map((scp) => ({
        name: `scp/${scp.name}`,
        resource: `guardrails-${scp.name}`,
        document: scp.document,
      })),
    );
    const attachments = plan.resources.filter((r) => r.type === "aws:organizations/policyAttachment:PolicyAttachment");
    expect(attachments.map((r) => [r.provider, r.inputs["targetId"]])).to.deep.equal([
      ["management", "ou-ab12-cd34ef56"],
      ["management", "ou-ab12-cd34ef56"],
      ["management", "ou-ab12-cd34ef56"],
    ]);
    // 3 roles x (trust + permissions) + the vending role's 2 + the 3 SCPs, every action in the IAM catalog.
    expect(plan.catalogCheck.policies).to.equal(11);
  });

  it("renders the Deployments OIDC provider and AVMDeploymentsRole in the management account with deploymentsOidc", async () => {
    const plan = await planPlatformStack(
      "dev",
      {
        ...PLATFORM_CONFIG,
        "meshstack-avm:pulumiOrganization": "acme",
        "meshstack-avm:deploymentsOidc": "true",
      },
      [],
    );
    const provider = plan.resources.find((r) => r.type === "aws:iam/openIdConnectProvider:OpenIdConnectProvider");
    expect([provider?.name, provider?.provider, provider?.inputs]).to.deep.equal([
      "deployments-role-provider",
      "management",
      { url: "https://api.pulumi.com/oidc", clientIdLists: ["acme"] },
    ]);
    expect(plan.policies.filter((p) => p.name.startsWith("AVMDeploymentsRole/"))).to.deep.equal([
      {
        name: "AVMDeploymentsRole/trust",
        resource: "deployments-role-role",
        document: deploymentsRoleTrustPolicy({
          providerArn: "arn:aws:iam::111122223333:oidc-provider/api.pulumi.com/oidc",
          pulumiOrganization: "acme",
          project: "meshstack-avm",
        }),
      },
      {
        name: "AVMDeploymentsRole/permissions",
        resource: "deployments-role-permissions",
        document: deploymentsRolePermissionsPolicy({
          partition: "aws",
          managementAccountId: "111122223333",
          organizationId: "o-exampleorg1",
          bootstrapRoleName: "OrganizationAccountAccessRole",
        }),
      },
    ]);
    // 5 roles x (trust + permissions), every action in the IAM catalog.
    expect(plan.catalogCheck.policies).to.equal(10);
  });
});
